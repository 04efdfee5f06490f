// The one error type of the Tokenizer module: what is wrong with a file's tokenizer, naming the key.

import TensorFile

/// Engine's ModelError has a case for each of these and the same texts (tests and users see them unchanged).
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case file(TensorFileError)
    case config(key: String, reason: String)
    case invalid(String)

    public var description: String {
        switch self {
        case let .file(e): e.description
        case let .config(key, reason): "config key '\(key)': \(reason)"
        case let .invalid(reason): "tokenizer: \(reason)"
        }
    }
}
