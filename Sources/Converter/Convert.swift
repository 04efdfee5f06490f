// The converter: a Hugging Face directory or a GGUF file in, one GGUF file out, tensor by tensor,
// so peak memory follows the largest tensor, not the model.

import Dispatch
import Engine
import Quant
import TensorFile
#if canImport(Glibc)
import Glibc
#endif

public struct ConvertOptions: Sendable {
    public var type: GGMLType = .q8_0
    public var threads: Int = 1
    public var quiet = false
    public init() {}
}

public struct ConvertReport: Sendable {
    public var tensors = 0
    public var outputBytes = 0
    public var notes: [String] = []
}

public enum ConvertError: Error, CustomStringConvertible {
    case model(ModelError)
    case file(TensorFileError)
    case input(String)

    public var description: String {
        switch self {
        case let .model(e): e.description
        case let .file(e): e.description
        case let .input(s): s
        }
    }
}

/// One tensor to write and where its values come from: stored bytes copied as they are, a GGUF tensor
/// re-quantized row by row, or float values computed from Hugging Face sources.
struct PendingTensor {
    enum Source {
        case raw(UnsafeRawBufferPointer)
        case requantize(TensorView)
        case values(() throws(ConvertError) -> [Float])
    }
    let plan: GGUFTensorPlan
    let sourceBytes: Int
    let source: Source
    let release: () -> Void
}

public enum Converter {
    /// Converts `input` (a Hugging Face directory or a .gguf file) to a GGUF file at `output`.
    public static func run(input: String, output: String, options: ConvertOptions) throws(ConvertError) -> ConvertReport {
        var st = stat()
        guard stat(input, &st) == 0 else { throw .file(.io(path: input, operation: "stat", errno: errno)) }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            return try fromHuggingFace(directory: input, output: output, options: options)
        }
        return try fromGGUF(path: input, output: output, options: options)
    }

    // MARK: GGUF → GGUF

    static func fromGGUF(path: String, output: String, options: ConvertOptions) throws(ConvertError) -> ConvertReport {
        let source: GGUFFile
        do { source = try GGUFFile(path: path) } catch { throw .file(error) }
        var report = ConvertReport()
        var pending: [PendingTensor] = []
        let architecture = (try? source.architecture()) ?? ""
        for info in source.tensors {
            let (type, note) = QuantPolicy.type(for: info.name, shape: info.shape, requested: options.type,
                                                architecture: architecture)
            if let note { report.notes.append(note) }
            let view = source.view(info)
            let plan = GGUFTensorPlan(name: info.name, type: type, shape: info.shape)
            let release = { source.file.dropPages(info.offset..<info.offset + info.byteCount) }
            if type == info.type {
                pending.append(PendingTensor(plan: plan, sourceBytes: info.byteCount, source: .raw(view.bytes), release: release))
                continue
            }
            guard info.type.isComputable else {
                throw .input("\(path): tensor '\(info.name)' is \(info.type.name), which Swiftlet cannot dequantize to re-quantize as \(type.name)")
            }
            pending.append(PendingTensor(plan: plan, sourceBytes: info.byteCount, source: .requantize(view), release: release))
        }
        // Keys keep their order; the file type is updated in place (appended when missing), as llama.cpp's quantize does.
        var metadata = source.metadata
        for (key, value) in generalKeys(options.type) {
            if let i = metadata.firstIndex(where: { $0.key == key }) { metadata[i].value = value } else { metadata.append((key, value)) }
        }
        try write(pending, metadata: metadata, output: output, options: options, report: &report)
        return report
    }

    static func generalKeys(_ type: GGMLType) -> [(key: String, value: GGUFValue)] {
        [(MetadataKey.fileType, .uint32(fileTypeCode(type))), (MetadataKey.quantizationVersion, .uint32(2))]
    }

    // MARK: Hugging Face directory → GGUF

    static func fromHuggingFace(directory: String, output: String, options: ConvertOptions) throws(ConvertError) -> ConvertReport {
        let config: HFConfig
        let model: SafetensorsModel
        do {
            guard let json = try TokenizerConversion.readJSON(directory + "/config.json") else {
                throw ConvertError.input("\(directory): no config.json (is this a Hugging Face model directory?)")
            }
            config = HFConfig(json)
            model = try SafetensorsModel(path: try safetensorsPath(directory))
        } catch let e as ConvertError {
            throw e
        } catch let e as ModelError {
            throw .model(e)
        } catch let e as TensorFileError {
            throw .file(e)
        } catch {
            throw .input("\(error)")
        }
        let names = Set(model.names)
        let conversion: HFConversion
        let tokenizer: [(key: String, value: GGUFValue)], sentence: [(key: String, value: GGUFValue)]
        do throws(ModelError) {
            conversion = try Registry.conversion(config: config, tensorNames: names)
            let vocab = conversion.metadata.first { $0.key == MetadataKey.vocabSize(conversion.architecture) }?.value.integer
            // The directory's tokenizer, whatever the architecture: a SentencePiece model where llama.cpp's converter
            // prefers one, T5's, BART's and Marian's own files, CTRL's where the directory holds CTRL's, else
            // tokenizer.json (or a slow GPT-2 or RoBERTa BPE's vocab.json and merges.txt).
            if let m = try Seq2SeqVocab.metadata(directory: directory, config: config, vocabSize: vocab ?? 0) {
                tokenizer = m  // T5, BART, Marian: vocabulary and generation defaults
            } else if let m = try SentencePieceVocab.metadata(directory: directory, config: config, vocabSize: vocab ?? 0) {
                tokenizer = m
            } else if let m = try CTRLVocab.metadata(directory: directory, config: config, vocabSize: vocab ?? 0) {
                tokenizer = m
            } else {
                tokenizer = try TokenizerConversion.metadata(directory: directory, config: config, vocabSize: vocab ?? 0)
            }
            sentence = try SentenceTransformers.metadata(directory: directory, architecture: conversion.architecture)
        } catch { throw .model(error) }

        // Every Hugging Face tensor is either converted or known to be unneeded: nothing is dropped silently.
        var used = Set<String>()
        for t in conversion.tensors { used.formUnion(t.sources) }
        if let stray = model.names.first(where: { !used.contains($0) && !conversion.ignored($0) }) {
            throw .model(.unexpectedTensor(stray))
        }

        var report = ConvertReport()
        var pending: [PendingTensor] = []
        for t in conversion.tensors {
            var sources: [SafetensorsTensor] = []
            for name in t.sources {
                guard let s = model.tensor(name) else { throw .model(.missingTensor(name)) }
                guard s.shape == t.sourceShape else { throw .model(.shape(tensor: name, expected: t.sourceShape, found: s.shape)) }
                sources.append(s)
            }
            let shape = t.ggufShape
            let (type, note) = QuantPolicy.type(for: t.name, shape: shape, requested: options.type,
                                                architecture: conversion.architecture)
            if let note { report.notes.append(note) }
            let plan = GGUFTensorPlan(name: t.name, type: type, shape: shape)
            let bytes = sources.reduce(0) { $0 + $1.byteCount }
            pending.append(PendingTensor(plan: plan, sourceBytes: bytes, source: .values { () throws(ConvertError) -> [Float] in
                var parts: [[Float]] = []
                for s in sources {
                    do throws(TensorFileError) { parts.append(try s.floats()) } catch { throw .file(error) }
                }
                return transform(parts, shape: t.sourceShape, t.transform)
            }, release: {
                for s in sources { s.file.dropPages(s.offset..<s.offset + s.byteCount) }
            }))
        }
        let name = config.string("_name_or_path").flatMap { $0.isEmpty ? nil : $0 }
            ?? String(directory.split(separator: "/").last ?? "model")
        var metadata: [(key: String, value: GGUFValue)] = [
            (MetadataKey.architecture, .string(conversion.architecture)),
            (MetadataKey.name, .string(name)),
        ]
        metadata += generalKeys(options.type)
        metadata += conversion.metadata
        metadata += sentence
        metadata += tokenizer
        try write(pending, metadata: metadata, output: output, options: options, report: &report)
        return report
    }

    /// The model's safetensors: the sharded index when there is one, else model.safetensors.
    static func safetensorsPath(_ directory: String) throws(ConvertError) -> String {
        for name in ["model.safetensors.index.json", "model.safetensors"] where access(directory + "/" + name, F_OK) == 0 {
            return directory + "/" + name
        }
        if access(directory + "/pytorch_model.bin", F_OK) == 0 {
            throw .input("\(directory): only pytorch_model.bin found; quantize reads safetensors (save with safe_serialization=True)")
        }
        throw .input("\(directory): no model.safetensors or model.safetensors.index.json")
    }

    /// Applies `transform` to source tensors of PyTorch shape `shape`.
    static func transform(_ parts: [[Float]], shape: [Int], _ transform: TensorTransform) -> [Float] {
        switch transform {
        case .none, .reshape:
            return parts[0]
        case .stack:
            return Array(parts.joined())
        case let .dropRows(n):
            let x = parts[0]
            return Array(x[(n * x.count / shape[0])...])
        case let .permuteRows(heads):
            let x = parts[0], rows = shape[0], cols = x.count / rows, headDim = rows / heads, half = headDim / 2
            var y = [Float](repeating: 0, count: x.count)
            for h in 0..<heads {
                for i in 0..<half {
                    for j in 0..<2 {
                        let to = (h * headDim + i * 2 + j) * cols, from = (h * headDim + j * half + i) * cols
                        for c in 0..<cols { y[to + c] = x[from + c] }
                    }
                }
            }
            return y
        case .transpose:
            let x = parts[0], rows = shape[0], cols = x.count / rows
            var y = [Float](repeating: 0, count: x.count)
            for r in 0..<rows {
                for c in 0..<cols { y[c * rows + r] = x[r * cols + c] }
            }
            return y
        }
    }

    // MARK: Writing

    static func write(_ pending: [PendingTensor], metadata: [(key: String, value: GGUFValue)], output: String,
                      options: ConvertOptions, report: inout ConvertReport) throws(ConvertError) {
        let progress = Progress(total: pending.reduce(0) { $0 + $1.sourceBytes }, count: pending.count, quiet: options.quiet)
        for note in report.notes { progress.note(note) }
        let writer: GGUFWriter
        do { writer = try GGUFWriter(path: output, metadata: metadata, tensors: pending.map(\.plan)) } catch { throw .file(error) }
        for (i, t) in pending.enumerated() {
            do {
                switch t.source {
                case let .raw(bytes):
                    try writer.writeTensor(bytes)
                case let .requantize(view):
                    try writer.writeTensor(try requantize(view, as: t.plan.type, threads: options.threads))
                case let .values(values):
                    let x = try values()
                    if let bad = x.firstIndex(where: { !$0.isFinite }) { throw nonFinite(t.plan.name, bad, x[bad]) }
                    try writer.writeTensor(quantize(x, rowLength: t.plan.shape[0], as: t.plan.type, threads: options.threads))
                }
            } catch let e as ConvertError {
                throw e
            } catch let e as TensorFileError {
                throw .file(e)
            } catch {
                throw .input("\(error)")
            }
            t.release()
            progress.tensorDone(i, t.plan, sourceBytes: t.sourceBytes)
        }
        do { try writer.finish() } catch { throw .file(error) }
        report.tensors = pending.count
        report.outputBytes = writer.bytesWritten
        progress.finish(output: output, bytes: writer.bytesWritten)
    }

    static func nonFinite(_ tensor: String, _ index: Int, _ value: Float) -> ConvertError {
        .input("tensor '\(tensor)': element \(index) is \(value); refusing to write a non-finite weight")
    }

    /// Re-quantizes a GGUF tensor row by row on `threads` threads: only one row of floats per thread exists at a
    /// time, so memory is the output tensor, not a float copy of the input.
    static func requantize(_ view: TensorView, as type: GGMLType, threads: Int) throws(ConvertError) -> [UInt8] {
        let rows = view.rowCount, rowLength = view.rowLength, rowBytes = type.byteCount(elements: rowLength)!
        let workers = max(1, min(threads, rows))
        var firstBad = [Int](repeating: Int.max, count: workers)  // per worker: the first non-finite element
        let out = [UInt8](unsafeUninitializedCapacity: rows * rowBytes) { out, n in
            firstBad.withUnsafeMutableBufferPointer { bad in
                // Each worker writes its own rows and its own slot of `bad`: the shared pointers are safe to send.
                nonisolated(unsafe) let dst = UnsafeMutableRawPointer(out.baseAddress!), bad = bad.baseAddress!
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    let row = UnsafeMutablePointer<Float>.allocate(capacity: rowLength)
                    defer { row.deallocate() }
                    for r in stride(from: w * rows / workers, to: (w + 1) * rows / workers, by: 1) {
                        dequantizeRow(view.row(r), count: rowLength, as: view.type, into: row)
                        if let c = (0..<rowLength).first(where: { !row[$0].isFinite }) {
                            bad[w] = r * rowLength + c
                            return
                        }
                        quantizeRow(row, count: rowLength, as: type, into: dst + r * rowBytes)
                    }
                }
            }
            n = rows * rowBytes
        }
        if let bad = firstBad.min(), bad != Int.max {
            var row = [Float](repeating: 0, count: rowLength)
            row.withUnsafeMutableBufferPointer { dequantizeRow(view.row(bad / rowLength), count: rowLength, as: view.type, into: $0.baseAddress!) }
            throw nonFinite(view.info.name, bad, row[bad % rowLength])
        }
        return out
    }

    /// Quantizes whole rows of `x` on `threads` threads.
    static func quantize(_ x: [Float], rowLength: Int, as type: GGMLType, threads: Int) -> [UInt8] {
        let rows = x.count / rowLength, rowBytes = type.byteCount(elements: rowLength)!
        let workers = max(1, min(threads, rows))
        return [UInt8](unsafeUninitializedCapacity: rows * rowBytes) { out, n in
            x.withUnsafeBufferPointer { src in
                // Each worker writes its own rows: the shared pointers are safe to send.
                nonisolated(unsafe) let src = src.baseAddress!, dst = UnsafeMutableRawPointer(out.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    for r in stride(from: w * rows / workers, to: (w + 1) * rows / workers, by: 1) {
                        quantizeRow(src + r * rowLength, count: rowLength, as: type, into: dst + r * rowBytes)
                    }
                }
            }
            n = rows * rowBytes
        }
    }
}
