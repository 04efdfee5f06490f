// BART and MarianMT encoder-decoders: weight names and Hugging Face conversion.
// Follows transformers' modeling_bart.py and modeling_marian.py. llama.cpp has neither: the names are its "t5"
// words for the same parts (enc./dec. stacks, attn_o, cross_attn_*) and its BERT words for post-LayerNorm blocks;
// the keys are llama.cpp's where it has one, else Swiftlet's (formats/TENSORS-seq2seq.md). The forward pass comes
// later.

import Quant
import TensorFile

public enum BARTWeights {
    public enum Name {  // the only place these strings are spelled
        public typealias S = Seq2SeqStack
        public static let embedding = "token_embd.weight"
        public static let output = "output.weight"
        public static let outputBias = "output.bias"
        /// BART's learned positions, row p for position p (Marian's are sinusoids, not stored).
        public static func positions(_ s: S) -> String { "\(s.rawValue).position_embd.weight" }
        public static func embeddingNorm(_ s: S, _ part: String) -> String { "\(s.rawValue).token_embd_norm.\(part)" }
        public static func attnQ(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).attn_q.\(part)" }
        public static func attnK(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).attn_k.\(part)" }
        public static func attnV(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).attn_v.\(part)" }
        public static func attnO(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).attn_o.\(part)" }
        public static func attnOutputNorm(_ s: S, _ l: Int, _ part: String) -> String {
            "\(s.rawValue).blk.\(l).attn_output_norm.\(part)"
        }
        public static func crossAttnQ(_ l: Int, _ part: String) -> String { "dec.blk.\(l).cross_attn_q.\(part)" }
        public static func crossAttnK(_ l: Int, _ part: String) -> String { "dec.blk.\(l).cross_attn_k.\(part)" }
        public static func crossAttnV(_ l: Int, _ part: String) -> String { "dec.blk.\(l).cross_attn_v.\(part)" }
        public static func crossAttnO(_ l: Int, _ part: String) -> String { "dec.blk.\(l).cross_attn_o.\(part)" }
        public static func crossAttnOutputNorm(_ l: Int, _ part: String) -> String { "dec.blk.\(l).cross_attn_output_norm.\(part)" }
        public static func ffnUp(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).ffn_up.\(part)" }
        public static func ffnDown(_ s: S, _ l: Int, _ part: String) -> String { "\(s.rawValue).blk.\(l).ffn_down.\(part)" }
        public static func layerOutputNorm(_ s: S, _ l: Int, _ part: String) -> String {
            "\(s.rawValue).blk.\(l).layer_output_norm.\(part)"
        }
    }
}

public enum BART {
    /// What tells BART and Marian apart in the checkpoint.
    enum Family {
        case bart    // learned positions with offset 2, a LayerNorm after the embeddings
        case marian  // sinusoidal positions computed at load, no embedding norm

        var architecture: String { self == .bart ? "bart" : "marian" }
    }

    /// Hugging Face BartForConditionalGeneration → GGUF "bart".
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        try conversion(c, names, .bart)
    }

    /// Hugging Face MarianMTModel → GGUF "marian".
    @Sendable static func marianConversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        guard try c.bool("share_encoder_decoder_embeddings", default: true) else {
            throw .unsupported("a Marian model with separate source and target vocabularies (share_encoder_decoder_embeddings false)")
        }
        return try conversion(c, names, .marian)
    }

    static func conversion(_ c: HFConfig, _ names: Set<String>, _ family: Family) throws(ModelError) -> HFConversion {
        let a = family.architecture
        let dim = try c.count("d_model"), vocab = try c.count("vocab_size"), positions = try c.count("max_position_embeddings")
        if c.has("decoder_vocab_size"), try c.int("decoder_vocab_size") != vocab {
            throw .unsupported("a decoder_vocab_size other than vocab_size")
        }
        // Per stack: blocks, heads, FFN width.
        var shape: [Seq2SeqStack: (layers: Int, heads: Int, ff: Int)] = [:]
        for s in Seq2SeqStack.allCases {
            let half = s == .encoder ? "encoder" : "decoder"
            let heads = try c.count("\(half)_attention_heads")
            guard dim % heads == 0 else {
                throw .config(key: "\(half)_attention_heads", reason: "\(heads) does not divide d_model \(dim)")
            }
            shape[s] = (try c.count("\(half)_layers"), heads, try c.count("\(half)_ffn_dim"))
        }
        guard let start = c.json["decoder_start_token_id"]?.int, start >= 0 else {
            throw .config(key: "decoder_start_token_id", reason: "missing")
        }
        let scale = try c.bool("scale_embedding", default: false) ? Float(Double(dim).squareRoot()) : 1

        let metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.vocabSize(a), .uint32(UInt32(vocab))),
            (MetadataKey.contextLength(a), .uint32(UInt32(positions))),
            (MetadataKey.embeddingLength(a), .uint32(UInt32(dim))),
            (MetadataKey.blockCount(a), .uint32(UInt32(shape[.encoder]!.layers))),
            (MetadataKey.decoderBlockCount(a), .uint32(UInt32(shape[.decoder]!.layers))),
            (MetadataKey.feedForwardLength(a), .uint32(UInt32(shape[.encoder]!.ff))),
            (MetadataKey.decoderFeedForwardLength(a), .uint32(UInt32(shape[.decoder]!.ff))),
            (MetadataKey.headCount(a), .uint32(UInt32(shape[.encoder]!.heads))),
            (MetadataKey.decoderHeadCount(a), .uint32(UInt32(shape[.decoder]!.heads))),
            (MetadataKey.layerNormEpsilon(a), .float32(1e-5)),  // nn.LayerNorm's default; the config has none
            (MetadataKey.hiddenActivation(a), .string(c.string("activation_function") ?? "gelu")),
            (MetadataKey.embeddingScale(a), .float32(scale)),
            // transformers 5 runs both post-LayerNorm whatever an old config's normalize_before says.
            (MetadataKey.normalizeBefore(a), .bool(false)),
            (MetadataKey.decoderStartTokenID(a), .uint32(UInt32(start))),
        ]

        typealias N = BARTWeights.Name
        let embeddings = ["model.shared.weight", "model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"]
        guard let embedding = embeddings.first(where: names.contains) else { throw .missingTensor("model.shared.weight") }
        var t = [TensorSource(N.embedding, from: embedding, shape: [vocab, dim])]
        func linear(_ name: (String) -> String, _ source: String, rows: Int, cols: Int) {
            t.append(TensorSource(name("weight"), from: source + ".weight", shape: [rows, cols]))
            t.append(TensorSource(name("bias"), from: source + ".bias", shape: [rows]))
        }
        func norm(_ name: (String) -> String, _ source: String) {
            t.append(TensorSource(name("weight"), from: source + ".weight", shape: [dim]))
            t.append(TensorSource(name("bias"), from: source + ".bias", shape: [dim]))
        }
        for s in Seq2SeqStack.allCases {
            let half = s == .encoder ? "encoder" : "decoder", p = "model.\(half).", ff = shape[s]!.ff
            if family == .bart {
                // Position p reads row p + 2; the two rows before are never read and are left out.
                t.append(TensorSource(N.positions(s), from: p + "embed_positions.weight", shape: [positions + 2, dim], .dropRows(2)))
                norm({ N.embeddingNorm(s, $0) }, p + "layernorm_embedding")
            }
            for l in 0..<shape[s]!.layers {
                let h = "\(p)layers.\(l)."
                linear({ N.attnQ(s, l, $0) }, h + "self_attn.q_proj", rows: dim, cols: dim)
                linear({ N.attnK(s, l, $0) }, h + "self_attn.k_proj", rows: dim, cols: dim)
                linear({ N.attnV(s, l, $0) }, h + "self_attn.v_proj", rows: dim, cols: dim)
                linear({ N.attnO(s, l, $0) }, h + "self_attn.out_proj", rows: dim, cols: dim)
                norm({ N.attnOutputNorm(s, l, $0) }, h + "self_attn_layer_norm")
                if s == .decoder {
                    linear({ N.crossAttnQ(l, $0) }, h + "encoder_attn.q_proj", rows: dim, cols: dim)
                    linear({ N.crossAttnK(l, $0) }, h + "encoder_attn.k_proj", rows: dim, cols: dim)
                    linear({ N.crossAttnV(l, $0) }, h + "encoder_attn.v_proj", rows: dim, cols: dim)
                    linear({ N.crossAttnO(l, $0) }, h + "encoder_attn.out_proj", rows: dim, cols: dim)
                    norm({ N.crossAttnOutputNorm(l, $0) }, h + "encoder_attn_layer_norm")
                }
                linear({ N.ffnUp(s, l, $0) }, h + "fc1", rows: ff, cols: dim)
                linear({ N.ffnDown(s, l, $0) }, h + "fc2", rows: dim, cols: ff)
                norm({ N.layerOutputNorm(s, l, $0) }, h + "final_layer_norm")
            }
        }
        // final_logits_bias is a buffer (1, vocab) added to the logits; checkpoints without one mean zeros.
        if names.contains("final_logits_bias") {
            t.append(TensorSource(N.outputBias, from: "final_logits_bias", shape: [1, vocab], .reshape([vocab])))
        }
        let tied = try c.bool("tie_word_embeddings", default: true)
        if !tied {
            guard names.contains("lm_head.weight") else { throw .missingTensor("lm_head.weight (tie_word_embeddings is false)") }
            t.append(TensorSource(N.output, from: "lm_head.weight", shape: [vocab, dim]))
        }
        return HFConversion(architecture: a, metadata: metadata, tensors: t) { name in
            (embeddings.contains(name) && name != embedding) || (tied && name == "lm_head.weight")
                || (family == .marian && name.hasSuffix(".embed_positions.weight"))  // older checkpoints store the sinusoids
        }
    }
}
