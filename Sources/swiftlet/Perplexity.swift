// `swiftlet perplexity`: llama.cpp's perplexity over a text file, so the numbers compare.

import Engine
import TensorFile

enum Perplexity {
    static let usage = "swiftlet perplexity -m MODEL -f FILE [--ctx N] [--cache-type f16|f32] [-t THREADS] [--json] [-v]"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: Common.sessionFlags.union(["-f", "--file"]), booleans: ["--json", "-v"])
        guard f.positionals.isEmpty else { throw CLIError("unexpected argument '\(f.positionals[0])' (\(usage))") }
        guard let path = f.value("-f") ?? f.value("--file") else { throw CLIError("no -f FILE (\(usage))") }
        let text = try readTextFile(path)
        var o = try Common.sessionOptions(f, allLogits: true)
        if o.context == 0 { o.context = 512 }  // llama-perplexity's default -c
        // The text's length is checked before the session is sized by --ctx.
        let model = try Model(path: try Common.modelPath(f, usage: usage))
        let tokens = model.tokenizer.encode(text, addSpecial: true)
        try checkPerplexityInput(tokens: tokens.count, context: o.context)
        let session = try Session(model, o)
        Common.reportMemory(session, f)
        let t0 = monotonicMs()
        let r = try perplexity(session, tokens: tokens) { chunk, ppl in
            if !f.has("--json") { writeErr("[\(chunk)]\(jsonNumber((ppl * 10000).rounded() / 10000))") }
        }
        let seconds = (monotonicMs() - t0) / 1000
        writeErr("\(r.chunks) chunks of \(session.context) tokens (\(tokens.count) in the file), \(jsonNumber((seconds * 100).rounded() / 100)) s")
        if f.has("--json") {
            writeOut("{\"ppl\":\(jsonNumber(r.ppl)),\"tokens\":\(tokens.count),\"chunks\":\(r.chunks)}\n")
        } else {
            writeOut("ppl \(jsonNumber((r.ppl * 10000).rounded() / 10000))\n")
        }
        return 0
    }
}
