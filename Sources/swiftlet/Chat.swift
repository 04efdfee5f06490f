// `swiftlet chat`: an interactive conversation; one user message per stdin line, the reply streamed to
// stdout. The session keeps its cache between turns, so each turn evaluates only its own new tokens.

import Engine
import TensorFile

enum Chat {
    static let usage = "swiftlet chat -m MODEL [--system TEXT] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] "
        + "[--repeat-penalty R] [--repeat-last-n N] [--seed S] [--ctx C] [--cache-type f16|f32] [--context-shift] [-t THREADS] [-v]"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: Common.sessionFlags.union([
            "--system", "-n", "--temp", "--top-k", "--top-p", "--min-p", "--repeat-penalty", "--repeat-last-n", "--seed",
        ]), booleans: ["--context-shift", "-v"])
        guard f.positionals.isEmpty else { throw CLIError("unexpected argument '\(f.positionals[0])' (\(usage))") }
        var o = GenerateOptions()
        o.maxTokens = try f.int("-n", default: 512, range: 1...(1 << 24))
        o.contextShift = f.has("--context-shift")
        let (session, _) = try Common.open(f, try Common.sessionOptions(f), usage: usage, defaultContext: Common.defaultContext)
        Common.reportMemory(session, f)
        let model = session.model, tokenizer = model.tokenizer
        let template = ChatTemplate(model)
        var sampler = Sampler(try Generate.samplerParams(f), vocabSize: model.vocabSize)
        var conversation = tokenizer.encode(template.start(system: f.value("--system")), addSpecial: true)
        o.keep = conversation.count
        writeErr("chat: \(template.name) template; one message per line, end with EOF")
        while let line = readLine() {
            conversation += tokenizer.encode(template.user(line), addSpecial: false)
            var stream = TextStream(tokenizer)
            let r = try session.generate(prompt: conversation, o, sampler: &sampler) { id in
                stream.push(id) { writeOut($0) }
                return true
            }
            stream.finish { writeOut($0) }
            writeOut("\n")
            writeErr(Generate.timingLine(r, loadMs: nil))
            if r.stop == .context { throw CLIError("the context of \(session.context) tokens is full (use --context-shift or a larger --ctx)") }
            // The cache holds the conversation (less what a context shift dropped) but for the last sampled id.
            conversation = Array(session.tokens) + r.ids.suffix(1)
            conversation += tokenizer.encode(template.afterReply, addSpecial: false)
        }
        return 0
    }
}

/// How a conversation is spelled for the model: ChatML when the model's template uses it (SmolLM2, Qwen),
/// plain lines otherwise. A Jinja interpreter is out of scope; llama.cpp also detects templates by markers.
struct ChatTemplate {
    let chatML: Bool
    var name: String { chatML ? "ChatML" : "plain" }

    init(_ model: Model) {
        chatML = (try? model.file.string(MetadataKey.chatTemplate))?.contains("<|im_start|>") ?? false
    }

    func start(system: String?) -> String {
        guard let system else { return "" }
        return chatML ? "<|im_start|>system\n\(system)<|im_end|>\n" : "\(system)\n"
    }

    func user(_ text: String) -> String {
        chatML ? "<|im_start|>user\n\(text)<|im_end|>\n<|im_start|>assistant\n" : "User: \(text)\nAssistant:"
    }

    /// What follows the reply's end token before the next user turn.
    var afterReply: String { "\n" }
}
