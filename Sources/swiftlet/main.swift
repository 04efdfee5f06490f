// The swiftlet command line: one subcommand per file; errors print one `error:` line and exit 1.

#if canImport(Glibc)
import Glibc
#endif

let commands = "inspect, tokenize, generate, chat, logits, perplexity, bench"
let usage = """
    usage: swiftlet COMMAND ...
      inspect MODEL [--json]     metadata and tensors of a GGUF file
      \(Tokenize.usage)
      \(Generate.usage)
      \(Chat.usage)
      \(Logits.usage)
      \(Perplexity.usage)
      \(Bench.usage)
    """

let args = CommandLine.arguments
let status: Int32
do {
    switch args.count > 1 ? args[1] : "" {
    case "inspect": status = try Inspect.run(args[2...])
    case "tokenize": status = try Tokenize.run(args[2...])
    case "generate": status = try Generate.run(args[2...])
    case "logits": status = try Logits.run(args[2...])
    case "perplexity": status = try Perplexity.run(args[2...])
    case "bench": status = try Bench.run(args[2...])
    case "chat": status = try Chat.run(args[2...])
    case "-h", "--help", "help":
        writeOut(usage + "\n")
        status = 0
    case "": throw CLIError("no command (commands: \(commands); see swiftlet --help)")
    case let other: throw CLIError("unknown command '\(other)' (commands: \(commands); see swiftlet --help)")
    }
} catch {
    writeErr("error: \(error)")
    status = 1
}
exit(status)
