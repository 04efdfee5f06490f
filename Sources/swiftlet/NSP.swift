// `swiftlet nsp`: whether TEXT_B follows TEXT_A: BERT's next-sentence head or ALBERT's sentence-order head.

import Engine
import TensorFile

enum NSP {
    static let usage = "swiftlet nsp -m MODEL [-t THREADS] [--json] (TEXT_A TEXT_B | --ids 1,2,3 --type-ids 0,0,1)"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: EncoderCommon.flags.union(["--ids", "--type-ids"]), booleans: ["--json"])
        let (session, _) = try EncoderCommon.open(f, usage: usage)
        let h = session.encoder
        let head: SequenceHead = h.hasHead(.nextSentence) ? .nextSentence : .sentenceOrder
        guard h.hasHead(head) else {
            throw CLIError("this model has no next-sentence (BERT) or sentence-order (ALBERT) head")
        }
        let input: EncoderInput
        if let ids = f.value("--ids") {
            guard f.positionals.isEmpty else { throw CLIError("give --ids or two texts, not both (\(usage))") }
            let types = try f.value("--type-ids").map { try Common.ids($0, flag: "--type-ids") } ?? []
            input = EncoderInput(ids: try Common.ids(ids, flag: "--ids"), typeIds: types)
        } else {
            guard f.positionals.count == 2 else { throw CLIError("give two texts, TEXT_A TEXT_B (\(usage))") }
            input = EncoderCommon.input(EncoderCommon.encode(session, f.positionals[0], f.positionals[1], what: "the pair"))
        }
        try session.run([input])
        let logits = try session.sequenceLogits(0, head)
        let p = EncoderCommon.softmax(logits)
        if f.has("--json") {
            writeOut("{\"is_next\":\(jsonNumber(p[0])),\"logits\":[\(jsonNumber(logits[0])),\(jsonNumber(logits[1]))]}\n")
        } else {
            writeOut("is_next \(p[0])\tlogits \(logits[0]) \(logits[1])\n")
        }
        return 0
    }
}
