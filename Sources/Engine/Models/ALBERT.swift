// ALBERT encoder and its task heads: weight names and Hugging Face conversion.
// Follows transformers' modeling_albert.py. llama.cpp has no ALBERT; the names are BERT's (BERT.swift) plus one
// projection, under Swiftlet's architecture "albert" (formats/TENSORS-encoders.md). The forward pass is
// Encoder.swift's: BERT's, after the projection, with each step running a shared layer. Registered in Registry.swift.

import Kernels
import Quant
import TensorFile

public enum ALBERTWeights {
    public enum Name {  // the only place this string is spelled; the rest are BERTWeights.Name
        /// embedding_hidden_mapping_in: token embeddings (embedding_size) up to the hidden width.
        public static func embeddingProjection(_ part: String) -> String { "token_embd_proj.\(part)" }
    }
}

public enum ALBERT {
    static let architecture = "albert"
    static let entry = ArchitectureEntry(
        name: architecture,
        huggingFace: ["AlbertModel", "AlbertForMaskedLM", "AlbertForPreTraining", "AlbertForSequenceClassification",
                      "AlbertForTokenClassification", "AlbertForQuestionAnswering"],
        conversion: conversion, load: { (r) throws(ModelError) in .encoder(try load(r)) }, keepsFloat: BERT.keepsFloat)

    /// Binds an "albert" file: BERT's tables at the embedding width, the projection, and the stored layers
    /// of every group, step i running group i · groups / steps.
    static func load(_ r: WeightReader) throws(ModelError) -> Encoder {
        typealias K = MetadataKey
        let a = architecture
        // Steps share the stored layers, so only the stored ones are bounded by the file's tensors.
        let steps = try r.count(K.blockCount(a), in: 1...WeightReader.maxLayers)
        let groups = try r.count(K.layerGroupCount(a), in: 1...steps), inner = try r.layerCount(K.innerGroupCount(a))
        guard groups * inner <= r.file.tensors.count else {
            throw .config(key: K.innerGroupCount(a), reason: "\(groups) groups of \(inner) layers, but the file holds only "
                + "\(r.file.tensors.count) tensors")
        }
        let s = try BERT.shape(r, a, embeddingWidth: try r.count(K.tokenEmbeddingLength(a)), layers: steps)
        let layers = try (0..<groups * inner).map { (l) throws(ModelError) in try BERT.layer(r, l, s) }
        let order = (0..<steps).map { i in (0..<inner).map { i * groups / steps * inner + $0 } }
        let projection = try Linear(r, ALBERTWeights.Name.embeddingProjection, rows: s.dim, cols: s.embeddingWidth, wideActivations: true)
        return try Encoder(r, architecture: a, shape: s,
                           weights: try BERT.embeddings(r, s, projection: projection, layers: layers, steps: order))
    }

    /// Hugging Face Albert* → GGUF "albert". Layers share weights: `num_hidden_groups` groups of
    /// `inner_group_num` layers are stored once, as blk.(group · inner_group_num + j); layer i of
    /// `num_hidden_layers` runs group i · groups / layers (integer division, as modeling_albert.py's
    /// int(i / (layers / groups)) for the sizes it accepts).
    @Sendable static func conversion(_ c: HFConfig, _ names: Set<String>) throws(ModelError) -> HFConversion {
        typealias N = BERTWeights.Name
        let a = architecture
        let s = BERT.Size(dim: try c.count("hidden_size"), layers: try c.layers("num_hidden_layers"),
                          heads: try c.count("num_attention_heads"), ff: try c.count("intermediate_size"),
                          vocab: try c.count("vocab_size"), positions: try c.count("max_position_embeddings"),
                          tokenTypes: try c.int("type_vocab_size", in: 1...(1 << 24), default: 2))
        let width = try c.count("embedding_size")
        let groups = try c.int("num_hidden_groups", in: 1...WeightReader.maxLayers, default: 1)
        let inner = try c.int("inner_group_num", in: 1...WeightReader.maxLayers, default: 1)
        guard groups <= s.layers else {
            throw .config(key: "num_hidden_groups", reason: "\(groups) groups for \(s.layers) layers")
        }
        try BERT.checkHeads(s.dim, s.heads, key: "num_attention_heads")
        let kind = c.string("position_embedding_type") ?? "absolute"
        guard kind == "absolute" else { throw .unsupported("position_embedding_type '\(kind)'") }
        let head = BERT.Head(c)

        let p = names.contains("albert.embeddings.word_embeddings.weight") ? "albert." : ""
        let e = p + "embeddings."
        var t = [
            TensorSource(N.embedding, from: e + "word_embeddings.weight", shape: [s.vocab, width]),
            TensorSource(N.tokenTypes, from: e + "token_type_embeddings.weight", shape: [s.tokenTypes, width]),
            TensorSource(N.positions, from: e + "position_embeddings.weight", shape: [s.positions, width]),
        ]
        t += BERT.layerNorm(N.embeddingNorm, e + "LayerNorm", dim: width, names)
        t += BERT.linear(ALBERTWeights.Name.embeddingProjection, p + "encoder.embedding_hidden_mapping_in",
                         rows: s.dim, cols: width)
        for g in 0..<groups {
            for j in 0..<inner {
                let l = g * inner + j, h = "\(p)encoder.albert_layer_groups.\(g).albert_layers.\(j)."
                t += BERT.linear({ N.attnQ(l, $0) }, h + "attention.query", rows: s.dim, cols: s.dim)
                t += BERT.linear({ N.attnK(l, $0) }, h + "attention.key", rows: s.dim, cols: s.dim)
                t += BERT.linear({ N.attnV(l, $0) }, h + "attention.value", rows: s.dim, cols: s.dim)
                t += BERT.linear({ N.attnOutput(l, $0) }, h + "attention.dense", rows: s.dim, cols: s.dim)
                t += BERT.layerNorm({ N.attnOutputNorm(l, $0) }, h + "attention.LayerNorm", dim: s.dim, names)
                t += BERT.linear({ N.ffnUp(l, $0) }, h + "ffn", rows: s.ff, cols: s.dim)
                t += BERT.linear({ N.ffnDown(l, $0) }, h + "ffn_output", rows: s.dim, cols: s.ff)
                t += BERT.layerNorm({ N.layerOutputNorm(l, $0) }, h + "full_layer_layer_norm", dim: s.dim, names)
            }
        }

        var plan = BERT.Plan(architecture: a, tensors: t,
                             metadata: BERT.metadata(a, s, context: s.positions,
                                                     eps: try c.epsilon("layer_norm_eps", default: 1e-12),
                                                     activation: c.string("hidden_act") ?? "gelu_new"))
        plan.metadata += [
            (MetadataKey.tokenEmbeddingLength(a), .uint32(UInt32(width))),
            (MetadataKey.layerGroupCount(a), .uint32(UInt32(groups))),
            (MetadataKey.innerGroupCount(a), .uint32(UInt32(inner))),
        ]
        if head == .preTraining || head == .sequenceClassification || names.contains(p + "pooler.weight") {
            plan.pooler(p + "pooler", dim: s.dim, activation: "tanh")
        }
        // albert-base-v2 and its like name one class but keep the pre-training heads: converted when present.
        if head == .maskedLM || head == .preTraining || names.contains("predictions.dense.weight") {
            try plan.maskedLM(c, names, dense: "predictions.dense", norm: "predictions.LayerNorm", bias: "predictions.bias",
                              decoder: "predictions.decoder", dim: s.dim, width: width, vocab: s.vocab)
        }
        if head == .preTraining || names.contains("sop_classifier.classifier.weight") {
            plan.tensors += BERT.linear(N.sentenceOrder, "sop_classifier.classifier", rows: 2, cols: s.dim)
        }
        try plan.classifiers(c, head, sequence: "classifier", token: "classifier", dim: s.dim)
        return plan.conversion
    }
}
