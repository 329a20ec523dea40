import Foundation

/// What the precision analysis (`rnnc check --precision`) knows about an op: the image of an
/// interval, a bound on the slope there, and how far the runtime's kernels may be from the
/// exact value. Each entry of the op table carries one; `OpAccuracyTests` checks the
/// kernels against the claimed error on sampled points.
public struct OpAccuracy: Sendable {
    /// Where the op may change between falling and rising (or jump): its image of an interval
    /// is spanned by its reference's values at the ends and at these points inside.
    public let turningPoints: [Double]
    /// The image where turning points do not describe it (a pole, bounds an op selects), as
    /// a superset of `{ f(x) : lo <= x <= hi }` (for a binary op: of `f(x, y)`).
    let customImage: (@Sendable (_ lo: Double, _ hi: Double, OpAttributes) -> (Double, Double))?
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
    static let arithmetic = OpAccuracy(turningPoints: [], customImage: { _, _, _ in (-.infinity, .infinity) }, slope: { _, _, _ in .infinity },
                                       ulps32: 1, ulps64: 1, floor: 0, selects: false)

    /// An op that picks an operand or an attribute (`relu`, `hardtanh`, `max`, `min`).
    static func selecting(_ image: @escaping @Sendable (Double, Double, OpAttributes) -> (Double, Double)) -> OpAccuracy {
        OpAccuracy(turningPoints: [], customImage: image, slope: { _, _, _ in 1 }, ulps32: 0, ulps64: 0, floor: 0, selects: true)
    }

    /// An op monotone between `turningPoints`, its slope bounded by `slope`.
    static func smooth(turningPoints: [Double] = [], ulps32: Double, ulps64: Double, floor: Double = 0,
                       slope: @escaping @Sendable (Double, Double, OpAttributes) -> Double) -> OpAccuracy {
        OpAccuracy(turningPoints: turningPoints, customImage: nil, slope: slope, ulps32: ulps32, ulps64: ulps64, floor: floor, selects: false)
    }

    /// The largest |x| over [lo, hi]'s point nearest to zero: for slopes that peak at 0.
    static func nearestZero(_ lo: Double, _ hi: Double) -> Double { lo > 0 ? lo : (hi < 0 ? -hi : 0) }
}

extension OpEntry {
    /// A superset of the op's values over `[lo, hi]`, from its reference at the ends and at
    /// its turning points inside (the whole line where the reference gives NaN).
    public func image(_ lo: Double, _ hi: Double, _ a: OpAttributes) -> (Double, Double) {
        if let custom = accuracy.customImage { return custom(lo, hi, a) }
        let points = [lo, hi] + accuracy.turningPoints.filter { $0 > lo && $0 < hi }
        let values = points.map { reference($0, 0, a) }
        guard !values.contains(where: \.isNaN) else { return (-.infinity, .infinity) }
        let room = accuracy.floor * (1 + max(abs(lo), abs(hi)))
        return (widenDown(values.min()!, room), widenUp(values.max()!, room))
    }
}

/// A value of f computed in Float64 moved outward by more than its error: a few ulps of
/// libm's functions, and `room` (in units of 2^-50) where the formula cancels (gelu's
/// `1 + erf(x)` for large negative x loses |x| ulps of 1).
@inline(__always) func widenDown(_ x: Double, _ room: Double = 0) -> Double { x.isFinite ? x - (abs(x) + room) * 0x1p-50 - 0x1p-1000 : x }
@inline(__always) func widenUp(_ x: Double, _ room: Double = 0) -> Double { x.isFinite ? x + (abs(x) + room) * 0x1p-50 + 0x1p-1000 : x }
