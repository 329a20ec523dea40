import Foundation

/// What the precision analysis (`rnnc check --precision`) knows about an op: the image of an
/// interval, a bound on the slope there, and how far the runtime's kernels may be from the
/// exact value. Each entry of the op table carries one; `OpAccuracyTests` checks the
/// kernels against the claimed error on sampled points.
public struct OpAccuracy: Sendable {
    /// A superset of `{ f(x) : lo <= x <= hi }` (for a binary op: of `f(x, y)` over the two
    /// intervals; unused by `+` and `*`, which the analysis handles as arithmetic).
    public let image: @Sendable (_ lo: Double, _ hi: Double, OpAttributes) -> (Double, Double)
    /// A bound on `|f'(x)|` over `[lo, hi]` (infinite where f has a pole there or is unbounded).
    public let slope: @Sendable (_ lo: Double, _ hi: Double, OpAttributes) -> Double
    /// The kernels' error: at most `ulps * u * (|f(x)| + floor * (1 + |x|))`, where u is the
    /// run's unit roundoff (2^-24 in Float32, 2^-53 in Float64): 1 for a correctly rounded op.
    public let ulps32: Double
    public let ulps64: Double
    public let floor: Double
    /// The op returns an operand or an attribute unchanged (`relu`, `max`, `hardtanh`): exact
    /// operands give an exact result.
    public let selects: Bool

    /// `+` and `*`: the analysis bounds their rounding itself.
    static let arithmetic = OpAccuracy(image: { _, _, _ in (-.infinity, .infinity) }, slope: { _, _, _ in .infinity },
                                       ulps32: 1, ulps64: 1, floor: 0, selects: false)

    /// An op that picks an operand or an attribute (`relu`, `hardtanh`, `max`, `min`).
    static func selecting(_ image: @escaping @Sendable (Double, Double, OpAttributes) -> (Double, Double)) -> OpAccuracy {
        OpAccuracy(image: image, slope: { _, _, _ in 1 }, ulps32: 0, ulps64: 0, floor: 0, selects: true)
    }

    /// A non-decreasing op computed by `f` (in Float64), its slope bounded by `slope`.
    static func increasing(_ f: @escaping @Sendable (Double, OpAttributes) -> Double, ulps32: Double, ulps64: Double, floor: Double = 0,
                           slope: @escaping @Sendable (Double, Double, OpAttributes) -> Double) -> OpAccuracy {
        OpAccuracy(image: { lo, hi, a in (widenDown(f(lo, a), floor * (1 + abs(lo))), widenUp(f(hi, a), floor * (1 + abs(hi)))) }, slope: slope,
                   ulps32: ulps32, ulps64: ulps64, floor: floor, selects: false)
    }

    /// An op that falls to its minimum `f(minimumAt)` and rises after it, with `|f'| <= slope`
    /// everywhere (`silu`, `gelu`).
    static func dipping(_ f: @escaping @Sendable (Double, OpAttributes) -> Double, minimumAt m: Double, slope: Double,
                        ulps32: Double, ulps64: Double, floor: Double) -> OpAccuracy {
        OpAccuracy(image: { lo, hi, a in
            let top = max(f(lo, a), f(hi, a))
            let bottom = lo <= m && m <= hi ? f(m, a) : min(f(lo, a), f(hi, a))
            let room = floor * (1 + max(abs(lo), abs(hi)))
            return (widenDown(bottom, room), widenUp(top, room))
        }, slope: { _, _, _ in slope }, ulps32: ulps32, ulps64: ulps64, floor: floor, selects: false)
    }

    /// The largest |x| over [lo, hi]'s point nearest to zero: for slopes that peak at 0.
    static func nearestZero(_ lo: Double, _ hi: Double) -> Double { lo > 0 ? lo : (hi < 0 ? -hi : 0) }
}

/// A value of f computed in Float64 moved outward by more than its error: a few ulps of
/// libm's functions, and `room` (in units of 2^-50) where the formula cancels (gelu's
/// `1 + erf(x)` for large negative x loses |x| ulps of 1).
@inline(__always) func widenDown(_ x: Double, _ room: Double = 0) -> Double { x.isFinite ? x - (abs(x) + room) * 0x1p-50 - 0x1p-1000 : x }
@inline(__always) func widenUp(_ x: Double, _ room: Double = 0) -> Double { x.isFinite ? x + (abs(x) + room) * 0x1p-50 + 0x1p-1000 : x }
