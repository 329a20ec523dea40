import Foundation

/// Picks the next token id from a model's logits: greedily (temperature 0), or by sampling
/// from the softmax of `logits / temperature`, kept to the `topK` likeliest ids and then to
/// the smallest set whose probability reaches `topP` (nucleus sampling). Seeded: the same
/// seed and logits give the same ids on every platform.
public struct Sampler: Sendable {
    /// Softmax temperature; 0 picks the largest logit (greedy).
    public var temperature: Double
    /// Keep only the `topK` likeliest ids (nil: all).
    public var topK: Int?
    /// Keep the likeliest ids whose probabilities add up to at least `topP` (1: all).
    public var topP: Double
    /// The generator that draws the samples (seeded, so a generation repeats).
    public var random: SplitMix64

    /// A sampler: greedy by default; `seed` seeds the draws.
    public init(temperature: Double = 0, topK: Int? = nil, topP: Double = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        random = SplitMix64(seed: seed)
    }

    /// What is wrong with these settings, or nil.
    public var problem: String? {
        if !(temperature >= 0 && temperature.isFinite) { return "the temperature must be a finite number of at least 0" }
        if let topK, topK < 1 { return "top-k must be at least 1" }
        if !(topP > 0 && topP <= 1) { return "top-p must be above 0 and at most 1" }
        return nil
    }

    /// The next id. A NaN logit counts as the least likely; ties go to the lower id.
    public mutating func next(_ logits: [Double]) -> Int {
        precondition(!logits.isEmpty, "no logits to sample from")
        func score(_ i: Int) -> Double { logits[i].isNaN ? -.infinity : logits[i] }
        guard temperature > 0 else { return logits.indices.max { score($0) < score($1) || (score($0) == score($1) && $0 > $1) }! }
        var ranked = logits.indices.sorted { score($0) > score($1) || (score($0) == score($1) && $0 < $1) }
        if let topK, topK < ranked.count { ranked.removeLast(ranked.count - topK) }
        let top = score(ranked[0])
        guard top.isFinite else { return ranked[0] }  // +inf, or nothing but -inf
        var weights = ranked.map { Foundation.exp((score($0) - top) / temperature) }
        let total = weights.reduce(0, +)
        if topP < 1 {
            var kept = 0, mass = 0.0
            while kept < weights.count, mass < topP * total {
                mass += weights[kept]
                kept += 1
            }
            weights.removeLast(weights.count - max(1, kept))
        }
        let u = random.nextUnit() * weights.reduce(0, +)
        var acc = 0.0
        for (k, w) in weights.enumerated() {
            acc += w
            if u < acc { return ranked[k] }
        }
        return ranked[weights.count - 1]
    }
}
