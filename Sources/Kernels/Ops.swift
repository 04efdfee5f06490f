// Element-wise and row kernels of the forward pass: norms, RoPE, activations, softmax, residual adds.
