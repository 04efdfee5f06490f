// Engine tests: the decoder forward pass against transformers, sessions, generation.
