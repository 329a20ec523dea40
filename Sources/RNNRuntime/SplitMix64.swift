import Foundation

/// SplitMix64: a small, well-mixed 64-bit generator with a fixed, documented sequence (the
/// `random`/`normal` builtins and the tests' seeded generators).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's whole state: two generators with equal states make the same numbers.
    public var state: UInt64

    /// A generator started from `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal by the Box-Muller transform.
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextUnit(), Double.leastNonzeroMagnitude)
        let u2 = nextUnit()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}
