// What the model-running commands share: loading a model and a session, their flags, id lists, the memory report.

import Engine
import Kernels

enum Common {
    /// Flags that take a value, shared by every command that runs a model.
    static let sessionFlags: Set<String> = ["-m", "--model", "-c", "--ctx", "--cache-type", "-t", "--threads", "-b", "--batch"]

    static func modelPath(_ f: Flags, usage: String) throws -> String {
        guard let path = f.value("-m") ?? f.value("--model") else { throw CLIError("no model: give -m MODEL (\(usage))") }
        return path
    }

    /// The context `generate` and `chat` take without --ctx, capped at the model's own: llama.cpp's default n_ctx.
    /// The model's own length (`--ctx 0`) can be far more than a conversation needs (and than memory holds).
    static let defaultContext = 4096

    /// --ctx (or -c), nil when not given.
    static func context(_ f: Flags) throws -> Int? {
        let name = f.value("-c") != nil ? "-c" : "--ctx"
        return f.value(name) == nil ? nil : try f.int(name, default: 0, range: 0...(1 << 24))
    }

    static func sessionOptions(_ f: Flags, allLogits: Bool = false) throws -> SessionOptions {
        var o = SessionOptions()
        o.context = try context(f) ?? 0
        o.threads = try f.int(f.value("-t") != nil ? "-t" : "--threads", default: 0, range: 0...1024)
        o.batch = try f.int(f.value("-b") != nil ? "-b" : "--batch", default: 512, range: 1...(1 << 16))
        o.halfCache = try halfCache(f)
        o.allLogits = allLogits
        return o
    }

    /// --cache-type f16 (the default, as llama.cpp's) or f32.
    static func halfCache(_ f: Flags) throws -> Bool {
        switch f.value("--cache-type") ?? "f16" {
        case "f16": return true
        case "f32": return false
        case let other: throw CLIError("--cache-type '\(other)' is not one of f16, f32")
        }
    }

    /// "1,2,3" → [1, 2, 3]; every id must be a non-negative 32-bit integer (the model checks the vocabulary).
    static func ids(_ s: String, flag: String) throws -> [Int32] {
        let parts = s.split(separator: ",", omittingEmptySubsequences: false)
        var out: [Int32] = []
        for (i, p) in parts.enumerated() {
            let t = p.trimmingSpaces
            guard let id = Int32(t), id >= 0 else { throw CLIError("\(flag): item \(i) '\(t)' is not a token id") }
            out.append(id)
        }
        guard !out.isEmpty else { throw CLIError("\(flag): no ids") }
        return out
    }

    /// Loads the model and creates a session (its arena planned, checked against the memory limit, allocated);
    /// without --ctx, a context of `defaultContext` capped at the model's own when one is given.
    static func open(_ f: Flags, _ o: SessionOptions, usage: String, defaultContext: Int? = nil) throws -> (Session, loadMs: Double) {
        let t0 = monotonicMs()
        let model = try Model(path: try modelPath(f, usage: usage))
        var o = o
        if let d = defaultContext, try context(f) == nil, let shape = model.decoderShape { o.context = min(d, shape.trainContext) }
        let session = try Session(model, o)
        return (session, monotonicMs() - t0)
    }

    /// The memory plan on stderr (every region with -v), once the inputs are known to be good: a failing
    /// command prints only its error line.
    static func reportMemory(_ session: Session, _ f: Flags) {
        reportMemory(session.memorySummary, session.plan, f)
    }

    static func reportMemory(_ session: Seq2SeqSession, _ f: Flags) {
        reportMemory(session.memorySummary, session.plan, f)
    }

    private static func reportMemory(_ summary: String, _ plan: ArenaPlan, _ f: Flags) {
        writeErr(summary)
        if f.has("-v") {
            writeErr("  kernels \(KernelSet.selected.name)")
            for r in plan.regions where r.name != "kv" && r.name != "cross kv" { writeErr("  \(r.name) \(formatBytes(r.bytes))") }
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
