// What an architecture tells the converter: GGUF metadata from a Hugging Face config.json, and for
// every GGUF tensor the Hugging Face tensors it comes from and how they are transformed.

import Quant
import TensorFile

/// A Hugging Face config.json with typed, named lookups.
public struct HFConfig: Sendable {
    public let json: JSONValue

    public init(_ json: JSONValue) { self.json = json }

    public func has(_ key: String) -> Bool { json[key].map { !$0.isNull } ?? false }

    public func int(_ key: String) throws(ModelError) -> Int {
        guard let v = json[key], !v.isNull else { throw .config(key: key, reason: "missing") }
        guard let i = v.int else { throw .config(key: key, reason: "expected an integer, found \(v)") }
        return i
    }

    public func int(_ key: String, default value: Int) throws(ModelError) -> Int {
        has(key) ? try int(key) : value
    }

    public func double(_ key: String) throws(ModelError) -> Double {
        guard let v = json[key], !v.isNull else { throw .config(key: key, reason: "missing") }
        guard let d = v.double else { throw .config(key: key, reason: "expected a number, found \(v)") }
        return d
    }

    public func double(_ key: String, default value: Double) throws(ModelError) -> Double {
        has(key) ? try double(key) : value
    }

    public func bool(_ key: String, default value: Bool) throws(ModelError) -> Bool {
        guard has(key) else { return value }
        guard let b = json[key]?.bool else { throw .config(key: key, reason: "expected true or false") }
        return b
    }

    public func string(_ key: String) -> String? { json[key]?.string }

    /// RoPE parameters: transformers 5 nests them in `rope_parameters`; 4.x has `rope_theta` and `rope_scaling`.
    public func rope(defaultTheta: Double) throws(ModelError) -> (theta: Double, scaling: JSONValue?) {
        if let p = json["rope_parameters"], !p.isNull {
            guard let theta = p["rope_theta"]?.double else { throw .config(key: "rope_parameters.rope_theta", reason: "missing") }
            guard theta.isFinite, theta > 0, Float(theta).isFinite else {
                throw .config(key: "rope_parameters.rope_theta", reason: "\(theta) is not a positive number")
            }
            let kind = p["rope_type"]?.string ?? "default"
            return (theta, kind == "default" ? nil : p)
        }
        let scaling = json["rope_scaling"].flatMap { $0.isNull ? nil : $0 }
        return (Double(try float("rope_theta", in: 1e-6...1e12, default: defaultTheta)), scaling)
    }

    /// An integer in `range`; outside it, an error naming the key and the range.
    public func int(_ key: String, in range: ClosedRange<Int>) throws(ModelError) -> Int {
        let n = try int(key)
        guard range.contains(n) else {
            throw .config(key: key, reason: "\(n) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    public func int(_ key: String, in range: ClosedRange<Int>, default value: Int) throws(ModelError) -> Int {
        has(key) ? try int(key, in: range) : value
    }

    /// A size or head count: 1...2^24, as the engine's loader reads it (so it fits the uint32 key it is written to).
    public func count(_ key: String) throws(ModelError) -> Int {
        try int(key, in: 1...(1 << 24))
    }

    /// A stack's layer count, no more than the engine loads (WeightReader.maxLayers): a count believed would plan a
    /// tensor list per layer before the first missing tensor is found.
    public func layers(_ key: String) throws(ModelError) -> Int {
        try int(key, in: 1...WeightReader.maxLayers)
    }

    /// A token id in a vocabulary of at most 2^24.
    public func tokenID(_ key: String, default value: Int) throws(ModelError) -> Int {
        try int(key, in: 0...(1 << 24) - 1, default: value)
    }

    /// A number for a float32 key: finite, in `range` and, as a float32, still finite and nonzero when it is not 0
    /// (an epsilon of 1e-50 would become 0, 1e999 is infinite).
    public func float(_ key: String, in range: ClosedRange<Double>, default value: Double) throws(ModelError) -> Float {
        let x = try double(key, default: value)
        guard x.isFinite, range.contains(x), Float(x).isFinite, x == 0 || Float(x) != 0 else {
            throw .config(key: key, reason: "\(x) is not a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return Float(x)
    }

    /// A norm's epsilon: positive and at most 1.
    public func epsilon(_ key: String, default value: Double) throws(ModelError) -> Float {
        try float(key, in: Double.leastNonzeroMagnitude...1, default: value)
    }
}

/// How a GGUF tensor's values are made from its Hugging Face sources.
public enum TensorTransform: Sendable, Equatable {
    case none
    /// llama.cpp's Q/K permutation: within each of `heads` heads, rows (half, i) become (i, half),
    /// turning Hugging Face's rotate-half RoPE pairing into ggml's adjacent-pair pairing.
    case permuteRows(heads: Int)
    /// A (rows, cols…) source becomes (cols…, rows), the trailing dimensions flattened into one: GPT-2's Conv1D
    /// stores weights as (in, out), XLNet's projections as (in, heads, head_dim).
    case transpose
    /// The source's values unchanged under another GGUF shape (ne order) of the same element count.
    case reshape([Int])
    /// The first `n` rows are left out: RoBERTa's position table starts at padding_idx + 1, llama.cpp's at 0.
    case dropRows(Int)
    /// Several sources of one shape, stacked along a new outermost dimension (MoE experts).
    case stack
}

public struct TensorSource: Sendable {
    public let name: String
    public let sources: [String]
    /// The shape each source must have, PyTorch order (outermost first).
    public let sourceShape: [Int]
    public let transform: TensorTransform

    public init(_ name: String, from source: String, shape: [Int], _ transform: TensorTransform = .none) {
        self.init(name, from: [source], shape: shape, transform)
    }

    public init(_ name: String, from sources: [String], shape: [Int], _ transform: TensorTransform = .none) {
        self.name = name
        self.sources = sources
        sourceShape = shape
        self.transform = transform
    }

    /// The GGUF shape, ne order (row length first), after the transform.
    public var ggufShape: [Int] {
        switch transform {
        case .none, .permuteRows: Array(sourceShape.reversed())
        case .transpose: [sourceShape[0], sourceShape.dropFirst().reduce(1, *)]
        case let .reshape(shape): shape
        case let .dropRows(n): Array(sourceShape.dropFirst().reversed()) + [sourceShape[0] - n]
        case .stack: Array(sourceShape.reversed()) + [sources.count]
        }
    }
}

/// The converter's plan for one model: architecture, metadata (without tokenizer and general keys) and tensors.
public struct HFConversion: Sendable {
    public let architecture: String
    public let metadata: [(key: String, value: GGUFValue)]
    public let tensors: [TensorSource]
    /// Hugging Face tensors that carry nothing the model needs (buffers such as rotary inv_freq).
    public let ignored: @Sendable (String) -> Bool
}
