// A session's parameters, field for field the C API's swiftlet_params, and the checks a session makes of them.

import Engine

extension Swiftlet {
    /// How a session is sized and how it samples: `swiftlet_params`, field for field. `Parameters()` gives
    /// `swiftlet_default_params()`: llama.cpp's defaults.
    public struct Parameters: Sendable, Equatable {
        /// Context length in tokens; 0: the model's own. An encoder-decoder's target limit. (`n_ctx`, default 0)
        public var context: Int
        /// Threads the session computes with; 0: every online core; at most 4 per core and 512. (`n_threads`,
        /// default 0)
        public var threads: Int
        /// Logits are divided by this after the filters; 0: greedy, the most likely token. (default 0.8)
        public var temperature: Float
        /// Keep the `topK` most likely tokens; 0: off. (`top_k`, default 40)
        public var topK: Int
        /// Keep the fewest most likely tokens whose probabilities reach `topP`; 1: off. (`top_p`, default 0.95)
        public var topP: Float
        /// Keep tokens at least `minP` times as likely as the most likely one; 0: off. (`min_p`, default 0.05)
        public var minP: Float
        /// A token among the last 64 has a positive logit divided by this, a negative one multiplied; 1: off.
        /// (`repeat_penalty`, default 1)
        public var repeatPenalty: Float
        /// Beams of an encoder-decoder's beam search, 1...64; 1: sampling. The model's own length penalty and
        /// early stopping apply. (`n_beams`, default 1)
        public var beams: Int
        /// The sampler's seed (its low 32 bits); nil: a random one. (`seed`; the C API's `UINT64_MAX` is nil)
        public var seed: UInt64?

        public init() {
            let s = SamplerParams()  // the engine's sampling defaults are llama.cpp's, as the CLI's are
            context = 0
            threads = 0
            temperature = s.temperature
            topK = s.topK
            topP = s.topP
            minP = s.minP
            repeatPenalty = s.repeatPenalty
            beams = 1
            seed = s.seed
        }

        /// Every value in its range, and beams only where the model can search.
        func check(for model: Engine.Model) throws(Error) {
            func bad(_ what: String) -> Error { Error(.invalidArgument, what) }
            guard context >= 0 else { throw bad("context \(context) is negative") }
            guard threads >= 0 else { throw bad("threads \(threads) is negative") }
            guard temperature.isFinite, temperature >= 0 else { throw bad("temperature \(temperature) is not ≥ 0") }
            guard topK >= 0 else { throw bad("topK \(topK) is negative") }
            guard (0...1).contains(topP) else { throw bad("topP \(topP) is not in [0, 1]") }
            guard (0...1).contains(minP) else { throw bad("minP \(minP) is not in [0, 1]") }
            guard repeatPenalty.isFinite, repeatPenalty > 0 else { throw bad("repeatPenalty \(repeatPenalty) is not > 0") }
            guard (1...64).contains(beams) else { throw bad("beams \(beams) is not in 1...64") }
            guard beams == 1 || model.isEncoderDecoder else {
                throw Error(.unsupported, "beam search (beams \(beams)) is for encoder-decoder models")
            }
        }

        /// The sampler's share of the parameters.
        var sampler: SamplerParams {
            var s = SamplerParams()
            s.temperature = temperature
            s.topK = topK
            s.topP = topP
            s.minP = minP
            s.repeatPenalty = repeatPenalty
            s.seed = seed
            return s
        }
    }
}
