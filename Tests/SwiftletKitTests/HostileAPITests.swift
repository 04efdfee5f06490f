// The Swift API under misuse and bad files (issue 19): a session called from two threads at once, absurd thread
// counts, and names holding control characters in error messages.

import Engine
import Foundation
import SwiftletKit
import Testing
import TestSupport
import TensorFile

/// Two threads generating in one session at the same time take turns: both get the greedy tokens.
@Test func oneSessionFromTwoThreadsTakesTurns() throws {
    var p = Swiftlet.Parameters()
    p.temperature = 0
    p.context = 64
    p.threads = 1
    let session = try Swiftlet.Session(model: try Swiftlet.Model(path: try fixtureGGUF("llama-tiny", .q8_0)), parameters: p)
    let results = Locked<[[Int32]]>([])
    DispatchQueue.concurrentPerform(iterations: 2) { _ in
        var ids: [Int32] = []
        do {
            session.reset()
            _ = try session.generate("def add(a, b):", maxTokens: 8) { piece in
                if let t = piece.token { ids.append(t) }
                return true
            }
        } catch {
            Issue.record("\(error)")
        }
        results.withLock { $0.append(ids) }
    }
    let both = results.withLock { $0 }
    #expect(both.count == 2 && both[0] == both[1] && both[0].count == 8, "\(both)")
}

/// n_threads 100000 trapped when pthread_create failed; it is capped at 4 per core.
@Test func absurdThreadCountsAreCapped() throws {
    let model = try Engine.Model(path: try fixtureGGUF("llama-tiny", .q8_0))
    var o = SessionOptions()
    o.context = 8
    o.threads = 100_000
    let cores = ProcessInfo.processInfo.activeProcessorCount
    #expect(try Engine.Session(model, o).threads == min(4 * cores, 512))
    var p = Swiftlet.Parameters()
    p.context = 8
    p.threads = 100_000
    _ = try Swiftlet.Session(model: try Swiftlet.Model(path: try fixtureGGUF("llama-tiny", .q8_0)), parameters: p)
}

@Test func errorMessagesEscapeControlCharacters() throws {
    let path = try temporaryDirectory("kit-evil-arch").appendingPathComponent("model.gguf").path
    try ggufCopy(try fixtureGGUF("llama-tiny", .f32), to: path, setting: ["general.architecture": .string("a\n\u{1b}[2J\u{0}b")])
    do {
        _ = try Swiftlet.Model(path: path)
        Issue.record("an unknown architecture opened")
    } catch {
        #expect(!error.message.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(error.message)")
        #expect(error.message.contains("a\\n\\u{1B}[2J\\u{0}b"), "\(error.message)")
    }
}
