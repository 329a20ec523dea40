import BigInt

/// A closed interval `[lo, hi]` of rationals that contains an exact value: a point when the
/// value is known exactly, else an enclosure whose ends are rounded outward to the working
/// precision (so numbers stay small while the enclosure stays true).
package struct RationalInterval: Hashable, Sendable, CustomStringConvertible {
    package let lo: Rational
    package let hi: Rational

    package init(_ lo: Rational, _ hi: Rational) {
        precondition(lo <= hi, "an interval's ends are ordered")
        (self.lo, self.hi) = (lo, hi)
    }

    package init(_ point: Rational) { (lo, hi) = (point, point) }
    package init(_ i: Int) { self.init(Rational(i)) }

    package var isPoint: Bool { lo == hi }
    package var width: Rational { hi - lo }
    package var midpoint: Rational { (lo + hi) / Rational(2) }
    package func contains(_ x: Rational) -> Bool { lo <= x && x <= hi }
    package var containsZero: Bool { lo.sign <= 0 && hi.sign >= 0 }

    /// The ends rounded outward to `bits` significant bits (a point stays exact).
    package func rounded(toBits bits: Int) -> RationalInterval {
        isPoint ? self : RationalInterval(lo.rounded(toBits: bits, up: false), hi.rounded(toBits: bits, up: true))
    }

    /// The smallest interval holding both.
    package func hull(_ other: RationalInterval) -> RationalInterval {
        RationalInterval(Swift.min(lo, other.lo), Swift.max(hi, other.hi))
    }

    /// This interval widened by `r >= 0` on both sides.
    package func widened(by r: Rational) -> RationalInterval {
        r.isZero ? self : RationalInterval(lo - r, hi + r)
    }

    package static func + (a: RationalInterval, b: RationalInterval) -> RationalInterval {
        if a.isPoint && b.isPoint { return RationalInterval(a.lo + b.lo) }
        return RationalInterval(a.lo + b.lo, a.hi + b.hi)
    }

    package static prefix func - (a: RationalInterval) -> RationalInterval { RationalInterval(-a.hi, -a.lo) }
    package static func - (a: RationalInterval, b: RationalInterval) -> RationalInterval { a + (-b) }

    package static func * (a: RationalInterval, b: RationalInterval) -> RationalInterval {
        if a.isPoint && b.isPoint { return RationalInterval(a.lo * b.lo) }
        if a.isPoint { return b.scaled(by: a.lo) }
        if b.isPoint { return a.scaled(by: b.lo) }
        // By the signs of the ends, two products suffice unless both intervals hold zero.
        switch (a.lo.sign >= 0, a.hi.sign <= 0, b.lo.sign >= 0, b.hi.sign <= 0) {
        case (true, _, true, _): return RationalInterval(a.lo * b.lo, a.hi * b.hi)
        case (_, true, _, true): return RationalInterval(a.hi * b.hi, a.lo * b.lo)
        case (true, _, _, true): return RationalInterval(a.hi * b.lo, a.lo * b.hi)
        case (_, true, true, _): return RationalInterval(a.lo * b.hi, a.hi * b.lo)
        default:
            let products = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
            return RationalInterval(products.min()!, products.max()!)
        }
    }

    private func scaled(by c: Rational) -> RationalInterval {
        c.sign >= 0 ? RationalInterval(lo * c, hi * c) : RationalInterval(hi * c, lo * c)
    }

    /// `1 / self`; nil when the interval holds zero.
    package var reciprocal: RationalInterval? {
        containsZero ? nil : RationalInterval(Rational.one / hi, Rational.one / lo)
    }

    package var magnitude: RationalInterval {
        if lo.sign >= 0 { return self }
        if hi.sign <= 0 { return -self }
        return RationalInterval(.zero, Swift.max(-lo, hi))
    }

    /// The largest magnitude in the interval.
    package var bound: Rational { Swift.max(lo.magnitude, hi.magnitude) }

    package static func maximum(_ a: RationalInterval, _ b: RationalInterval) -> RationalInterval {
        RationalInterval(Swift.max(a.lo, b.lo), Swift.max(a.hi, b.hi))
    }

    package static func minimum(_ a: RationalInterval, _ b: RationalInterval) -> RationalInterval {
        RationalInterval(Swift.min(a.lo, b.lo), Swift.min(a.hi, b.hi))
    }

    /// The Double this value rounds to (nearest, ties to even), when every point of the
    /// interval rounds to the same one (zeros of either sign count as one); else nil.
    package var decidedDouble: Double? {
        let (a, b) = (lo.doubleValue, hi.doubleValue)
        return a == b ? (a == 0 ? 0 : a) : nil
    }

    /// `1/3` for a point, `[lo, hi]` (as decimals) for an enclosure.
    package var description: String {
        isPoint ? lo.description : "[\(lo.doubleValue), \(hi.doubleValue)]"
    }
}
