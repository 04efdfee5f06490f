// The swiftlet command line: one subcommand per file; errors print one `error:` line and exit 1.

import TensorFile
#if canImport(Glibc)
import Glibc
#endif

let commands = "inspect, tokenize, generate, chat, logits, perplexity, bench, embed, fill-mask, nsp, classify, ner, qa"
let usage = """
    usage: swiftlet COMMAND ...
      \(Inspect.usage)
      \(Tokenize.usage)
      \(Generate.usage)
      \(Chat.usage)
      \(Logits.usage)
      \(Perplexity.usage)
      \(Bench.help)
      \(Embed.usage)
      \(FillMask.usage)
      \(NSP.usage)
      \(Classify.usage)
      \(NER.usage)
      \(QA.usage)
    """

TemporaryFiles.removeOnInterrupt()  // logits --out
let args = CommandLine.arguments
let status: Int32
do {
    if let i = invalidUTF8Argument() { throw CLIError("argument \(i) is not valid UTF-8 (text and paths are read as UTF-8)") }
    switch args.count > 1 ? args[1] : "" {
    case "inspect": status = try Inspect.run(args[2...])
    case "tokenize": status = try Tokenize.run(args[2...])
    case "generate": status = try Generate.run(args[2...])
    case "logits": status = try Logits.run(args[2...])
    case "perplexity": status = try Perplexity.run(args[2...])
    case "bench": status = try Bench.run(args[2...])
    case "chat": status = try Chat.run(args[2...])
    case "embed": status = try Embed.run(args[2...])
    case "fill-mask": status = try FillMask.run(args[2...])
    case "nsp": status = try NSP.run(args[2...])
    case "classify": status = try Classify.run(args[2...])
    case "ner": status = try NER.run(args[2...])
    case "qa": status = try QA.run(args[2...])
    case "-h", "--help", "help":
        writeOut(usage + "\n")
        status = 0
    case "": throw CLIError("no command (commands: \(commands); see swiftlet --help)")
    case let other: throw CLIError("unknown command '\(other)' (commands: \(commands); see swiftlet --help)")
    }
} catch {
    writeErr("error: " + printable("\(error)"))
    status = 1
}
exit(status)
