// `swiftlet classify`: sequence classification of a text or a pair, labels best first (softmax scores).

import Engine
import TensorFile

enum Classify {
    static let usage = "swiftlet classify -m MODEL [-t THREADS] [--json] TEXT [TEXT_PAIR]"

    static func run(_ args: ArraySlice<String>) throws -> Int32 {
        let f = try Flags(args, valued: EncoderCommon.flags, booleans: ["--json"])
        guard (1...2).contains(f.positionals.count) else { throw CLIError("give TEXT and optionally TEXT_PAIR (\(usage))") }
        let (session, _) = try EncoderCommon.open(f, usage: usage)
        guard session.encoder.hasHead(.classifier) else { throw CLIError("this model has no sequence classification head") }
        let e = EncoderCommon.encode(session, f.positionals[0], f.positionals.count > 1 ? f.positionals[1] : nil)
        try session.run([EncoderCommon.input(e)])
        let p = EncoderCommon.softmax(try session.sequenceLogits(0, .classifier))
        let order = p.indices.sorted { p[$0] != p[$1] ? p[$0] > p[$1] : $0 < $1 }
        if f.has("--json") {
            let labels = order.map { "{\"label\":\(jsonQuoted(EncoderCommon.label(session, $0))),\"score\":\(jsonNumber(p[$0]))}" }
            writeOut("{\"labels\":[" + labels.joined(separator: ",") + "]}\n")
        } else {
            for i in order { writeOut("\(p[i])\t\(EncoderCommon.label(session, i))\n") }
        }
        return 0
    }
}
