// `swiftlet bench`: prompt processing (pp) and token generation (tg) speed as llama-bench measures them:
// pp evaluates N prompt tokens in batches from an empty context, tg evaluates N tokens one at a time from an
// empty context; one warm-up run, then the mean and standard deviation of tokens/s over -r runs.
// Encoders: sentence vectors per second for --batch sequences of -p tokens each, packed into passes as `embed`
// packs them. Encoder-decoders: the encoder over a source of -p tokens, and the decoder generating exactly -n
// tokens (end tokens masked) greedily or with --beams B, timed apart.

import Engine
import Kernels
import TensorFile

enum Bench {
    /// A decoder's flags: errors quote this line, so they stay one line.
    static let usage = "swiftlet bench -m MODEL [-p 512] [-n 128] [-t THREADS] [-r 3] [--cache-type f16|f32] [--json] [-v]"
    /// Every kind of model's, for --help.
    static let help = Bench.usage + "\n"
        + "         encoders: swiftlet bench -m MODEL [-p 128] [--batch 32] [-t THREADS] [-r 3] [--json]\n"
        + "         encoder-decoders: swiftlet bench -m MODEL [-p 32] [-n 64] [--beams B] [-t THREADS] [-r 3] [--cache-type f16|f32] "
        + "[--json] [-v]"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: Common.sessionFlags.union(["-p", "-n", "-r", "--beams"]), booleans: ["--json", "-v"])
        guard f.positionals.isEmpty else { throw CLIError("unexpected argument '\(f.positionals[0])' (\(usage))") }
        let reps = try f.int("-r", default: 3, range: 1...1000)
        let model = try Model(path: try Common.modelPath(f, usage: usage))
        if model.encoder != nil { return try encoder(model, f, reps: reps) }
        if model.isEncoderDecoder { return try encoderDecoder(model, f, reps: reps) }
        if f.value("--beams") != nil { throw CLIError("--beams: beam search runs for encoder-decoder models") }
        let pp = try f.int("-p", default: 512, range: 0...(1 << 20))
        let tg = try f.int("-n", default: 128, range: 0...(1 << 20))
        guard pp + tg > 0 else { throw CLIError("-p and -n are both 0: nothing to measure") }
        var o = try Common.sessionOptions(f)
        if o.context == 0 { o.context = max(pp, tg) }
        let session = try Session(model, o)
        Common.reportMemory(session, f)
        let vocab = session.shape.vocab
        // llama-bench feeds random tokens; any fixed ids exercise the same arithmetic.
        let prompt = (0..<pp).map { Int32(($0 * 7919 + 13) % vocab) }

        func measure(_ tokens: Int, _ body: () throws -> Void) throws -> (rate: Double, stddev: Double)? {
            guard tokens > 0 else { return nil }
            return try Bench.measure(Double(tokens), reps: reps, body)
        }
        let ppRate = try measure(pp) {
            session.reset()
            try prompt.withUnsafeBufferPointer { _ = try session.evaluate($0) }
        }
        let tgRate = try measure(tg) {
            session.reset()
            for i in 0..<tg {
                var id = Int32((i * 104729 + 1) % vocab)
                try withUnsafePointer(to: &id) { _ = try session.evaluate(UnsafeBufferPointer(start: $0, count: 1)) }
            }
        }
        if f.has("--json") {
            var parts: [String] = []
            if let ppRate { parts.append("\"pp\":{\"tokens\":\(pp),\"tokens_per_s\":\(round2(ppRate.rate)),\"stddev\":\(round2(ppRate.stddev))}") }
            if let tgRate { parts.append("\"tg\":{\"tokens\":\(tg),\"tokens_per_s\":\(round2(tgRate.rate)),\"stddev\":\(round2(tgRate.stddev))}") }
            writeOut("{" + parts.joined(separator: ",") + ",\"threads\":\(session.threads),\(kernels)}\n")
        } else {
            if let ppRate { writeOut("pp\(pp)  \(round2(ppRate.rate)) ± \(round2(ppRate.stddev)) t/s\n") }
            if let tgRate { writeOut("tg\(tg)  \(round2(tgRate.rate)) ± \(round2(tgRate.stddev)) t/s\n") }
        }
        return 0
    }

    /// Items per second of `body` (`count` items a run): one warm-up, then the mean and standard deviation of -r runs.
    static func measure(_ count: Double, reps: Int, _ body: () throws -> Void) throws -> (rate: Double, stddev: Double) {
        try body()
        var rates: [Double] = []
        for _ in 0..<reps {
            let t0 = monotonicMs()
            try body()
            rates.append(count * 1000 / (monotonicMs() - t0))
        }
        let mean = rates.reduce(0, +) / Double(reps)
        let variance = reps > 1 ? rates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(reps - 1) : 0
        return (mean, variance.squareRoot())
    }

    static func round2(_ x: Double) -> String { jsonNumber((x * 100).rounded() / 100) }

    /// The kernel set the products ran on (SWIFTLET_CPU or the CPU's best), as a JSON member.
    static var kernels: String { "\"kernels\":\"\(KernelSet.selected.name)\"" }

    /// Source tokens per second through the encoder (its cross-attention keys and values included), and target
    /// tokens per second through the decoder: -n tokens from the start token, greedy or a --beams search with the
    /// end tokens masked so every run makes exactly -n (a beam step counts once, however many beams it runs).
    static func encoderDecoder(_ model: Model, _ f: Flags, reps: Int) throws -> Int32 {
        let sourceLength = try f.int("-p", default: 32, range: 1...(1 << 20))
        let newTokens = try f.int("-n", default: 64, range: 1...(1 << 20))
        var o = Seq2SeqOptions()
        o.source = sourceLength
        o.target = newTokens + 1
        o.beams = try f.int("--beams", default: 1, range: 1...64)
        o.threads = try f.int(f.value("-t") != nil ? "-t" : "--threads", default: 0, range: 0...1024)
        o.halfCache = try Common.halfCache(f)
        let session = try Seq2SeqSession(model, o)
        Common.reportMemory(session, f)
        let vocab = model.vocabSize
        let source = (0..<sourceLength).map { Int32(($0 * 7919 + 13) % vocab) }
        let encode = try measure(Double(sourceLength), reps: reps) { try session.encode(source) }
        var greedy = SamplerParams()
        greedy.temperature = 0
        var sampler = Sampler(greedy, vocabSize: vocab)
        func decodeOnce() throws {
            if o.beams > 1 {
                let best = try session.beamSearch(maxTokens: newTokens, ignoreEOS: true)[0]
                guard best.ids.count == newTokens + 1 else { throw CLIError("the beam search made \(best.ids.count - 1) tokens, not \(newTokens)") }
            } else {
                let r = try session.generate(maxTokens: newTokens, sampler: &sampler, ignoreEOS: true) { _ in true }
                guard r.ids.count == newTokens else { throw CLIError("greedy decoding made \(r.ids.count) tokens, not \(newTokens)") }
            }
        }
        // Each run encodes the source, then decodes; both rates come from the same runs, timed apart.
        try session.encode(source)
        try decodeOnce()
        var decodeMs = 0.0, totalMs = 0.0
        for _ in 0..<reps {
            let t0 = monotonicMs()
            try session.encode(source)
            let t1 = monotonicMs()
            try decodeOnce()
            let t2 = monotonicMs()
            decodeMs += t2 - t1
            totalMs += t2 - t0
        }
        let decodeRate = Double(newTokens * reps) * 1000 / decodeMs, withEncodeRate = Double(newTokens * reps) * 1000 / totalMs
        if f.has("--json") {
            writeOut("{\"encode\":{\"tokens\":\(sourceLength),\"tokens_per_s\":\(round2(encode.rate)),\"stddev\":\(round2(encode.stddev))},"
                + "\"decode\":{\"tokens\":\(newTokens),\"beams\":\(o.beams),\"tokens_per_s\":\(round2(decodeRate)),"
                + "\"with_encode_tokens_per_s\":\(round2(withEncodeRate))},\"threads\":\(session.threads),\(kernels)}\n")
        } else {
            writeOut("encode \(sourceLength) tokens  \(round2(encode.rate)) ± \(round2(encode.stddev)) t/s\n")
            writeOut("decode \(newTokens) tokens, \(o.beams) beam\(o.beams == 1 ? "" : "s")  \(round2(decodeRate)) t/s"
                + " (\(round2(withEncodeRate)) with the encoder)\n")
        }
        return 0
    }

    /// Sentence vectors per second: --batch sequences of -p tokens (the first the BOS/CLS token) per run.
    static func encoder(_ model: Model, _ f: Flags, reps: Int) throws -> Int32 {
        let e = model.encoder!
        let length = try f.int("-p", default: 128, range: 1...e.shape.positions)
        let batch = try f.int(f.value("-b") != nil ? "-b" : "--batch", default: 32, range: 1...(1 << 16))
        var o = EncoderOptions()
        o.threads = try f.int(f.value("-t") != nil ? "-t" : "--threads", default: 0, range: 0...1024)
        let session = try EncoderSession(model, o)
        writeErr(session.memorySummary)
        if f.has("-v") { writeErr("  kernels \(KernelSet.selected.name)") }
        let vocab = e.shape.vocab, first = model.tokenizer.bos ?? 0
        let inputs = (0..<batch).map { s in
            EncoderInput(ids: [first] + (1..<length).map { Int32(($0 * 7919 + s * 104729 + 13) % vocab) })
        }
        let rate = try measure(Double(batch), reps: reps) {
            var start = 0
            while start < batch {
                let n = min(batch - start, max(1, session.tokensPerPass / length))
                try session.run(Array(inputs[start..<start + n]))
                for i in 0..<n { _ = session.embedding(i, pooling: .mean, normalize: true) }
                start += n
            }
        }
        if f.has("--json") {
            writeOut("{\"embed\":{\"tokens\":\(length),\"batch\":\(batch),\"sentences_per_s\":\(round2(rate.rate)),"
                + "\"stddev\":\(round2(rate.stddev))},\"threads\":\(session.threads),\(kernels)}\n")
        } else {
            writeOut("embed \(length) tokens × \(batch)  \(round2(rate.rate)) ± \(round2(rate.stddev)) sentences/s\n")
        }
        return 0
    }
}
