// `swiftlet bench`: prompt processing (pp) and token generation (tg) speed as llama-bench measures them:
// pp evaluates N prompt tokens in batches from an empty context, tg evaluates N tokens one at a time from an
// empty context; one warm-up run, then the mean and standard deviation of tokens/s over -r runs.

import Engine
import TensorFile

enum Bench {
    static let usage = "swiftlet bench -m MODEL [-p 512] [-n 128] [-t 2] [-r 3] [--cache-type f16|f32] [--json]"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: Common.sessionFlags.union(["-p", "-n", "-r"]), booleans: ["--json", "-v"])
        guard f.positionals.isEmpty else { throw CLIError("unexpected argument '\(f.positionals[0])' (\(usage))") }
        let pp = try f.int("-p", default: 512, range: 0...(1 << 20))
        let tg = try f.int("-n", default: 128, range: 0...(1 << 20))
        let reps = try f.int("-r", default: 3, range: 1...1000)
        guard pp + tg > 0 else { throw CLIError("-p and -n are both 0: nothing to measure") }
        var o = try Common.sessionOptions(f)
        if o.context == 0 { o.context = max(pp, tg) }
        let (session, _) = try Common.open(f, o, usage: usage)
        Common.reportMemory(session, f)
        let vocab = session.shape.vocab
        // llama-bench feeds random tokens; any fixed ids exercise the same arithmetic.
        let prompt = (0..<pp).map { Int32(($0 * 7919 + 13) % vocab) }

        func measure(_ tokens: Int, _ body: () throws -> Void) throws -> (rate: Double, stddev: Double)? {
            guard tokens > 0 else { return nil }
            try body()  // warm-up
            var rates: [Double] = []
            for _ in 0..<reps {
                let t0 = monotonicMs()
                try body()
                rates.append(Double(tokens) * 1000 / (monotonicMs() - t0))
            }
            let mean = rates.reduce(0, +) / Double(reps)
            let variance = reps > 1 ? rates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(reps - 1) : 0
            return (mean, variance.squareRoot())
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
        func round2(_ x: Double) -> String { jsonNumber((x * 100).rounded() / 100) }
        if f.has("--json") {
            var parts: [String] = []
            if let ppRate { parts.append("\"pp\":{\"tokens\":\(pp),\"tokens_per_s\":\(round2(ppRate.rate)),\"stddev\":\(round2(ppRate.stddev))}") }
            if let tgRate { parts.append("\"tg\":{\"tokens\":\(tg),\"tokens_per_s\":\(round2(tgRate.rate)),\"stddev\":\(round2(tgRate.stddev))}") }
            writeOut("{" + parts.joined(separator: ",") + ",\"threads\":\(session.threads)}\n")
        } else {
            if let ppRate { writeOut("pp\(pp)  \(round2(ppRate.rate)) ± \(round2(ppRate.stddev)) t/s\n") }
            if let tgRate { writeOut("tg\(tg)  \(round2(tgRate.rate)) ± \(round2(tgRate.stddev)) t/s\n") }
        }
        return 0
    }
}
