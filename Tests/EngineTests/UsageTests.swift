// The documented command lines are the real ones: README's synopsis is what `quantize --help` and `swiftlet --help`
// print, docs/CLI.md gives every usage line, a usage error is one `error:` line, and the documents' relative links
// stay inside the repository.

import Foundation
import Testing
import TestSupport

private let root = fixtures.appendingPathComponent("../..").standardized

private func document(_ path: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
}

/// Runs of whitespace as one space, so a document may wrap a long usage line anywhere between words.
private func words(_ s: some StringProtocol) -> String {
    s.split(whereSeparator: \.isWhitespace).joined(separator: " ")
}

/// The `swiftlet --help` usage lines, one per command (bench's lines for other kinds of model joined to its first).
private func usageLines(_ help: String) -> [String] {
    var lines: [String] = []
    for line in help.split(separator: "\n").dropFirst() {
        if line.hasPrefix("   "), !lines.isEmpty { lines[lines.count - 1] += " " + words(line) } else { lines.append(words(line)) }
    }
    return lines
}

@Suite struct UsageTests {
    /// README's "Command line" block: `$ TOOL --help` lines, each followed by what it prints.
    @Test func readmeSynopsisIsTheHelpText() throws {
        let readme = try document("README.md")
        let section = try #require(readme.range(of: "\n## Command line\n"), "README has no '## Command line' section")
        let rest = readme[section.upperBound...]
        let open = try #require(rest.range(of: "```\n"))
        let close = try #require(rest[open.upperBound...].range(of: "\n```"))
        var blocks: [(tool: String, text: String)] = []
        for line in rest[open.upperBound..<close.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("$ ") {
                let command = line.dropFirst(2).split(separator: " ")
                try #require(command.count == 2 && command[1] == "--help", "README: '\(line)' is not 'TOOL --help'")
                blocks.append((String(command[0]), ""))
            } else {
                try #require(!blocks.isEmpty, "README's synopsis starts with '\(line)', not '$ TOOL --help'")
                blocks[blocks.count - 1].text += line + "\n"
            }
        }
        #expect(blocks.map(\.tool) == ["quantize", "swiftlet"])
        for (tool, text) in blocks {
            let exe = builtExecutable(tool)
            try #require(FileManager.default.isExecutableFile(atPath: exe), "build the \(tool) executable first: \(exe)")
            let r = try run(exe, ["--help"])
            #expect(r.status == 0, "\(tool) --help: \(r.stderr)")
            // Equal up to line wrapping: a difference is a flag the README lacks, or one the tool no longer takes.
            let documented = words(text).split(separator: " "), printed = words(r.stdout).split(separator: " ")
            let common = min(documented.count, printed.count)
            let at = (0..<common).first { documented[$0] != printed[$0] } ?? common
            let same = documented == printed  // not in #expect, which would print both whole
            let readmeWords = documented.dropFirst(at).prefix(6).joined(separator: " ")
            let helpWords = printed.dropFirst(at).prefix(6).joined(separator: " ")
            #expect(same, "README's synopsis of \(tool) differs from its --help at word \(at): '\(readmeWords)' vs '\(helpWords)'")
        }
    }

    @Test func cliDocumentGivesEveryUsageLine() throws {
        let doc = words(try document("docs/CLI.md"))
        let help = try swiftlet(["--help"])
        #expect(help.status == 0)
        let lines = usageLines(help.stdout)
        #expect(lines.count == 13, "\(lines)")
        for line in lines { #expect(doc.contains(line), "docs/CLI.md lacks '\(line)'") }
        let quantize = try run(builtExecutable("quantize"), ["--help"])
        #expect(doc.contains(words(quantize.stdout.replacing("usage: ", with: ""))), "docs/CLI.md lacks quantize's usage")
    }

    /// A command given nothing fails with one line naming what is missing (bench's multi-line help stays out of it).
    @Test(arguments: ["inspect", "tokenize", "generate", "chat", "logits", "perplexity", "bench", "embed", "fill-mask",
                      "nsp", "classify", "ner", "qa"])
    func usageErrorIsOneLine(command: String) throws {
        expectOneErrorLine(try swiftlet([command]), containing: "swiftlet \(command)")
    }

    /// README, docs/, formats/ and tools/*/README.md link to files that exist in the repository, never to a file
    /// beside it (the project's contract lives in docs/).
    @Test func documentsLinkOnlyInsideTheRepository() throws {
        var paths = ["README.md"]
        for dir in ["docs", "formats"] {
            paths += try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(dir).path)
                .filter { $0.hasSuffix(".md") }.map { "\(dir)/\($0)" }
        }
        for tool in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("tools").path)
        where FileManager.default.fileExists(atPath: root.appendingPathComponent("tools/\(tool)/README.md").path) {
            paths.append("tools/\(tool)/README.md")
        }
        // The directory beside the repository that once held the CLI contract, spelled in parts so that a search
        // for it finds only real references.
        let beside = ["..", "shared"].joined(separator: "/")
        #expect(paths.contains("docs/CLI.md") && paths.contains("tools/bench/README.md"), "\(paths)")
        for path in paths {
            let text = try document(path)
            #expect(!text.contains(beside), "\(path) points outside the repository")
            let dir = root.appendingPathComponent(path).deletingLastPathComponent()
            for match in text.matches(of: /\]\(([^)\s]+)\)/) {
                let target = String(match.output.1)
                guard !target.contains("://"), !target.hasPrefix("#") else { continue }  // a web address or a heading
                let file = String(target.split(separator: "#", maxSplits: 1)[0])
                let url = dir.appendingPathComponent(file).standardized
                #expect(url.path.hasPrefix(root.path + "/"), "\(path): \(target) is outside the repository")
                #expect(FileManager.default.fileExists(atPath: url.path), "\(path): \(target) does not exist")
            }
        }
    }
}
