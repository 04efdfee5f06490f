// Binding a model's tensors at load: each one found by name, its shape and type checked against the
// hyperparameters, then kept as a typed view into the mapping (no copy).

import Kernels
import Quant
import TensorFile

struct WeightReader {
    let file: GGUFFile
    /// Every tensor bound so far: a file holding any other is refused (Model.init), as llama.cpp refuses one
    /// ("wrong number of tensors"), so a tensor that would change the computation is never silently ignored.
    let bound = BoundTensors()

    init(file: GGUFFile) { self.file = file }

    func has(_ name: String) -> Bool { file.info(name) != nil }

    /// A (rows, cols) matrix in any type the kernels multiply (checked here, so Matrix's precondition holds);
    /// GGUF stores its shape as [cols, rows].
    func matrix(_ name: String, rows: Int, cols: Int) throws(ModelError) -> Matrix {
        let view = try tensor(name, shape: [cols, rows])
        guard Matrix.canMultiply(view.type) else { throw .unsupported("tensor '\(name)': type \(view.type.name)") }
        return Matrix(view.data, type: view.type, rows: rows, cols: cols)
    }

    /// `count` matrices of (rows, cols) stacked in one 3-D tensor (a mixture's experts); GGUF shape [cols, rows, count].
    func stacked(_ name: String, count: Int, rows: Int, cols: Int) throws(ModelError) -> [Matrix] {
        let view = try tensor(name, shape: [cols, rows, count])
        guard Matrix.canMultiply(view.type) else { throw .unsupported("tensor '\(name)': type \(view.type.name)") }
        let bytes = rows * view.type.byteCount(elements: cols)!
        return (0..<count).map { Matrix(view.data + $0 * bytes, type: view.type, rows: rows, cols: cols) }
    }

    /// A 1-D float32 vector of n (norm weights, biases: the converter keeps these F32, as llama.cpp's does).
    func vector(_ name: String, _ n: Int) throws(ModelError) -> UnsafePointer<Float> {
        let view = try tensor(name, shape: [n])
        guard view.type == .f32 else {
            throw .unsupported("tensor '\(name)': type \(view.type.name) for a 1-D tensor (expected F32)")
        }
        return view.data.assumingMemoryBound(to: Float.self)
    }

    func optionalVector(_ name: String, _ n: Int) throws(ModelError) -> UnsafePointer<Float>? {
        has(name) ? try vector(name, n) : nil
    }

    /// Rows of the (vocab, width) token embedding `name`, checked against the vocabulary size `key` when the file
    /// has it.
    func vocabRows(_ name: String, width: Int, key: String? = nil) throws(ModelError) -> Int {
        guard let shape = file.info(name)?.shape, shape.count == 2 else { throw .missingTensor(name) }
        if let key, file.contains(key), try count(key) != shape[1] {
            throw .shape(tensor: name, expected: [width, try count(key)], found: shape)
        }
        return shape[1]
    }

    /// Checks a tensor the computation as run does not need (its term vanishes) and counts it as bound, so the file
    /// is still understood whole. `shape` in GGUF order.
    func unneeded(_ name: String, shape: [Int]) throws(ModelError) {
        _ = try tensor(name, shape: shape)
    }

    private func tensor(_ name: String, shape: [Int]) throws(ModelError) -> TensorView {
        guard let info = file.info(name) else { throw .missingTensor(name) }
        guard info.shape == shape else { throw .shape(tensor: name, expected: shape, found: info.shape) }
        bound.names.insert(name)
        return file.view(info)
    }

    // Hyperparameters: present, of an integer type, and positive (or in the given range).
    func count(_ key: String, in range: ClosedRange<Int> = 1...(1 << 24)) throws(ModelError) -> Int {
        let n: Int
        do { n = try file.int(key) } catch { throw .file(error) }
        guard range.contains(n) else {
            throw .config(key: key, reason: "\(n) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    /// More layers than any published model has (Llama 3 405B: 126), few enough that a table per layer built at load
    /// costs nothing.
    static let maxLayers = 1024

    /// A stack's layer count: each stored layer has tensors of its own, so it is no more than the file holds (a count
    /// believed would size the layer tables before the first missing tensor is found).
    func layerCount(_ key: String) throws(ModelError) -> Int {
        let n = try count(key, in: 1...Self.maxLayers)
        guard n <= file.tensors.count else {
            throw .config(key: key, reason: "\(n) layers, but the file holds only \(file.tensors.count) tensors")
        }
        return n
    }

    func count(_ key: String, default d: Int) throws(ModelError) -> Int {
        file.contains(key) ? try count(key) : d
    }

    func count(_ key: String, in range: ClosedRange<Int>, default d: Int) throws(ModelError) -> Int {
        file.contains(key) ? try count(key, in: range) : d
    }

    func bool(_ key: String, default d: Bool) throws(ModelError) -> Bool {
        guard file.contains(key) else { return d }
        do { return try file.bool(key) } catch { throw .file(error) }
    }

    func string(_ key: String, default d: String) throws(ModelError) -> String {
        guard file.contains(key) else { return d }
        do { return try file.string(key) } catch { throw .file(error) }
    }

    func strings(_ key: String) throws(ModelError) -> [String]? {
        guard file.contains(key) else { return nil }
        do { return try file.stringArray(key) } catch { throw .file(error) }
    }

    func float(_ key: String, default d: Float) throws(ModelError) -> Float {
        guard file.contains(key) else { return d }
        let x: Float
        do { x = try file.float(key) } catch { throw .file(error) }
        guard x.isFinite else { throw .config(key: key, reason: "\(x) is not finite") }
        return x
    }

    /// A positive float: a norm's epsilon, a RoPE base or scaling factor (0 or less would make NaNs or divide by 0).
    func positive(_ key: String, default d: Float) throws(ModelError) -> Float {
        let x = try float(key, default: d)
        guard x > 0 else { throw .config(key: key, reason: "\(x) is not positive") }
        return x
    }
}

/// The names a WeightReader has bound (a class: copies of the reader share it).
final class BoundTensors {
    var names: Set<String> = []
}
