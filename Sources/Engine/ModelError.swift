// The one error type of the Engine module: what is wrong with a model, naming the key or tensor.

import TensorFile
import Tokenizer

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case file(TensorFileError)
    case unknownArchitecture(String)
    case unsupported(String)
    case config(key: String, reason: String)
    case missingTensor(String)
    case unexpectedTensor(String)
    case shape(tensor: String, expected: [Int], found: [Int])
    case tokenizer(String)
    case outOfMemory(String)
    case invalidInput(String)
    case contextFull(String)
    /// The forward pass gave NaN (weights or activations that are not finite).
    case notANumber(String)

    public var description: String {
        switch self {
        case let .file(e): e.description
        case let .unknownArchitecture(a): "unknown architecture '\(a)' (known: \(Registry.knownNames))"
        case let .unsupported(what): "\(what) is not supported"
        case let .config(key, reason): "config key '\(key)': \(reason)"
        case let .missingTensor(t): "missing tensor '\(t)'"
        case let .unexpectedTensor(t): "tensor '\(t)' is not used by this architecture"
        case let .shape(t, e, f): "tensor '\(t)': shape \(f), expected \(e)"
        case let .tokenizer(reason): "tokenizer: \(reason)"
        case let .outOfMemory(reason): "out of memory: \(reason)"
        case let .invalidInput(reason): reason
        case let .contextFull(reason): reason
        case let .notANumber(what): "\(what) are NaN: the model's weights (or activations) are not finite numbers"
        }
    }
}

extension ModelError {
    /// A tokenizer's error as the case that says it in the same words.
    public init(_ error: TokenizerError) {
        switch error {
        case let .file(e): self = .file(e)
        case let .config(key, reason): self = .config(key: key, reason: reason)
        case let .invalid(reason): self = .tokenizer(reason)
        }
    }
}
