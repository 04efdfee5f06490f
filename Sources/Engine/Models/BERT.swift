// BERT-family encoders (BERT, RoBERTa, DistilBERT) and their task heads: weight names and Hugging Face conversion.
// Follows transformers' modeling_bert.py, modeling_roberta.py and modeling_distilbert.py. The body's names and keys
// are llama.cpp's "bert", which covers all three (convert_hf_to_gguf.py BertModel, RobertaModel, DistilBertModel);
// the heads llama.cpp has no names for are Swiftlet's (formats/TENSORS-encoders.md). The forward pass is
// Encoder.swift's, which ALBERT shares. Registered in Registry.swift.

import Kernels
import Quant
import TensorFile

public enum BERTWeights {
    public enum Name {  // the only place these strings are spelled; ALBERT uses them too
        public static let embedding = "token_embd.weight"
        public static let tokenTypes = "token_types.weight"
        public static let positions = "position_embd.weight"
        public static func embeddingNorm(_ part: String) -> String { "token_embd_norm.\(part)" }
        public static func attnQ(_ l: Int, _ part: String) -> String { "blk.\(l).attn_q.\(part)" }
        public static func attnK(_ l: Int, _ part: String) -> String { "blk.\(l).attn_k.\(part)" }
        public static func attnV(_ l: Int, _ part: String) -> String { "blk.\(l).attn_v.\(part)" }
        public static func attnOutput(_ l: Int, _ part: String) -> String { "blk.\(l).attn_output.\(part)" }
        public static func attnOutputNorm(_ l: Int, _ part: String) -> String { "blk.\(l).attn_output_norm.\(part)" }
        public static func ffnUp(_ l: Int, _ part: String) -> String { "blk.\(l).ffn_up.\(part)" }
        public static func ffnDown(_ l: Int, _ part: String) -> String { "blk.\(l).ffn_down.\(part)" }
        public static func layerOutputNorm(_ l: Int, _ part: String) -> String { "blk.\(l).layer_output_norm.\(part)" }
        /// Dense and activation on the first token (llama.cpp's "cls"): BERT's and ALBERT's pooler, RoBERTa's
        /// classifier.dense, DistilBERT's pre_classifier.
        public static func pooler(_ part: String) -> String { "cls.\(part)" }
        /// Sequence classification on the pooled token (llama.cpp's "cls.output").
        public static func classifier(_ part: String) -> String { "cls.output.\(part)" }
        public static func nextSentence(_ part: String) -> String { "cls.nsp.\(part)" }
        public static func sentenceOrder(_ part: String) -> String { "cls.sop.\(part)" }
        /// Token classification: labels for every token.
        public static func tokenClassifier(_ part: String) -> String { "cls.token.\(part)" }
        /// Question answering: start and end logits for every token.
        public static func span(_ part: String) -> String { "cls.qa.\(part)" }
        public static func mlmDense(_ part: String) -> String { "mlm.dense.\(part)" }
        public static func mlmNorm(_ part: String) -> String { "mlm.norm.\(part)" }
        /// The masked-LM decoder: its weight only when not tied to token_embd, its bias always.
        public static func output(_ part: String) -> String { "output.\(part)" }
    }
}

public enum BERT {
    static let architecture = "bert"
    static let entry = ArchitectureEntry(
        name: architecture,
        conversions: ["BertModel", "BertForMaskedLM", "BertForPreTraining", "BertForNextSentencePrediction",
                      "BertForSequenceClassification", "BertForTokenClassification", "BertForQuestionAnswering"]
            .map { ($0, conversion) }
            + ["RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification", "RobertaForTokenClassification",
               "RobertaForQuestionAnswering"].map { ($0, robertaConversion) }
            + ["DistilBertModel", "DistilBertForMaskedLM", "DistilBertForSequenceClassification",
               "DistilBertForTokenClassification", "DistilBertForQuestionAnswering"].map { ($0, distilBERTConversion) },
        load: { (r) throws(ModelError) in .encoder(try load(r)) }, keepsFloat: keepsFloat)

    /// Learned position and token-type tables stay F32, as llama.cpp's converter keeps them.
    @Sendable static func keepsFloat(_ name: String) -> Bool {
        name.hasSuffix("position_embd.weight") || name.hasPrefix("token_types.")
    }
    typealias N = BERTWeights.Name

    /// Binds a "bert" file's body and heads, checked against its hyperparameters.
    static func load(_ r: WeightReader) throws(ModelError) -> Encoder {
        let a = architecture
        let s = try shape(r, a, embeddingWidth: nil, layers: nil)
        let layers = try (0..<s.layers).map { (l) throws(ModelError) in try layer(r, l, s) }
        return try Encoder(r, architecture: a, shape: s,
                           weights: try embeddings(r, s, projection: nil, layers: layers, steps: (0..<s.layers).map { [$0] }))
    }

    /// The sizes in an encoder file's keys and tables: `embeddingWidth` and `layers` when they are not the
    /// hidden width and the block count (ALBERT).
    static func shape(_ r: WeightReader, _ a: String, embeddingWidth: Int?, layers: Int?) throws(ModelError) -> EncoderShape {
        typealias K = MetadataKey
        guard !(try r.bool(K.causalAttention(a), default: false)) else {
            throw .unsupported("a causal '\(a)' model (\(K.causalAttention(a)) is true)")
        }
        let dim = try r.count(K.embeddingLength(a)), heads = try r.count(K.headCount(a))
        try checkHeads(dim, heads, key: K.headCount(a))
        guard let table = r.file.info(N.embedding)?.shape, table.count == 2 else { throw .missingTensor(N.embedding) }
        let types = r.file.info(N.tokenTypes)?.shape.last ?? 1
        if r.file.contains(K.tokenTypeCount), try r.count(K.tokenTypeCount) != types {
            throw .config(key: K.tokenTypeCount, reason: "\(try r.count(K.tokenTypeCount)), but '\(N.tokenTypes)' has \(types) rows")
        }
        var blocks = layers ?? 0
        if layers == nil { blocks = try r.layerCount(K.blockCount(a)) }
        let s = EncoderShape(dim: dim, layers: blocks, heads: heads,
                             ff: try r.count(K.feedForwardLength(a)), vocab: table[1],
                             positions: try r.count(K.contextLength(a)), tokenTypes: types,
                             embeddingWidth: embeddingWidth ?? dim, normEps: try r.positive(K.layerNormEpsilon(a), default: 1e-12))
        if r.file.contains(K.vocabSize(a)), try r.count(K.vocabSize(a)) != s.vocab {
            throw .shape(tensor: N.embedding, expected: [s.embeddingWidth, try r.count(K.vocabSize(a))], found: table)
        }
        return s
    }

    /// Stored block l.
    static func layer(_ r: WeightReader, _ l: Int, _ s: EncoderShape) throws(ModelError) -> EncoderWeights.Layer {
        let d = s.dim
        return EncoderWeights.Layer(
            q: try Linear(r, { N.attnQ(l, $0) }, rows: d, cols: d, wideActivations: true), k: try Linear(r, { N.attnK(l, $0) }, rows: d, cols: d, wideActivations: true),
            v: try Linear(r, { N.attnV(l, $0) }, rows: d, cols: d, wideActivations: true), o: try Linear(r, { N.attnOutput(l, $0) }, rows: d, cols: d, wideActivations: true),
            attnNorm: try Norm(r, { N.attnOutputNorm(l, $0) }, d, .layer, eps: s.normEps),
            up: try Linear(r, { N.ffnUp(l, $0) }, rows: s.ff, cols: d, wideActivations: true), down: try Linear(r, { N.ffnDown(l, $0) }, rows: d, cols: s.ff, wideActivations: true),
            outputNorm: try Norm(r, { N.layerOutputNorm(l, $0) }, d, .layer, eps: s.normEps))
    }

    /// The embedding tables and their norm, around the given layers.
    static func embeddings(_ r: WeightReader, _ s: EncoderShape, projection: Linear?, layers: [EncoderWeights.Layer],
                           steps: [[Int]]) throws(ModelError) -> EncoderWeights {
        let e = s.embeddingWidth
        return EncoderWeights(
            embedding: try r.matrix(N.embedding, rows: s.vocab, cols: e),
            positions: try r.matrix(N.positions, rows: s.positions, cols: e),
            tokenTypes: r.has(N.tokenTypes) ? try r.matrix(N.tokenTypes, rows: s.tokenTypes, cols: e) : nil,
            embeddingNorm: try Norm(r, N.embeddingNorm, e, .layer, eps: s.normEps), projection: projection, layers: layers, steps: steps)
    }

    /// The head a Hugging Face class puts on the body, read from the class name (BertForMaskedLM: .maskedLM).
    enum Head {
        case none, maskedLM, preTraining, nextSentence, sequenceClassification, tokenClassification, questionAnswering

        init(_ c: HFConfig) {
            let name = c.json["architectures"]?.array?.first?.string ?? ""
            let suffixes: [(String, Head)] = [
                ("ForMaskedLM", .maskedLM), ("ForPreTraining", .preTraining), ("ForNextSentencePrediction", .nextSentence),
                ("ForSequenceClassification", .sequenceClassification), ("ForTokenClassification", .tokenClassification),
                ("ForQuestionAnswering", .questionAnswering),
            ]
            self = suffixes.first { name.hasSuffix($0.0) }?.1 ?? .none
        }
    }

    /// The sizes an encoder's tensors are checked against.
    struct Size {
        let dim, layers, heads, ff, vocab, positions, tokenTypes: Int
    }

    /// Keys every encoder writes (llama.cpp's, except where noted in formats/TENSORS-encoders.md).
    static func metadata(_ a: String, _ s: Size, context: Int, eps: Float, activation: String)
        -> [(key: String, value: GGUFValue)] {
        [
            (MetadataKey.vocabSize(a), .uint32(UInt32(s.vocab))),
            (MetadataKey.contextLength(a), .uint32(UInt32(context))),
            (MetadataKey.embeddingLength(a), .uint32(UInt32(s.dim))),
            (MetadataKey.feedForwardLength(a), .uint32(UInt32(s.ff))),
            (MetadataKey.blockCount(a), .uint32(UInt32(s.layers))),
            (MetadataKey.headCount(a), .uint32(UInt32(s.heads))),
            (MetadataKey.layerNormEpsilon(a), .float32(eps)),
            (MetadataKey.causalAttention(a), .bool(false)),
            (MetadataKey.hiddenActivation(a), .string(activation)),
            (MetadataKey.tokenTypeCount, .uint32(UInt32(s.tokenTypes))),
        ]
    }

    static func checkHeads(_ dim: Int, _ heads: Int, key: String) throws(ModelError) {
        guard dim % heads == 0 else { throw .config(key: key, reason: "\(heads) heads do not divide the width \(dim)") }
    }

    /// A Linear module: weight (rows, cols) and bias (rows).
    static func linear(_ name: (String) -> String, _ module: String, rows: Int, cols: Int) -> [TensorSource] {
        [TensorSource(name("weight"), from: module + ".weight", shape: [rows, cols]),
         TensorSource(name("bias"), from: module + ".bias", shape: [rows])]
    }

    /// A LayerNorm module; checkpoints converted from TensorFlow call its parts gamma and beta.
    static func layerNorm(_ name: (String) -> String, _ module: String, dim: Int, _ names: Set<String>) -> [TensorSource] {
        let tf = names.contains(module + ".gamma")
        return [TensorSource(name("weight"), from: module + (tf ? ".gamma" : ".weight"), shape: [dim]),
                TensorSource(name("bias"), from: module + (tf ? ".beta" : ".bias"), shape: [dim])]
    }

    /// config.json's id2label as a list by id: a classifier's rows, which llama.cpp counts from this key.
    static func labels(_ c: HFConfig) throws(ModelError) -> [String] {
        guard let map = c.json["id2label"]?.object, map.count > 0 else {
            throw .config(key: "id2label", reason: "missing: a classifier's labels name its outputs")
        }
        var byID = [String?](repeating: nil, count: map.count)
        for (key, value) in map.entries {
            guard let i = Int(key), byID.indices.contains(i), byID[i] == nil, let label = value.string else {
                throw .config(key: "id2label", reason: "expected labels for ids 0..<\(map.count), found '\(key)': \(value)")
            }
            byID[i] = label
        }
        return byID.compactMap { $0 }
    }

    /// Buffers older checkpoints saved with the weights.
    static func isBuffer(_ name: String) -> Bool {
        name.hasSuffix("embeddings.position_ids") || name.hasSuffix("embeddings.token_type_ids")
    }

    /// One conversion as it is assembled: tensors, metadata, and the Hugging Face names left out on purpose.
    struct Plan {
        let architecture: String
        var tensors: [TensorSource]
        var metadata: [(key: String, value: GGUFValue)]
        var ignored: Set<String> = []

        /// llama.cpp's "cls": a dense layer and `activation` on the first token.
        mutating func pooler(_ module: String, dim: Int, activation: String) {
            tensors += linear(N.pooler, module, rows: dim, cols: dim)
            metadata.append((MetadataKey.classifierActivation(architecture), .string(activation)))
        }

        /// The masked-LM head: dense, LayerNorm, and a decoder (width → vocab) tied to token_embd unless
        /// `tie_word_embeddings` is false.
        mutating func maskedLM(_ c: HFConfig, _ names: Set<String>, dense: String, norm: String, bias: String,
                               decoder: String, dim: Int, width: Int, vocab: Int) throws(ModelError) {
            tensors += linear(N.mlmDense, dense, rows: width, cols: dim) + layerNorm(N.mlmNorm, norm, dim: width, names)
            // transformers ties the decoder's bias to `bias`; 4.x checkpoints store both copies.
            if names.contains(bias) || !names.contains(decoder + ".bias") {
                tensors.append(TensorSource(N.output("bias"), from: bias, shape: [vocab]))
                if decoder + ".bias" != bias { ignored.insert(decoder + ".bias") }
            } else {
                tensors.append(TensorSource(N.output("bias"), from: decoder + ".bias", shape: [vocab]))
            }
            if try c.bool("tie_word_embeddings", default: true) {
                ignored.insert(decoder + ".weight")
            } else {
                tensors.append(TensorSource(N.output("weight"), from: decoder + ".weight", shape: [vocab, width]))
            }
        }

        /// The heads on the body's outputs: sequence classification (on the pooled token, labels from id2label),
        /// token classification (every token, labels) and question answering (start and end for every token).
        mutating func classifiers(_ c: HFConfig, _ head: Head, sequence: String, token: String, dim: Int) throws(ModelError) {
            switch head {
            case .sequenceClassification, .tokenClassification:
                let labels = try BERT.labels(c)
                let name = head == .sequenceClassification ? N.classifier : N.tokenClassifier
                tensors += linear(name, head == .sequenceClassification ? sequence : token, rows: labels.count, cols: dim)
                metadata.append((MetadataKey.classifierOutputLabels(architecture), .array(.string(labels))))
            case .questionAnswering:
                tensors += linear(N.span, "qa_outputs", rows: 2, cols: dim)
            case .none, .maskedLM, .preTraining, .nextSentence:
                break
            }
        }

        var conversion: HFConversion {
            HFConversion(architecture: architecture, metadata: metadata, tensors: tensors) { [ignored] in
                ignored.contains($0) || isBuffer($0)
            }
        }
    }

    /// BERT and RoBERTa share one layout: `p` is the body's prefix ("bert.", "roberta." or none).
    static func body(_ p: String, _ s: Size, _ names: Set<String>, positionOffset: Int) -> [TensorSource] {
        let e = p + "embeddings."
        var t = [
            TensorSource(N.embedding, from: e + "word_embeddings.weight", shape: [s.vocab, s.dim]),
            TensorSource(N.tokenTypes, from: e + "token_type_embeddings.weight", shape: [s.tokenTypes, s.dim]),
            TensorSource(N.positions, from: e + "position_embeddings.weight", shape: [s.positions, s.dim],
                         positionOffset > 0 ? .dropRows(positionOffset) : .none),
        ]
        t += layerNorm(N.embeddingNorm, e + "LayerNorm", dim: s.dim, names)
        for l in 0..<s.layers {
            let h = "\(p)encoder.layer.\(l)."
            t += linear({ N.attnQ(l, $0) }, h + "attention.self.query", rows: s.dim, cols: s.dim)
            t += linear({ N.attnK(l, $0) }, h + "attention.self.key", rows: s.dim, cols: s.dim)
            t += linear({ N.attnV(l, $0) }, h + "attention.self.value", rows: s.dim, cols: s.dim)
            t += linear({ N.attnOutput(l, $0) }, h + "attention.output.dense", rows: s.dim, cols: s.dim)
            t += layerNorm({ N.attnOutputNorm(l, $0) }, h + "attention.output.LayerNorm", dim: s.dim, names)
            t += linear({ N.ffnUp(l, $0) }, h + "intermediate.dense", rows: s.ff, cols: s.dim)
            t += linear({ N.ffnDown(l, $0) }, h + "output.dense", rows: s.dim, cols: s.ff)
            t += layerNorm({ N.layerOutputNorm(l, $0) }, h + "output.LayerNorm", dim: s.dim, names)
        }
        return t
    }

    /// BERT and RoBERTa configs: the same keys.
    static func size(_ c: HFConfig) throws(ModelError) -> Size {
        let s = Size(dim: try c.count("hidden_size"), layers: try c.layers("num_hidden_layers"),
                     heads: try c.count("num_attention_heads"), ff: try c.count("intermediate_size"),
                     vocab: try c.count("vocab_size"), positions: try c.count("max_position_embeddings"),
                     tokenTypes: try c.int("type_vocab_size", in: 1...(1 << 24), default: 2))
        try checkHeads(s.dim, s.heads, key: "num_attention_heads")
        let kind = c.string("position_embedding_type") ?? "absolute"
        guard kind == "absolute" else { throw .unsupported("position_embedding_type '\(kind)'") }
        guard try !c.bool("is_decoder", default: false) else { throw .unsupported("a BERT-family decoder (is_decoder)") }
        return s
    }

    /// Hugging Face Bert* → GGUF "bert".
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let s = try size(c), head = Head(c)
        let p = names.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        var plan = Plan(architecture: architecture, tensors: body(p, s, names, positionOffset: 0),
                        metadata: metadata(architecture, s, context: s.positions,
                                           eps: try c.epsilon("layer_norm_eps", default: 1e-12),
                                           activation: c.string("hidden_act") ?? "gelu"))
        if head == .preTraining || head == .nextSentence || head == .sequenceClassification
            || names.contains(p + "pooler.dense.weight") {
            plan.pooler(p + "pooler.dense", dim: s.dim, activation: "tanh")
        }
        // bert-base-uncased and its like name one class but keep the pre-training heads: converted when present.
        if head == .maskedLM || head == .preTraining || names.contains("cls.predictions.transform.dense.weight") {
            try plan.maskedLM(c, names, dense: "cls.predictions.transform.dense", norm: "cls.predictions.transform.LayerNorm",
                              bias: "cls.predictions.bias", decoder: "cls.predictions.decoder",
                              dim: s.dim, width: s.dim, vocab: s.vocab)
        }
        if head == .preTraining || head == .nextSentence || names.contains("cls.seq_relationship.weight") {
            plan.tensors += linear(N.nextSentence, "cls.seq_relationship", rows: 2, cols: s.dim)
        }
        try plan.classifiers(c, head, sequence: "classifier", token: "classifier", dim: s.dim)
        return plan.conversion
    }

    /// Hugging Face Roberta* → GGUF "bert", as llama.cpp's RobertaModel converts it: RoBERTa numbers positions from
    /// pad_token_id + 1, so the position table loses its first pad_token_id + 1 rows and position i reads row i.
    @Sendable static func robertaConversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let s = try size(c), head = Head(c)
        let offset = c.has("pad_token_id") ? try c.tokenID("pad_token_id", default: 0) + 1 : 0
        guard offset >= 0, offset < s.positions else {
            throw .config(key: "pad_token_id", reason: "position offset \(offset) leaves no rows of \(s.positions) positions")
        }
        let p = names.contains("roberta.embeddings.word_embeddings.weight") ? "roberta." : ""
        var plan = Plan(architecture: architecture, tensors: body(p, s, names, positionOffset: offset),
                        metadata: metadata(architecture, s, context: s.positions - offset,
                                           eps: try c.epsilon("layer_norm_eps", default: 1e-5),
                                           activation: c.string("hidden_act") ?? "gelu"))
        if head == .sequenceClassification {
            plan.pooler("classifier.dense", dim: s.dim, activation: "tanh")
        } else if names.contains(p + "pooler.dense.weight") {
            plan.pooler(p + "pooler.dense", dim: s.dim, activation: "tanh")
        }
        if head == .maskedLM || names.contains("lm_head.dense.weight") {
            try plan.maskedLM(c, names, dense: "lm_head.dense", norm: "lm_head.layer_norm", bias: "lm_head.bias",
                              decoder: "lm_head.decoder", dim: s.dim, width: s.dim, vocab: s.vocab)
        }
        try plan.classifiers(c, head, sequence: "classifier.out_proj", token: "classifier", dim: s.dim)
        return plan.conversion
    }

    /// Hugging Face DistilBert* → GGUF "bert", as llama.cpp's DistilBertModel converts it: no token types (their count
    /// is 1 and no tensor is written), LayerNorm epsilon fixed at 1e-12 as in modeling_distilbert.py.
    @Sendable static func distilBERTConversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        let s = Size(dim: try c.count("dim"), layers: try c.layers("n_layers"), heads: try c.count("n_heads"),
                     ff: try c.count("hidden_dim"), vocab: try c.count("vocab_size"),
                     positions: try c.count("max_position_embeddings"), tokenTypes: 1)
        try checkHeads(s.dim, s.heads, key: "n_heads")
        let head = Head(c)
        let p = names.contains("distilbert.embeddings.word_embeddings.weight") ? "distilbert." : ""
        let e = p + "embeddings."
        var t = [
            TensorSource(N.embedding, from: e + "word_embeddings.weight", shape: [s.vocab, s.dim]),
            TensorSource(N.positions, from: e + "position_embeddings.weight", shape: [s.positions, s.dim]),
        ]
        t += layerNorm(N.embeddingNorm, e + "LayerNorm", dim: s.dim, names)
        for l in 0..<s.layers {
            let h = "\(p)transformer.layer.\(l)."
            t += linear({ N.attnQ(l, $0) }, h + "attention.q_lin", rows: s.dim, cols: s.dim)
            t += linear({ N.attnK(l, $0) }, h + "attention.k_lin", rows: s.dim, cols: s.dim)
            t += linear({ N.attnV(l, $0) }, h + "attention.v_lin", rows: s.dim, cols: s.dim)
            t += linear({ N.attnOutput(l, $0) }, h + "attention.out_lin", rows: s.dim, cols: s.dim)
            t += layerNorm({ N.attnOutputNorm(l, $0) }, h + "sa_layer_norm", dim: s.dim, names)
            t += linear({ N.ffnUp(l, $0) }, h + "ffn.lin1", rows: s.ff, cols: s.dim)
            t += linear({ N.ffnDown(l, $0) }, h + "ffn.lin2", rows: s.dim, cols: s.ff)
            t += layerNorm({ N.layerOutputNorm(l, $0) }, h + "output_layer_norm", dim: s.dim, names)
        }
        var plan = Plan(architecture: architecture, tensors: t,
                        metadata: metadata(architecture, s, context: s.positions, eps: 1e-12,
                                           activation: c.string("activation") ?? "gelu"))
        if head == .sequenceClassification {
            plan.pooler("pre_classifier", dim: s.dim, activation: "relu")
        }
        if head == .maskedLM || names.contains("vocab_transform.weight") {
            try plan.maskedLM(c, names, dense: "vocab_transform", norm: "vocab_layer_norm", bias: "vocab_projector.bias",
                              decoder: "vocab_projector", dim: s.dim, width: s.dim, vocab: s.vocab)
        }
        try plan.classifiers(c, head, sequence: "classifier", token: "classifier", dim: s.dim)
        return plan.conversion
    }
}
