// The swiftlet command line: one subcommand per file; errors print one `error:` line and exit 1.

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: swiftlet COMMAND ...
      inspect MODEL [--json]     metadata and tensors of a GGUF file
    """

let args = CommandLine.arguments
let status: Int32
do {
    switch args.count > 1 ? args[1] : "" {
    case "inspect": status = try Inspect.run(args[2...])
    case "-h", "--help", "help":
        writeOut(usage + "\n")
        status = 0
    case "": throw CLIError("no command (commands: inspect; see swiftlet --help)")
    case let other: throw CLIError("unknown command '\(other)' (commands: inspect; see swiftlet --help)")
    }
} catch {
    writeErr("error: \(error)")
    status = 1
}
exit(status)
