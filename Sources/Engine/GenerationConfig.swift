// An encoder-decoder's generation defaults (Hugging Face's generation_config.json, as `quantize` records it under
// ARCH.generation.*) and the logits processors they switch on, in the order transformers' generate applies them:
// no-repeat n-grams, suppressed (single-token bad) words, minimum length, forced first and last tokens. They only
// mask tokens (−∞) or force one (0, the rest −∞), so greedy, sampling and beam search share them.

import TensorFile

public struct GenerationConfig: Sendable, Equatable {
    /// Beams transformers' generate() uses by default; 1 when the model sets none.
    public var beams = 1
    /// The longest target, the start token included; nil when the model sets none.
    public var maxLength: Int?
    /// The end token is masked while the target (start token included) is shorter than this.
    public var minLength = 0
    /// No n-gram of this many tokens occurs twice in a target; 0: off.
    public var noRepeatNGramSize = 0
    public var forcedBOS: Int32?
    public var forcedEOS: Int32?
    /// Never generated (bad_words_ids of one token).
    public var suppressed: [Int32] = []
    public var lengthPenalty: Float = 1
    /// A beam search stops as soon as `beams` hypotheses have finished.
    public var earlyStopping = false

    public init() {}

    init(_ r: WeightReader, architecture a: String, vocab: Int) throws(ModelError) {
        typealias K = MetadataKey
        let ids = 0...(vocab - 1), lengths = 0...(1 << 24)
        beams = try r.count(K.beamCount(a), in: 1...1024, default: 1)
        maxLength = r.file.contains(K.maxLength(a)) ? try r.count(K.maxLength(a), in: 1...(1 << 24)) : nil
        minLength = try r.count(K.minLength(a), in: lengths, default: 0)
        noRepeatNGramSize = try r.count(K.noRepeatNGramSize(a), in: lengths, default: 0)
        forcedBOS = r.file.contains(K.forcedBOSTokenID(a)) ? Int32(try r.count(K.forcedBOSTokenID(a), in: ids)) : nil
        forcedEOS = r.file.contains(K.forcedEOSTokenID(a)) ? Int32(try r.count(K.forcedEOSTokenID(a), in: ids)) : nil
        if r.file.contains(K.suppressTokenIDs(a)) {
            let list: [Int]
            do { list = try r.file.intArray(K.suppressTokenIDs(a)) } catch { throw .file(error) }
            for id in list where !ids.contains(id) {
                throw .config(key: K.suppressTokenIDs(a), reason: "token \(id) is outside 0..<\(vocab)")
            }
            suppressed = list.map { Int32($0) }
        }
        lengthPenalty = try r.float(K.lengthPenalty(a), default: 1)
        earlyStopping = try r.bool(K.earlyStopping(a), default: false)
    }

    /// Applies the processors to `scores` (one row of vocab logits or log-probabilities) for the next token after
    /// `target` (start token first), in a search whose targets end at `maxLength` tokens.
    func process(_ scores: UnsafeMutablePointer<Float>, vocab: Int, target: [Int32], maxLength: Int, eos: Int32?) {
        let length = target.count
        let n = noRepeatNGramSize
        if n > 0, length + 1 >= n {
            // Every token that followed an earlier occurrence of the last n − 1 tokens.
            let prefix = target[(length - n + 1)...]
            var start = 0
            while start + n <= length {
                if target[start..<(start + n - 1)].elementsEqual(prefix) { scores[Int(target[start + n - 1])] = -.infinity }
                start += 1
            }
        }
        for id in suppressed { scores[Int(id)] = -.infinity }
        if let eos, length < minLength { scores[Int(eos)] = -.infinity }
        if let bos = forcedBOS, length == 1 { force(bos, scores, vocab) }
        if let end = forcedEOS, length == maxLength - 1 { force(end, scores, vocab) }
    }

    private func force(_ id: Int32, _ scores: UnsafeMutablePointer<Float>, _ vocab: Int) {
        scores.update(repeating: -.infinity, count: vocab)
        scores[Int(id)] = 0
    }
}
