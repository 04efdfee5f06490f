// The per-token loop allocates nothing: 64 generated tokens after warm-up, counted by AllocCounter.
// XCTest, not Swift Testing: XCTest cases run one at a time, so no other test allocates during the count.

import AllocCounter
import Engine
import TestSupport
import XCTest

final class AllocationTests: XCTestCase {
    func testGenerationAllocatesNothingPerToken() throws {
        try XCTSkipUnless(alloc_counter_available() == 1, "a sanitizer build: its runtime owns malloc")
        for (fixture, type) in [("llama-tiny", "q8_0"), ("gpt2-tiny", "q4_1")] {
            let model = try Model(path: try fixtureGGUF(fixture, type == "q8_0" ? .q8_0 : .q4_1))
            var options = SessionOptions()
            options.threads = 2
            let session = try Session(model, options)
            var params = SamplerParams()
            params.seed = 1
            params.repeatPenalty = 1.1  // every sampler stage on
            var sampler = Sampler(params, vocabSize: model.vocabSize)
            var g = GenerateOptions()
            g.maxTokens = 48
            g.ignoreEOS = true
            var stream = TextStream(model.tokenizer)
            var bytes = 0
            let prompt: [Int32] = [5, 6, 7, 8]
            _ = try session.generate(prompt: prompt, g, sampler: &sampler) { id in  // warm-up
                stream.push(id) { bytes += $0.count }
                return true
            }
            session.reset()
            var tokens = 0, allocations = 0
            // One allocation outside the loop: the result's id buffer, reserved before the first token. Count the
            // same generation with 1 and with 64 tokens; the loop's share is the difference.
            for n in [1, 48] {
                g.maxTokens = n
                session.reset()
                alloc_counter_start()
                let r = try session.generate(prompt: prompt, g, sampler: &sampler) { id in
                    stream.push(id) { bytes += $0.count }
                    return true
                }
                let counted = alloc_counter_stop()
                tokens = r.ids.count
                allocations = n == 1 ? -counted : allocations + counted
            }
            XCTAssertEqual(tokens, 48, fixture)
            XCTAssertEqual(allocations, 0, "\(fixture): \(allocations) allocations in 47 extra tokens")
        }
    }
}
