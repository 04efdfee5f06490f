// The decoder commands through the built `swiftlet` executable: outputs per docs/CLI.md, and bad input
// failing with exit 1 and one `error:` line.

import Foundation
import Testing
import TestSupport
import TensorFile

func swiftlet(_ args: [String], input: String = "", timeout: Double = 600) throws -> Run {
    let exe = builtExecutable("swiftlet")
    try #require(FileManager.default.isExecutableFile(atPath: exe), "build the swiftlet executable first: \(exe)")
    return try run(exe, args, input: input, timeout: timeout)
}

func expectOneErrorLine(_ r: Run, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == 1, "exit status \(r.status)", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    // Names from files are escaped: no terminal control characters (ESC, NUL, CR...) reach stderr.
    #expect(!r.stderr.dropLast().unicodeScalars.contains { $0.properties.generalCategory == .control },
            "control characters in stderr: \(r.stderr.debugDescription)", sourceLocation: sourceLocation)
    #expect(r.stderr.contains(text), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
}

@Test func generateJSONGivesTheGreedyContinuation() throws {
    let ref = try Reference("llama-tiny")
    let model = try fixtureGGUF("llama-tiny", .f32)
    let ids = ref.promptIDs.map(String.init).joined(separator: ",")
    let r = try swiftlet(["generate", "-m", model, "--ids", ids, "-n", "\(ref.greedy.count)", "--temp", "0", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let out = try JSONValue.parse(r.stdout, what: "generate --json")
    #expect(out["ids"]?.array?.map { Int32($0.int!) } == ref.greedy)
    #expect(out["prompt_ids"]?.array?.map { Int32($0.int!) } == ref.promptIDs)
    #expect(out["stop"]?.string == "length")
    #expect(out["timings"]?["gen_tokens"]?.int == ref.greedy.count)
    #expect((out["memory"]?["kv_bytes"]?.int ?? 0) > 0)
}

@Test func logitsWritesEveryPosition() throws {
    let ref = try Reference("gpt2-tiny")
    let model = try fixtureGGUF("gpt2-tiny", .f32)
    let out = try temporaryDirectory("cli-logits").appendingPathComponent("logits.bin").path
    let r = try swiftlet(["logits", "-m", model, "--ids", ref.promptIDs.map(String.init).joined(separator: ","), "--out", out,
                          "--cache-type", "f32"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "{\"shape\":[\(ref.promptIDs.count),\(ref.logits[0].count)]}\n")
    let data = try Data(contentsOf: URL(fileURLWithPath: out))
    let values = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    let rows = stride(from: 0, to: values.count, by: ref.logits[0].count).map { Array(values[$0..<$0 + ref.logits[0].count]) }
    let (d, scale) = maxDiff(rows, ref.logits)
    #expect(d / scale < 1e-4, "max |Δ| \(d)")
}

@Test func badDecoderInputFailsWithOneErrorLine() throws {
    let model = try fixtureGGUF("llama-tiny", .q8_0)
    let long = (0..<20).map { "\($0 + 5)" }.joined(separator: ",")
    expectOneErrorLine(try swiftlet(["generate", "-m", model, "--ids", long, "--ctx", "16"]),
                       containing: "the prompt has 20 tokens, more than the context of 16")
    expectOneErrorLine(try swiftlet(["generate", "-m", model, "--ids", "1,2", "-n", "0"]), containing: "-n '0'")
    expectOneErrorLine(try swiftlet(["generate", "-m", model, "--ids", "1,384"]),
                       containing: "token id 384 at index 1 is not in the vocabulary (0..<384)")
    expectOneErrorLine(try swiftlet(["generate", "-m", model, "--ids", "1,x"]), containing: "--ids: item 1 'x' is not a token id")
    expectOneErrorLine(try swiftlet(["logits", "-m", model, "--ids", "1,400", "--out", "/tmp/never-written.bin"]),
                       containing: "token id 400")
    #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written.bin"))
    expectOneErrorLine(try swiftlet(["generate", "-m", "/nonexistent.gguf", "-p", "hi"]), containing: "/nonexistent.gguf")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
    let cut = model + ".cut.gguf"
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
    expectOneErrorLine(try swiftlet(["generate", "-m", cut, "-p", "hi"]), containing: "past the end of the file")
}

@Test func chatKeepsTheCacheBetweenTurns() throws {
    let model = try fixtureGGUF("llama-tiny", .q8_0)
    let r = try swiftlet(["chat", "-m", model, "--temp", "0", "-n", "6", "--ctx", "128"], input: "def add(a, b):\nreturn a\n")
    #expect(r.status == 0, "\(r.stderr)")
    // Turn 2 evaluates only its own tokens: the first turn and its reply come from the cache.
    let turns = r.stderr.split(separator: "\n").filter { $0.hasPrefix("stop:") }
    #expect(turns.count == 2)
    #expect(!turns[0].contains("reused") && turns[1].contains("reused"), "\(r.stderr)")
}

@Test func logitsHiddenGivesTheFinalNormedStates() throws {
    let ref = try Reference("llama-tiny")
    let model = try fixtureGGUF("llama-tiny", .f32)
    let out = try temporaryDirectory("cli-hidden").appendingPathComponent("hidden.bin").path
    let ids = ref.promptIDs.map(String.init).joined(separator: ",")
    let r = try swiftlet(["logits", "-m", model, "--ids", ids, "--hidden", "--out", out, "--cache-type", "f32"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "{\"shape\":[\(ref.promptIDs.count),96]}\n")
    // The untied head (lm_head, straight from the fixture's safetensors) applied to these states must give
    // transformers' logits.
    let data = try Data(contentsOf: URL(fileURLWithPath: out))
    #expect(data.count == ref.promptIDs.count * 96 * 4)
    let states = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    let st = try SafetensorsModel(path: fixtures.appendingPathComponent("llama-tiny/model.safetensors").path)
    let head = try #require(st.tensor("lm_head.weight")).floats()
    let vocab = ref.logits[0].count
    var logits = [[Float]](repeating: [Float](repeating: 0, count: vocab), count: ref.promptIDs.count)
    for t in 0..<ref.promptIDs.count {
        for v in 0..<vocab {
            var sum: Float = 0
            for i in 0..<96 { sum += states[t * 96 + i] * head[v * 96 + i] }
            logits[t][v] = sum
        }
    }
    let (d, scale) = maxDiff(logits, ref.logits)
    #expect(d / scale < 1e-4, "max |Δ| \(d)")
}
