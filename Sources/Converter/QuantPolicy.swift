// Which ggml type each tensor gets for a requested file type (formats/QUANT.md says why).

import Engine
import Quant

public enum QuantPolicy {
    /// Tensors kept in F32, as llama.cpp's converter and quantize keep them: small, and precision-critical
    /// (norms, and what the architecture's registry entry names: MoE routers, learned position and token-type
    /// embeddings, T5's relative bias, XLNet's segment embeddings).
    static func keepsFloat(_ name: String, architecture: String) -> Bool {
        name.hasSuffix("_norm.weight") || name.hasSuffix("_norm.bias") || Registry.keepsFloat(name, architecture: architecture)
    }

    /// The type for tensor `name` of GGUF shape `shape` (ne order) when `requested` is asked for,
    /// and a note when it differs from `requested` for a reason the user should hear about.
    public static func type(for name: String, shape: [Int], requested: GGMLType, architecture: String)
        -> (type: GGMLType, note: String?) {
        if shape.count < 2 { return (.f32, nil) }  // biases, norms: F32, as ggml's kernels expect
        if keepsFloat(name, architecture: architecture) { return (.f32, nil) }  // at every requested type, as convert_hf_to_gguf.py does
        if requested.blockSize == 1 { return (requested, nil) }
        if shape[0] % requested.blockSize != 0 {
            return (.f16, "\(name): row length \(shape[0]) is not a multiple of \(requested.blockSize); stored as F16")
        }
        return (requested, nil)
    }
}
