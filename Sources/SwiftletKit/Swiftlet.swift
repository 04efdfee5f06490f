// Swiftlet's Swift API: the namespace, the version and the one error type. The C library (Sources/CAPI) is a
// layer over this module that adds only C pointers, status codes and the per-thread error message.

import Engine
import TensorFile

/// Swiftlet, a quantized transformer inference engine. Open a ``Model``, create a ``Session`` on it, then
/// generate (decoders), translate (encoder-decoders), embed (encoders) or read logits. Parameters, results and
/// errors are the C API's (include/swiftlet.h), one for one.
public enum Swiftlet {
    /// The library's version, as `swiftlet_version()` gives it.
    public static let version: StaticString = "0.4.0"
}

extension Swiftlet {
    /// What went wrong: a status, as `swiftlet_status` codes it, and a message that names the key, tensor,
    /// token or value at fault.
    public struct Error: Swift.Error, Equatable, CustomStringConvertible {
        /// The kind of failure; raw values are `swiftlet_status`'s. `SWIFTLET_ERR_CANCELLED` has no case: a
        /// callback that stops a generation ends it normally.
        public enum Status: Int32, Sendable {
            /// A bad value (out of range, out of the vocabulary, an empty input) or a call from a session's own
            /// callback into the same session.
            case invalidArgument = 1
            /// The file could not be opened, mapped or read.
            case io = 2
            /// The file is not a valid model: its structure, metadata, tensors or tokenizer.
            case format = 3
            /// The model cannot do this (an architecture the engine does not run, or embed on a decoder).
            case unsupported = 4
            /// The session's memory would pass the limit, or could not be allocated.
            case outOfMemory = 5
            /// The prompt or the generation does not fit the context.
            case contextFull = 6
            /// An output buffer is smaller than the result (the C API's buffers; never from array results).
            case bufferTooSmall = 8
        }

        /// The kind of failure, as the C API reports it.
        public let status: Status
        /// What was wrong and where, in one line.
        public let message: String
        /// The message.
        public var description: String { message }

        init(_ status: Status, _ message: String) {
            self.status = status
            self.message = printable(message)  // names from a file may hold control characters
        }

        /// The engine's error with its status.
        init(_ error: ModelError) {
            let status: Status = switch error {
            case let .file(e): if case .io = e { .io } else { .format }  // open, mmap, read; else the reader's findings
            case .unknownArchitecture, .unsupported: .unsupported
            case .config, .missingTensor, .unexpectedTensor, .shape, .tokenizer, .notANumber: .format
            case .outOfMemory: .outOfMemory
            case .invalidInput: .invalidArgument
            case .contextFull: .contextFull
            }
            self.init(status, error.description)
        }
    }
}
