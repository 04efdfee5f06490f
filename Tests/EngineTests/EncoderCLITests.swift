// The encoder commands through the built `swiftlet` executable against transformers' pipelines on the tiny
// fixtures (Tests/Fixtures/pipelines, tools/reference/encoder_pipelines.py): the same tokens, labels, spans and
// character offsets, scores within float tolerance; and bad input failing with one `error:` line.

import Foundation
import Testing
import TestSupport
import TensorFile

private let pipelines = Result { try json(fixtures.appendingPathComponent("pipelines/pipelines.json")) }

private func runJSON(_ args: [String]) throws -> JSONValue {
    let r = try swiftlet(args + ["--json"])
    try #require(r.status == 0, "swiftlet \(args.joined(separator: " ")): \(r.stderr)")
    return try JSONValue.parse(r.stdout, what: args[0])
}

private func close(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-4) -> Bool {
    guard let a, let b else { return false }
    return abs(a - b) <= tolerance * max(1, abs(b))
}

@Suite struct EncoderCLITests {
    @Test(arguments: ["bert-tiny", "roberta-tiny", "distilbert-tiny", "albert-tiny"])
    func fillMaskMatchesThePipeline(model: String) throws {
        let ref = try #require(try pipelines.get()["fill_mask"]?[model])
        let out = try runJSON(["fill-mask", "-m", try fixtureGGUF(model, .f32), "--top", "5", ref["text"]!.string!])
        let got = try #require(out["masks"]?.array?.first?.array)
        let want = try #require(ref["top"]?.array)
        #expect(got.map { $0["id"]?.int } == want.map { $0["id"]?.int })
        #expect(got.map { $0["token"]?.string } == want.map { $0["token"]?.string })
        for (g, w) in zip(got, want) { #expect(close(g["score"]?.double, w["score"]?.double), "\(g) vs \(w)") }
    }

    @Test func classifyMatchesThePipeline() throws {
        for ref in try #require(try pipelines.get()["classify"]?.array) {
            var args = ["classify", "-m", try fixtureGGUF("bert-seqcls-tiny", .f32), ref["text"]!.string!]
            if let pair = ref["pair"]?.string { args.append(pair) }
            let got = try #require(try runJSON(args)["labels"]?.array)
            let want = try #require(ref["labels"]?.array)
            #expect(got.map { $0["label"]?.string } == want.map { $0["label"]?.string })
            for (g, w) in zip(got, want) { #expect(close(g["score"]?.double, w["score"]?.double)) }
        }
    }

    @Test func nerMatchesThePipeline() throws {
        for ref in try #require(try pipelines.get()["ner"]?.array) {
            let got = try #require(try runJSON(["ner", "-m", try fixtureGGUF("bert-tokcls-tiny", .f32), ref["text"]!.string!])["entities"]?.array)
            let want = try #require(ref["entities"]?.array)
            for key in ["word", "label"] { #expect(got.map { $0[key]?.string } == want.map { $0[key]?.string }, "\(key)") }
            for key in ["start", "end"] { #expect(got.map { $0[key]?.int } == want.map { $0[key]?.int }, "\(key)") }
            for (g, w) in zip(got, want) { #expect(close(g["score"]?.double, w["score"]?.double)) }
        }
    }

    @Test func qaMatchesThePipeline() throws {
        for ref in try #require(try pipelines.get()["qa"]?.array) {
            let out = try runJSON(["qa", "-m", try fixtureGGUF("bert-qa-tiny", .f32), "--question", ref["question"]!.string!,
                                   "--context", ref["context"]!.string!])
            #expect(out["answer"]?.string == ref["answer"]?.string)
            #expect(out["start"]?.int == ref["start"]?.int && out["end"]?.int == ref["end"]?.int, "\(out)")
            #expect(close(out["score"]?.double, ref["score"]?.double), "\(out)")
        }
    }

    @Test func nspAndLogitsFromIDs() throws {
        let r = try EncoderReference("bert-tiny")
        let ids = r.ids.map(String.init).joined(separator: ","), types = r.typeIds.map(String.init).joined(separator: ",")
        let nsp = try runJSON(["nsp", "-m", try fixtureGGUF("bert-tiny", .f32), "--ids", ids, "--type-ids", types])
        let want = try #require(r.vector("nsp_logits"))
        let logits = try #require(nsp["logits"]?.array).map { Float($0.double!) }
        expectClose([logits], [want], "nsp logits")
        let p = 1 / (1 + exp(Double(want[1] - want[0])))
        #expect(close(nsp["is_next"]?.double, p))

        let file = try temporaryDirectory("cli-encoder-logits").appendingPathComponent("mlm.bin").path
        let out = try swiftlet(["logits", "-m", try fixtureGGUF("bert-tiny", .f32), "--ids", ids, "--type-ids", types, "--out", file])
        let mlm = try #require(r.rows("mlm_logits"))
        #expect(out.stdout == "{\"shape\":[\(r.ids.count),\(mlm[0].count)]}\n", "\(out.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        expectClose(unflatten(data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }, mlm[0].count), mlm, "MLM logits file")
    }

    @Test func badEncoderInputFailsWithOneErrorLine() throws {
        let bert = try fixtureGGUF("bert-tiny", .f32), qa = try fixtureGGUF("bert-qa-tiny", .f32)
        expectOneErrorLine(try swiftlet(["fill-mask", "-m", bert, "no mask here"]), containing: "no mask token in the text")
        expectOneErrorLine(try swiftlet(["nsp", "-m", qa, "one", "two"]), containing: "no next-sentence")
        expectOneErrorLine(try swiftlet(["classify", "-m", bert, "text"]), containing: "no sequence classification head")
        expectOneErrorLine(try swiftlet(["ner", "-m", bert, "text"]), containing: "no token classification head")
        expectOneErrorLine(try swiftlet(["qa", "-m", bert, "--question", "q", "--context", "c"]), containing: "no question answering head")
        expectOneErrorLine(try swiftlet(["qa", "-m", qa, "--question", "q", "--context", " "]), containing: "the context is empty")
        expectOneErrorLine(try swiftlet(["nsp", "-m", bert, "--ids", "2,300,3"]), containing: "token id 300 at index 1")
        expectOneErrorLine(try swiftlet(["embed", "-m", bert]), containing: "no texts")
        expectOneErrorLine(try swiftlet(["generate", "-m", bert, "-p", "hello"]), containing: "it is an encoder")
        // Defined results: an empty text and a text of only unknown characters still embed ([CLS] [SEP], [CLS] [UNK] [SEP]).
        let st = try fixtureGGUF("bert-st-tiny", .f32)
        let out = try runJSON(["embed", "-m", st, "", "\u{1F9EC}\u{1F9EC}"])
        #expect(out["embeddings"]?.array?.count == 2 && out["embeddings"]?.array?[1].array?.count == 32)
    }
}
