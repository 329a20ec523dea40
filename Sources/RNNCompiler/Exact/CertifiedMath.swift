import BigInt

/// Why exact evaluation stopped: `undecided` goes away at a higher precision (an enclosure
/// straddles a branch point or a pole), `failure` does not (the exact value is outside a
/// function's domain).
package enum ExactFailure: Error, Equatable {
    case undecided(String)
    case failure(String)
}

/// Elementary functions on rational intervals with certified enclosures: each result holds
/// the exact value, and its width is about 2^-bits relative (wider only where the argument's
/// own width demands). Series are summed in interval arithmetic at `bits` plus guard bits,
/// with a bound on the omitted tail added, so a result is true however it is rounded.
package final class CertifiedMath {
    /// Significant bits the results carry.
    package let bits: Int
    /// Bits intermediate results carry.
    let work: Int
    private var piCache: RationalInterval?
    /// π with 64 more bits, for reducing arguments of sin and cos of up to 2^64 turns.
    private lazy var piForReduction = CertifiedMath(bits: bits + 64).pi
    private var ln2Cache: RationalInterval?

    /// Arguments of exp beyond this many units are refused (above) or bounded (below):
    /// e^16384 has 23,637 bits.
    static let expLimit = 16384

    package init(bits: Int) {
        self.bits = bits
        self.work = bits + 24
    }

    /// `x` with ends of at most `w` (default `work`) bits, rounded outward: points too, so
    /// that series terms do not grow into huge exact fractions.
    func round(_ x: RationalInterval, _ w: Int? = nil) -> RationalInterval {
        let w = w ?? work
        return RationalInterval(x.lo.rounded(toBits: w, up: false), x.hi.rounded(toBits: w, up: true))
    }

    /// 2^e as a rational.
    static func power2(_ e: Int) -> Rational { Rational(mantissa: 1, exponent: e) }

    // MARK: Constants

    /// π by Machin's formula, 16 atan(1/5) - 4 atan(1/239).
    package var pi: RationalInterval {
        if let piCache { return piCache }
        let value = round(RationalInterval(16) * atanOfInverse(5) - RationalInterval(4) * atanOfInverse(239))
        piCache = value
        return value
    }

    /// ln 2 = 2 atanh(1/3).
    var ln2: RationalInterval {
        if let ln2Cache { return ln2Cache }
        let value = round(RationalInterval(2) * atanh(Rational(1) / Rational(3)))
        ln2Cache = value
        return value
    }

    /// atan(1/k) for an integer k >= 2: an alternating series of decreasing terms, so the
    /// tail is at most the first omitted term.
    private func atanOfInverse(_ k: Int) -> RationalInterval {
        let k = BigInt(k), k2 = k * k
        var sum = RationalInterval(0), power = k, n = 0
        let stop = Self.power2(-(work + 4))
        while true {
            let term = round(RationalInterval(Rational(1, BigInt(2 * n + 1) * power)))
            sum = round(n % 2 == 0 ? sum + term : sum - term)
            if term.hi < stop { return sum.widened(by: term.hi) }
            power *= k2
            n += 1
        }
    }

    /// atanh(z) = z + z^3/3 + ... for |z| <= 1/3; the tail after a term t is below
    /// |t| / (1 - z^2) <= 2|t|.
    private func atanh(_ z: Rational) -> RationalInterval {
        let z2 = RationalInterval(z * z)
        var power = RationalInterval(z), sum = RationalInterval(0), n = 0
        let stop = Self.power2(-(work + 4))
        while true {
            let term = round(power * RationalInterval(Rational(1, BigInt(2 * n + 1))))
            sum = round(sum + term)
            power = round(power * z2)
            if power.bound < stop { return sum.widened(by: power.bound * Rational(2)) }
            n += 1
        }
    }

    // MARK: Monotone functions

    /// e^x.
    package func exp(_ x: RationalInterval) throws(ExactFailure) -> RationalInterval {
        if x.isPoint { return try expPoint(x.lo) }
        return RationalInterval(try expPoint(x.lo).lo, try expPoint(x.hi).hi)
    }

    private func expPoint(_ q: Rational) throws(ExactFailure) -> RationalInterval {
        if q.isZero { return RationalInterval(1) }
        let limit = Rational(Self.expLimit)
        if q > limit { throw .failure("e^\(q.doubleValue) is too large (exact mode takes exponents up to \(Self.expLimit))") }
        // e^-16384 < 2^-23636: below the limit only a bound is worth computing.
        if q < -limit { return RationalInterval(.zero, Self.power2(-23636)) }
        // e^q = (e^(q / 2^k))^(2^k) with |q / 2^k| <= 1/2; each squaring doubles the relative
        // error, so the series carries k more bits.
        let k = Swift.max(0, q.binaryMagnitude + 2)
        let w = work + k + 8
        let r = RationalInterval(q / Self.power2(k))
        var term = RationalInterval(1), sum = RationalInterval(1), n = 1
        let stop = Self.power2(-(w + 2))
        while true {
            term = round(term * r * RationalInterval(Rational(1, BigInt(n))), w)
            sum = round(sum + term, w)
            // Later terms shrink by |r| / (n + 1) <= 1/4 each: their sum is below |term|.
            if n >= 2 && term.bound < stop { break }
            n += 1
        }
        var value = sum.widened(by: term.bound)
        for _ in 0..<k { value = round(value * value, w) }
        return round(value)
    }

    /// The natural logarithm; the interval must be positive.
    package func log(_ x: RationalInterval) throws(ExactFailure) -> RationalInterval {
        if x.hi.sign <= 0 { throw .failure("log of \(x.hi.doubleValue), which is not positive") }
        if x.lo.sign <= 0 { throw .undecided("log of an enclosure that reaches zero") }
        if x.isPoint { return logPoint(x.lo) }
        return RationalInterval(logPoint(x.lo).lo, logPoint(x.hi).hi)
    }

    /// log q = k ln 2 + 2 atanh((m - 1) / (m + 1)) with q = m 2^k and m in [2/3, 4/3].
    private func logPoint(_ q: Rational) -> RationalInterval {
        if q == .one { return RationalInterval(0) }
        var k = q.binaryMagnitude
        var m = q / Self.power2(k)
        if m > Rational(4) / Rational(3) { k += 1; m = m / Rational(2) }
        if m < Rational(2) / Rational(3) { k -= 1; m = m * Rational(2) }
        let z = (m - .one) / (m + .one)
        return round(RationalInterval(2) * atanh(z) + RationalInterval(k) * ln2)
    }

    /// The square root; the interval must not be negative.
    package func sqrt(_ x: RationalInterval) throws(ExactFailure) -> RationalInterval {
        if x.hi.sign < 0 { throw .failure("square root of \(x.hi.doubleValue), which is negative") }
        if x.lo.sign < 0 { throw .undecided("square root of an enclosure that reaches below zero") }
        if x.isPoint { return sqrtPoint(x.lo) }
        return RationalInterval(sqrtPoint(x.lo).lo, sqrtPoint(x.hi).hi)
    }

    /// sqrt(a / b) = sqrt(a b) / b: exact when a b is a square, else the integer square
    /// root of a b 4^k and one more, over b 2^k.
    private func sqrtPoint(_ q: Rational) -> RationalInterval {
        let ab = q.numerator.magnitude * q.denominator.magnitude
        let root = ab.squareRoot()
        if root * root == ab { return RationalInterval(Rational(BigInt(root), q.denominator)) }
        let k = Swift.max(0, work - Int(ab.bitWidth) / 2 + 2)
        let s = (ab << (2 * k)).squareRoot()
        let scale = q.denominator << k
        return RationalInterval(Rational(BigInt(s), scale), Rational(BigInt(s + 1), scale))
    }

    /// The error function.
    package func erf(_ x: RationalInterval) throws(ExactFailure) -> RationalInterval {
        if x.isPoint { return try erfPoint(x.lo) }
        return RationalInterval(try erfPoint(x.lo).lo, try erfPoint(x.hi).hi)
    }

    /// erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1)). The terms grow to about e^(x²) before
    /// they fall, so the sum carries x² log2(e) more bits; past x² >= (bits + 2) ln 2,
    /// erfc x <= e^(-x²) is below the precision and erf x is 1 less at most that.
    private func erfPoint(_ q: Rational) throws(ExactFailure) -> RationalInterval {
        if q.isZero { return RationalInterval(0) }
        if q.sign < 0 { return -(try erfPoint(-q)) }
        let x2 = q * q
        if x2 >= Rational(work + 2) * Rational(7) / Rational(10) {
            return RationalInterval(.one - Self.power2(-(work + 2)), .one)
        }
        let w = work + Int(x2.doubleValue * 1.4427) + 10
        let square = RationalInterval(x2)
        var power = RationalInterval(q), sum = RationalInterval(0), n = 0
        let stop = Self.power2(-(w + 4))
        while true {
            let term = round(power * RationalInterval(Rational(1, BigInt(2 * n + 1))), w)
            sum = round(n % 2 == 0 ? sum + term : sum - term, w)
            // Alternating, and decreasing once n + 1 > x²: the tail is below the last term.
            if Rational(n + 1) > x2 && term.bound < stop {
                let twoOverRootPi = RationalInterval(2) * (try sqrt(pi)).reciprocal!
                return round(sum.widened(by: term.bound) * twoOverRootPi)
            }
            n += 1
            power = round(power * square * RationalInterval(Rational(1, BigInt(n))), w)
        }
    }

    /// tanh x = 1 - 2 / (e^(2x) + 1), increasing.
    package func tanh(_ x: RationalInterval) throws(ExactFailure) -> RationalInterval {
        func point(_ q: Rational) throws(ExactFailure) -> RationalInterval {
            if q.isZero { return RationalInterval(0) }
            let t = try exp(RationalInterval(q * Rational(2)))
            return round(RationalInterval(1) - RationalInterval(2) * (t + RationalInterval(1)).reciprocal!)
        }
        if x.isPoint { return try point(x.lo) }
        let (a, b) = (try point(x.lo), try point(x.hi))
        return RationalInterval(Swift.max(a.lo, Rational(-1)), Swift.min(b.hi, .one))
    }

    // MARK: Periodic functions

    /// sin x (with `cosine: false`) or cos x.
    package func sinOrCos(_ x: RationalInterval, cosine: Bool) -> RationalInterval {
        // Both are 1-Lipschitz: the value at the midpoint, widened by the half-width.
        let center = x.isPoint ? x.lo : x.midpoint
        let value = trigPoint(center, cosine: cosine).widened(by: x.width / Rational(2))
        return RationalInterval(Swift.max(value.lo, Rational(-1)), Swift.min(value.hi, .one))
    }

    /// Reduces by a multiple of 2π (any multiple is right; a near one keeps the series short),
    /// then sums the Taylor series, alternating and decreasing once (2n)(2n+1) > r².
    private func trigPoint(_ q: Rational, cosine: Bool) -> RationalInterval {
        if q.isZero { return RationalInterval(cosine ? 1 : 0) }
        // k = round(q / 2π); π carries as many more bits as k has, so that 2kπ stays precise.
        let size = Swift.max(0, q.binaryMagnitude)
        let reductionPi = size <= 60 ? piForReduction : CertifiedMath(bits: bits + size + 8).pi
        let turns = q.doubleValue / (2 * Double.pi)
        let k = size <= 60 ? BigInt(Int64(turns.rounded())) : (q / (Rational(2) * reductionPi.lo) + Rational(1, 2)).floor
        let r = k.isZero ? RationalInterval(q) : round(RationalInterval(q) - RationalInterval(Rational(k * 2, 1)) * reductionPi)
        // The series at r's midpoint (a point: no interval products), widened by r's half-width.
        let center = r.midpoint, r2 = center * center
        var term = RationalInterval(cosine ? .one : center), sum = term, n = cosine ? 0 : 1
        let stop = Self.power2(-(work + 4))
        while true {
            term = round(-term * RationalInterval(r2 / Rational((n + 1) * (n + 2))))
            sum = round(sum + term)
            n += 2
            if Rational(n * n) > r2 && term.bound < stop { return round(sum.widened(by: term.bound + r.width / Rational(2))) }
        }
    }
}
