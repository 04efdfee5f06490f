// `swiftlet generate`: continue a prompt with a causal decoder, streaming the text (or --json at the end).

import Engine
import TensorFile

enum Generate {
    static let usage = "swiftlet generate -m MODEL (-p PROMPT | --ids 1,2,3) [-n N] [--temp T] [--top-k K] [--top-p P] "
        + "[--min-p P] [--repeat-penalty R] [--repeat-last-n N] [--seed S] [--beams B] [--length-penalty L] [--ignore-eos] [--ctx C] "
        + "[--cache-type f16|f32] [--context-shift] [--keep N] [-t THREADS] [--json] [-v]"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: Common.sessionFlags.union([
            "-p", "--prompt", "--ids", "-n", "--n-predict", "--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty",
            "--repeat-last-n", "--seed", "--beams", "--length-penalty", "--keep",
        ]), booleans: ["--json", "--ignore-eos", "--context-shift", "-v"])
        guard f.positionals.isEmpty else { throw CLIError("unexpected argument '\(f.positionals[0])' (\(usage))") }
        let prompt = f.value("-p") ?? f.value("--prompt")
        guard (prompt == nil) != (f.value("--ids") == nil) else { throw CLIError("give exactly one of -p PROMPT or --ids (\(usage))") }
        var o = GenerateOptions()
        o.maxTokens = try f.int(f.value("-n") != nil ? "-n" : "--n-predict", default: 128, range: 1...(1 << 24))
        o.ignoreEOS = f.has("--ignore-eos")
        o.contextShift = f.has("--context-shift")
        o.keep = try f.int("--keep", default: 0, range: 0...(1 << 24))
        let params = try samplerParams(f)
        let beams = try f.int("--beams", default: 1, range: 1...64)
        let t0 = monotonicMs()
        let model = try Model(path: try Common.modelPath(f, usage: usage))
        if model.isEncoderDecoder {
            return try encoderDecoder(model, f, prompt: prompt, params: params, o, beams: beams, loadMs: monotonicMs() - t0)
        }
        if beams > 1 {
            throw CLIError("--beams: beam search runs for encoder-decoder models; decoders sample or take the argmax")
        }
        var sessionOptions = try Common.sessionOptions(f)
        if try Common.context(f) == nil, let shape = model.decoderShape {
            sessionOptions.context = min(Common.defaultContext, shape.trainContext)
        }
        let session = try Session(model, sessionOptions)
        let loadMs = monotonicMs() - t0
        let tokenizer = session.model.tokenizer
        let ids = try prompt.map { tokenizer.encode($0, addSpecial: true) } ?? Common.ids(f.value("--ids")!, flag: "--ids")
        try session.checkPrompt(ids)
        Common.reportMemory(session, f)
        var sampler = Sampler(params, vocabSize: session.shape.vocab)
        let json = f.has("--json")
        var stream = TextStream(tokenizer)
        let r = try session.generate(prompt: ids, o, sampler: &sampler) { id in
            if !json { stream.push(id) { writeOut($0) } }
            return true
        }
        if !json { stream.finish { writeOut($0) }; writeOut("\n") }
        let text = tokenizer.decode(r.ids)
        if json {
            writeOut(jsonObject(prompt: ids, r, text: text, loadMs: loadMs,
                          memory: (session.model.weightsBytes, session.kvBytes, session.arenaBytes)))
        }
        writeErr(timingLine(r, loadMs: loadMs))
        return 0
    }

    /// An encoder-decoder: PROMPT (or --ids) is the source; the target starts from the decoder start token and is
    /// sampled as a decoder's continuation is; "ids" are the tokens after the start token.
    /// With --beams B > 1, a beam search (transformers' semantics, --length-penalty) whose best hypothesis is the
    /// output and whose B finished hypotheses are listed in "beams". The model's generation config gives the
    /// logits processors, the default length penalty and early stopping, and (without -n) the target length.
    static func encoderDecoder(_ model: Model, _ f: Flags, prompt: String?, params: SamplerParams, _ o: GenerateOptions,
                               beams: Int, loadMs: Double) throws -> Int32 {
        let tokenizer = model.tokenizer
        let source = try prompt.map { tokenizer.encode($0, addSpecial: true) } ?? Common.ids(f.value("--ids")!, flag: "--ids")
        var options = Seq2SeqOptions()
        // The source limit is the source's own length, the target's --ctx or the default context (either capped at
        // the model's positions): the model's own length is what a file says, and sizes the caches.
        let positions = try model.contextLength()
        options.source = max(1, min(source.count, positions))
        options.target = try Common.context(f) ?? min(Common.defaultContext, positions)
        options.threads = try f.int(f.value("-t") != nil ? "-t" : "--threads", default: 0, range: 0...1024)
        options.beams = beams
        options.halfCache = try Common.halfCache(f)
        let session = try Seq2SeqSession(model, options)
        var o = o
        if f.value("-n") == nil, f.value("--n-predict") == nil, let length = model.generation.maxLength {
            o.maxTokens = max(1, length - 1)  // transformers' max_length counts the start token
        }
        let t0 = monotonicMs()
        try session.encode(source)
        Common.reportMemory(session, f)
        if beams > 1 {
            let penalty = try f.float("--length-penalty", default: model.generation.lengthPenalty, range: -100...100)
            let t1 = monotonicMs()
            let hypotheses = try session.beamSearch(maxTokens: o.maxTokens, lengthPenalty: penalty,
                                                    earlyStopping: model.generation.earlyStopping, ignoreEOS: o.ignoreEOS)
            let best = Array(hypotheses[0].ids.dropFirst())
            let stop: StopReason = best.last.map(tokenizer.isEndOfGeneration) == true ? .eos : .length
            if f.has("--json") {
                let list = hypotheses.map {
                    "{\"ids\":[\($0.ids.dropFirst().map(String.init).joined(separator: ","))],\"score\":\(jsonNumber($0.score))}"
                }
                var r = GenerateResult()
                (r.ids, r.stop, r.promptTokens, r.promptMs, r.genMs) = (best, stop, source.count, t1 - t0, monotonicMs() - t1)
                writeOut(jsonObject(prompt: source, r, text: tokenizer.decode(best), beams: "[\(list.joined(separator: ","))]",
                              loadMs: loadMs, memory: (model.weightsBytes, session.cacheBytes, session.plan.bytes - session.cacheBytes)))
            } else {
                writeOut(tokenizer.decode(best) + "\n")
            }
            return 0
        }
        var sampler = Sampler(params, vocabSize: model.vocabSize)
        let json = f.has("--json")
        var stream = TextStream(tokenizer)
        var r = try session.generate(maxTokens: o.maxTokens, sampler: &sampler, ignoreEOS: o.ignoreEOS) { id in
            if !json { stream.push(id) { writeOut($0) } }
            return true
        }
        r.promptMs = monotonicMs() - t0 - r.genMs  // the encoder's time counts as the prompt's
        if !json { stream.finish { writeOut($0) }; writeOut("\n") }
        if json {
            writeOut(jsonObject(prompt: source, r, text: tokenizer.decode(r.ids), loadMs: loadMs,
                                memory: (model.weightsBytes, session.cacheBytes, session.plan.bytes - session.cacheBytes)))
        }
        writeErr(timingLine(r, loadMs: loadMs))
        return 0
    }

    /// generate's --json object (docs/CLI.md); `beams`, a JSON list, when a beam search ran.
    static func jsonObject(prompt: [Int32], _ r: GenerateResult, text: String, beams: String? = nil, loadMs: Double,
                           memory: (weights: Int, kv: Int, arena: Int)) -> String {
        var out = "{\"prompt_ids\":[\(prompt.map(String.init).joined(separator: ","))],"
        out += "\"ids\":[\(r.ids.map(String.init).joined(separator: ","))],\"text\":\(jsonQuoted(text)),"
        out += "\"stop\":\"\(r.stop.rawValue)\"," + (beams.map { "\"beams\":\($0)," } ?? "")
        out += "\"timings\":{\"load_ms\":\(jsonNumber(loadMs)),"
        out += "\"prompt_tokens\":\(r.promptTokens),\"prompt_ms\":\(jsonNumber(r.promptMs)),"
        out += "\"gen_tokens\":\(r.ids.count),\"gen_ms\":\(jsonNumber(r.genMs))},"
        out += "\"memory\":{\"weights_bytes\":\(memory.weights),\"kv_bytes\":\(memory.kv),\"arena_bytes\":\(memory.arena)}}\n"
        return out
    }

    static func samplerParams(_ f: Flags) throws -> SamplerParams {
        var p = SamplerParams()
        p.temperature = try f.float("--temp", default: p.temperature, range: 0...100)
        p.topK = try f.int("--top-k", default: p.topK, range: 0...(1 << 24))
        p.topP = try f.float("--top-p", default: p.topP, range: 0...1)
        p.minP = try f.float("--min-p", default: p.minP, range: 0...1)
        p.repeatPenalty = try f.float("--repeat-penalty", default: p.repeatPenalty, range: 0...100)
        // Logits are divided by it: 0 is no penalty but a division by zero (the C API refuses it too).
        guard p.repeatPenalty > 0 else { throw CLIError("--repeat-penalty 0 must be more than 0 (1: off)") }
        p.repeatLastN = try f.int("--repeat-last-n", default: p.repeatLastN, range: 0...(1 << 24))
        if let s = f.value("--seed") {
            guard let seed = UInt64(s) else { throw CLIError("--seed '\(s)' is not an unsigned 64-bit integer") }
            p.seed = seed
        }
        return p
    }

    /// "stop: eos · load 45 ms · prompt 5 tokens 209.6 t/s · generated 48 tokens 150.7 t/s" (no load for chat turns).
    static func timingLine(_ r: GenerateResult, loadMs: Double?) -> String {
        func rate(_ n: Int, _ ms: Double) -> String { ms > 0 ? jsonNumber((Double(n) * 1000 / ms * 10).rounded() / 10) : "-" }
        return "stop: \(r.stop.rawValue)" + (loadMs.map { " · load \(Int($0)) ms" } ?? "")
            + " · prompt \(r.promptTokens) tokens \(rate(r.promptTokens, r.promptMs)) t/s"
            + (r.reusedTokens > 0 ? " (\(r.reusedTokens) reused)" : "")
            + " · generated \(r.ids.count) tokens \(rate(r.ids.count, r.genMs)) t/s"
    }
}
