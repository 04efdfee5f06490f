// The architecture registry: one line per family, from GGUF `general.architecture` (and the Hugging Face class names
// `quantize` converts) to the family file that binds its weights, runs its forward pass, chooses its session kind
// (the ModelFamily case its loader returns), keeps its tensors' quantization policy and converts it. A new
// architecture is its file in Models/ with a `static let entry` and one line in `Registry.entries`.

import TensorFile

/// What the engine runs a loaded file as; the case is the session kind.
enum ModelFamily: Sendable {
    case decoder(any DecoderNet)             // Session
    case encoder(Encoder)                    // EncoderSession
    case seq2seq(any EncoderDecoderNet)      // Seq2SeqSession
}

/// A family's Hugging Face conversion: config.json and the safetensors' tensor names to a plan.
typealias HFConversionPlan = @Sendable (HFConfig, Set<String>) throws(ModelError) -> HFConversion

/// One architecture, as the registry lists it.
struct ArchitectureEntry: Sendable {
    /// `general.architecture`.
    let name: String
    /// The Hugging Face `architectures` class names converted to it, each with its conversion.
    let huggingFace: [(name: String, conversion: HFConversionPlan)]
    /// Binds a file's weights, checked against its hyperparameters.
    let load: @Sendable (WeightReader) throws(ModelError) -> ModelFamily
    /// 2-D tensors `quantize` keeps in F32 at every type besides the norms (QuantPolicy): precision-critical tables.
    let keepsFloat: @Sendable (String) -> Bool

    init(name: String, huggingFace: [String], conversion: @escaping HFConversionPlan,
         load: @escaping @Sendable (WeightReader) throws(ModelError) -> ModelFamily,
         keepsFloat: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.init(name: name, conversions: huggingFace.map { ($0, conversion) }, load: load, keepsFloat: keepsFloat)
    }

    init(name: String, conversions: [(name: String, conversion: HFConversionPlan)],
         load: @escaping @Sendable (WeightReader) throws(ModelError) -> ModelFamily,
         keepsFloat: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.name = name
        huggingFace = conversions
        self.load = load
        self.keepsFloat = keepsFloat
    }
}

public enum Registry {
    /// Every architecture the engine runs.
    static let entries: [ArchitectureEntry] = [
        Llama.entry, GPT2.entry, CTRL.entry, XLNet.entry,   // decoders
        BERT.entry, ALBERT.entry,                            // encoders
        T5.entry, BART.entry, BART.marianEntry,              // encoder-decoders
    ]

    static func entry(architecture: String) -> ArchitectureEntry? { entries.first { $0.name == architecture } }

    /// The GGUF architectures, comma-separated.
    static var architectures: String { entries.map(\.name).joined(separator: ", ") }

    /// The Hugging Face class names `quantize` converts, sorted.
    static var knownNames: String { entries.flatMap { $0.huggingFace.map(\.name) }.sorted().joined(separator: ", ") }

    /// Whether `quantize` keeps the 2-D tensor `name` of an `architecture` file in F32.
    public static func keepsFloat(_ name: String, architecture: String) -> Bool {
        entry(architecture: architecture)?.keepsFloat(name) ?? false
    }

    /// The conversion plan for a Hugging Face model whose config.json is `config` and whose
    /// safetensors hold `tensorNames`.
    public static func conversion(config: HFConfig, tensorNames: Set<String>) throws(ModelError) -> HFConversion {
        guard let names = config.json["architectures"]?.array, let name = names.first?.string else {
            throw .config(key: "architectures", reason: "missing: cannot tell which model this is")
        }
        for entry in entries {
            if let plan = entry.huggingFace.first(where: { $0.name == name }) { return try plan.conversion(config, tensorNames) }
        }
        throw .unknownArchitecture(name)
    }
}
