// formats/TENSORS.md and TENSORS-seq2seq.md must say what quantize writes: every tensor of a converted fixture is in
// its architecture's table, and every row of the table is written (unless the row says it is conditional).

import Foundation
import Testing
import TestSupport
import TensorFile

/// The first-column tensor names of each `## Name …` section of the formats/ files `docs`, keyed by the heading's
/// first word; names from rows marked "when" are optional.
func documentedTensors(_ docs: [String]) throws -> [String: (names: Set<String>, optional: Set<String>)] {
    var text = ""
    for doc in docs {
        text += try String(contentsOf: fixtures.appendingPathComponent("../../formats/\(doc)"), encoding: .utf8) + "\n"
    }
    var sections: [String: (names: Set<String>, optional: Set<String>)] = [:]
    var section: String?
    for line in text.split(separator: "\n") {
        if line.hasPrefix("## ") {
            section = line.dropFirst(3).split(separator: " ").first.map(String.init)
            continue
        }
        guard let a = section, line.hasPrefix("| `") else { continue }
        let cells = line.split(separator: "|", omittingEmptySubsequences: false)
        let names = cells[1].split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        let optional = cells.count > 2 && cells[2].contains("when")
        for n in names {
            if optional { sections[a, default: ([], [])].optional.insert(n) } else { sections[a, default: ([], [])].names.insert(n) }
        }
    }
    return sections
}

/// Every tensor of `f` is in `doc`, and every non-optional row of `doc` is in `f` (layer indices read as N).
func expectDocumented(_ f: GGUFFile, _ doc: (names: Set<String>, optional: Set<String>)) {
    let written = Set(f.tensors.map { $0.name.replacing(/(^|\.)blk\.\d+\./) { "\($0.output.1)blk.N." } })
    let undocumented = written.subtracting(doc.names.union(doc.optional))
    #expect(undocumented.isEmpty, "undocumented: \(undocumented)")
    #expect(doc.names.subtracting(written).isEmpty, "documented but not written: \(doc.names.subtracting(written))")
}

@Test(arguments: ["llama-tiny", "gpt2-tiny", "mixtral-tiny", "mistral-tiny", "ctrl-tiny", "xlnet-tiny",
                  "t5-tiny", "flan-t5-tiny", "bart-tiny", "marian-tiny"])
func tensorsDocMatchesConversion(_ model: String) throws {
    let out = try temporaryDirectory("doc-\(model)").appendingPathComponent("out.gguf").path
    _ = try convert(fixtures.appendingPathComponent(model).path, to: out, .f32)
    let f = try GGUFFile(path: out)
    let arch = try f.architecture(), sections = try documentedTensors(["TENSORS.md", "TENSORS-seq2seq.md"])
    expectDocumented(f, try #require(sections[arch], "no section for \(arch)"))
}
