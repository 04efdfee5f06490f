// Bad input from outside (issue 19): metadata asking for absurd sizes, names holding control characters, special
// files in place of models, texts and outputs, an interrupted quantize. Each ends in a result or one clean error line,
// within seconds and bounded memory, with nothing left behind or replaced.

@testable import Engine
import Foundation
import Testing
import TestSupport
import TensorFile

/// Whether tools/sanitize.sh built the tools: a sanitizer's shadow memory needs more address space than ulimit -v gives.
private let sanitized = ProcessInfo.processInfo.environment["SWIFTLET_SANITIZER"] != nil

/// `swiftlet ARGS` under a 4 GiB address-space limit (as the fuzzer ran it; none in a sanitizer build), killed after
/// `timeout` seconds.
private func limited(_ args: [String], input: String = "", timeout: Double = 60) throws -> Run {
    let exe = builtExecutable("swiftlet")
    let limit = sanitized ? "" : "ulimit -v 4194304 && "
    return try run("/bin/sh", ["-c", limit + "exec \"$@\"", "sh", exe] + args, input: input, timeout: timeout)
}

private func quantize(_ args: [String], timeout: Double = 60) throws -> Run {
    try run(builtExecutable("quantize"), args + ["--quiet"], timeout: timeout)
}

/// A copy of fixture `fixture`'s F32 GGUF with `setting` applied, in a scratch directory of its own.
private func hostileGGUF(_ fixture: String, _ name: String, setting: KeyValuePairs<String, GGUFValue>) throws -> String {
    let path = try temporaryDirectory("hostile-\(name)").appendingPathComponent("model.gguf").path
    try ggufCopy(try fixtureGGUF(fixture, .f32), to: path, setting: setting)
    return path
}

@Suite struct HostileMetadataTests {
    static let families = [("llama-tiny", "llama"), ("gpt2-tiny", "gpt2"), ("ctrl-tiny", "ctrl"), ("xlnet-tiny", "xlnet"),
                           ("bert-tiny", "bert"), ("albert-tiny", "albert"), ("t5-tiny", "t5"), ("bart-tiny", "bart"),
                           ("marian-tiny", "marian")]

    /// A block count of 2^24 sized per-layer tables before the first missing tensor was found (9 GB for T5).
    @Test(arguments: families)
    func absurdBlockCountIsRefusedAtOnce(fixture: String, architecture: String) throws {
        var keys = [MetadataKey.blockCount(architecture)]
        if ["t5", "bart", "marian"].contains(architecture) { keys.append(MetadataKey.decoderBlockCount(architecture)) }
        for key in keys {
            let path = try hostileGGUF(fixture, "blocks-\(architecture)-\(key)", setting: [key: .uint32(1 << 24)])
            let start = Date()
            #expect {
                _ = try Model(path: path)
            } throws: { error in
                guard case let .config(k, _) = error as? ModelError else { return false }
                return k == key
            }
            #expect(Date().timeIntervalSince(start) < 2)
        }
    }

    /// ALBERT shares its layers, so a step count is not bounded by the tensors; it spun for minutes at 2^24.
    @Test func albertInnerGroupsPastTheFileAreRefused() throws {
        let path = try hostileGGUF("albert-tiny", "albert-inner", setting: [MetadataKey.innerGroupCount("albert"): .uint32(1 << 20)])
        #expect(throws: ModelError.self) { try Model(path: path) }
    }

    /// context_length 2^24: Marian's and CTRL's sinusoid tables were built at load (20 s and gigabytes), and generate's
    /// default context was the model's own (6.4 GB for two tokens). Now 4096 without --ctx, under a 4 GiB limit.
    @Test(arguments: [("llama-tiny", "llama"), ("ctrl-tiny", "ctrl"), ("marian-tiny", "marian"), ("t5-tiny", "t5")])
    func hugeContextLengthGeneratesWithTheDefaultContext(fixture: String, architecture: String) throws {
        let path = try hostileGGUF(fixture, "context-\(architecture)", setting: [MetadataKey.contextLength(architecture): .uint32(1 << 24)])
        let start = Date()
        _ = try Model(path: path)
        #expect(Date().timeIntervalSince(start) < 2)
        let r = try limited(["generate", "-m", path, "-p", "Hello there", "-n", "2", "--temp", "0", "-v"])
        #expect(r.status == 0, "\(r.stderr)")
        if !["marian", "t5"].contains(architecture) { #expect(r.stderr.contains("× 4096 ×"), "\(r.stderr)") }
        #expect(r.seconds < 20)
    }

    /// perplexity sized its session by --ctx before it looked at the text (6.4 GB for three tokens).
    @Test func perplexityChecksTheTextBeforeTheSession() throws {
        let text = try temporaryDirectory("ppl-short").appendingPathComponent("short.txt")
        try "Hi there".write(to: text, atomically: true, encoding: .utf8)
        let r = try limited(["perplexity", "-m", try fixtureGGUF("llama-tiny", .f32), "--ctx", "16777216", "-f", text.path])
        expectOneErrorLine(r, containing: "perplexity with a context of 16777216")
        #expect(r.seconds < 10)
    }
}

@Suite struct ControlCharacterTests {
    static let evil = "x\u{1b}[2J\u{1b}]0;owned\u{07}\n\u{0}error: fake\r"

    /// An architecture string with ESC sequences cleared the screen; a newline made two error lines; NUL got through.
    @Test func architectureWithControlCharactersIsEscaped() throws {
        let path = try hostileGGUF("llama-tiny", "evil-arch", setting: ["general.architecture": .string(Self.evil)])
        let r = try swiftlet(["generate", "-m", path, "-p", "hi"])
        expectOneErrorLine(r, containing: "\\u{1B}[2J")
    }

    @Test func tokenizerModelWithControlCharactersIsEscaped() throws {
        let path = try hostileGGUF("llama-tiny", "evil-tokenizer", setting: ["tokenizer.ggml.model": .string(Self.evil)])
        expectOneErrorLine(try swiftlet(["generate", "-m", path, "-p", "hi"]), containing: "error: ")
    }

    /// quantize names the stray tensor, whose name comes from the safetensors header.
    @Test func quantizeEscapesATensorName() throws {
        let dir = try hfCopy("llama-tiny", as: "evil-tensor", renaming: ["model.norm.weight": "model.norm\u{1b}[2J\nweight"])
        let out = dir.deletingLastPathComponent().appendingPathComponent("out.gguf").path
        expectOneErrorLine(try quantize([dir.path, out]), containing: "\\u{1B}[2J\\nweight")
    }
}

@Suite struct SpecialFileTests {
    private func fifo(_ name: String) throws -> String {
        let path = try temporaryDirectory("fifo-\(name)").appendingPathComponent("fifo").path
        try #require(mkfifo(path, 0o600) == 0)
        return path
    }

    /// A FIFO without a writer blocked forever in open(2).
    @Test func fifoAsModelOrTextIsRefused() throws {
        let model = try fifo("model")
        expectOneErrorLine(try swiftlet(["generate", "-m", model, "-p", "hi"], timeout: 20), containing: "not a regular file")
        let text = try fifo("text")
        expectOneErrorLine(try swiftlet(["perplexity", "-m", try fixtureGGUF("llama-tiny", .f32), "-f", text], timeout: 20),
                           containing: "not a regular file")
    }

    /// /dev/stdin stays readable: a pipe is how a text is streamed in.
    @Test func standardInputIsStillReadAsText() throws {
        let r = try swiftlet(["perplexity", "-m", try fixtureGGUF("llama-tiny", .f32), "-f", "/dev/stdin"], input: "Hello there")
        expectOneErrorLine(r, containing: "the text has")
    }

    @Test func fifoAsSafetensorsIsRefused() throws {
        let dir = try hfCopy("llama-tiny", as: "fifo-safetensors")
        let file = dir.appendingPathComponent("model.safetensors").path
        try FileManager.default.removeItem(atPath: file)
        try #require(mkfifo(file, 0o600) == 0)
        let out = dir.deletingLastPathComponent().appendingPathComponent("out.gguf").path
        expectOneErrorLine(try quantize([dir.path, out], timeout: 20), containing: "not a regular file")
    }

    /// Renaming over /dev/null replaced the device node with a regular file (as root); a FIFO the same way.
    @Test func outputsNeverReplaceWhatIsNotARegularFile() throws {
        let fifoOut = try fifo("output")
        let model = try fixtureGGUF("llama-tiny", .f32)
        for out in ["/dev/null", fifoOut] {
            expectOneErrorLine(try quantize([model, out]), containing: "not a regular file")
            expectOneErrorLine(try swiftlet(["logits", "-m", model, "--ids", "1,2", "--out", out]), containing: "not a regular file")
        }
        var st = stat()
        #expect(stat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR)
        #expect(stat(fifoOut, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (fifoOut as NSString).deletingLastPathComponent)
        #expect(leftovers == ["fifo"])
    }
}

/// A thread the system would not start trapped in pthread_create's precondition (-t 1024, n_threads 100000).
@Test(.disabled(if: sanitized, "a sanitizer's shadow memory needs more address space than ulimit -v gives"))
func threadsThatCannotStartAreAnError() throws {
    // A 1 GiB stack per thread (glibc takes it from RLIMIT_STACK) under a 4 GiB address space: the fourth cannot start.
    let exe = builtExecutable("swiftlet")
    let r = try run("/bin/sh", ["-c", "ulimit -v 4194304 && ulimit -s 1048576 && exec \"$@\"", "sh", exe, "generate", "-m",
                                try fixtureGGUF("llama-tiny", .f32), "-p", "hi", "-n", "2", "-t", "8"], timeout: 60)
    if ProcessInfo.processInfo.activeProcessorCount >= 2 { expectOneErrorLine(r, containing: "cannot start thread") }
    let many = try swiftlet(["generate", "-m", try fixtureGGUF("llama-tiny", .f32), "-p", "hi", "-n", "2", "-t", "1024"])
    #expect(many.status == 0, "\(many.stderr)")
}

/// SIGINT or SIGTERM in the middle of a conversion left OUTPUT.tmp.XXXXXX (up to 266 MB) behind.
@Suite struct InterruptedQuantizeTests {
    @Test(arguments: [SIGINT, SIGTERM])
    func interruptedQuantizeLeavesNothingBehind(signal: Int32) throws {
        // One 96 MB embedding makes the conversion last long enough to be interrupted in the middle.
        let dir = try hfCopy("llama-tiny", as: "interrupted-\(signal)", resizing: ["model.embed_tokens.weight": [1 << 18, 96]],
                             dropping: ["lm_head.weight"], config: ["vocab_size": 1 << 18, "tie_word_embeddings": true])
        let outDir = dir.deletingLastPathComponent().appendingPathComponent("out")
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: builtExecutable("quantize"))
        p.arguments = [dir.path, outDir.appendingPathComponent("model.gguf").path, "--type", "q4_0", "--threads", "1", "--quiet"]
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning, Date() < deadline, try FileManager.default.contentsOfDirectory(atPath: outDir.path).isEmpty {
            usleep(200)
        }
        let started = try FileManager.default.contentsOfDirectory(atPath: outDir.path)
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        try #require(started.count == 1 && started[0].hasPrefix("model.gguf.tmp."), "the conversion was not caught midway: \(started)")
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == signal)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outDir.path).isEmpty)
    }
}

/// Issue 19.10: smaller things the CLI believed or hid.
@Suite struct CLIArgumentTests {
    /// A stride of a window or more advanced one token per window (20 s on 20 KB).
    @Test func docStrideOfAWindowIsRefused() throws {
        let context = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 200)
        let r = try swiftlet(["qa", "-m", try fixtureGGUF("bert-qa-tiny", .f32), "--question", "What jumps?", "--context", context,
                              "--doc-stride", "100000"], timeout: 60)
        expectOneErrorLine(r, containing: "--doc-stride 100000")
        #expect(r.seconds < 10)
    }

    /// CommandLine.arguments replaced invalid UTF-8 silently; -f refused the same bytes.
    @Test func invalidUTF8ArgumentsAreRefused() throws {
        let model = try fixtureGGUF("llama-tiny", .f32)
        let r = try run("/bin/sh", ["-c", "exec \"$0\" generate -m \"$1\" -p \"$(printf 'a\\377b')\"", builtExecutable("swiftlet"), model])
        expectOneErrorLine(r, containing: "argument 5 is not valid UTF-8")
        let q = try run("/bin/sh", ["-c", "exec \"$0\" \"$(printf 'in\\377')\" out.gguf", builtExecutable("quantize")])
        expectOneErrorLine(q, containing: "argument 1 is not valid UTF-8")
    }

    @Test func aFlagGivenTwiceIsRefused() throws {
        let model = try fixtureGGUF("llama-tiny", .f32)
        expectOneErrorLine(try swiftlet(["generate", "-m", model, "-p", "a", "-p", "b"]), containing: "-p is given twice")
        expectOneErrorLine(try swiftlet(["generate", "-m", model, "-p", "a", "--prompt=b"]), containing: "-p and --prompt are one flag")
    }

    /// The C API refused it; the CLI divided by it.
    @Test func repeatPenaltyZeroIsRefused() throws {
        let r = try swiftlet(["generate", "-m", try fixtureGGUF("llama-tiny", .f32), "-p", "a", "--repeat-penalty", "0"])
        expectOneErrorLine(r, containing: "--repeat-penalty")
    }

    /// NaN weights generated token 0 with exit 0. (The memory plan is printed before: the inputs were good.)
    @Test(arguments: [("llama-tiny", "output_norm.weight"), ("t5-tiny", "dec.output_norm.weight")])
    func nanWeightsAreAnError(fixture: String, tensor: String) throws {
        let source = try fixtureGGUF(fixture, .f32)
        let count = try #require(try GGUFFile(path: source).info(tensor)).elementCount
        let nan = [Float](repeating: .nan, count: count).withUnsafeBytes { Array($0) }
        let path = try temporaryDirectory("nan-\(fixture)").appendingPathComponent("model.gguf").path
        try ggufCopy(source, to: path, data: [tensor: nan])
        let r = try swiftlet(["generate", "-m", path, "-p", "Hello", "-n", "2", "--temp", "0"])
        #expect(r.status == 1 && r.stdout.isEmpty, "\(r.stdout)")
        #expect(r.stderr.hasPrefix("memory: ") && r.stderr.split(separator: "\n").last?.hasPrefix("error: ") == true
                && r.stderr.contains("are NaN"), "\(r.stderr)")
    }

    /// A mask cut off with the text's end was "no mask token in the text".
    @Test func maskPastTheLimitSaysSo() throws {
        let text = String(repeating: "word ", count: 600) + "[MASK]"
        let r = try swiftlet(["fill-mask", "-m", try fixtureGGUF("bert-tiny", .f32), text])
        expectOneErrorLine(r, containing: "past the model's limit")
    }
}
