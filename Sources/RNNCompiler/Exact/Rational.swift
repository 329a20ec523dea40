import BigInt

/// An exact rational number `numerator / denominator`, in lowest terms with a positive
/// denominator: the numbers of exact mode (`rnnc run --dtype exact`).
package struct Rational: Hashable, Comparable, Sendable, CustomStringConvertible {
    package let numerator: BigInt
    package let denominator: BigInt

    package static let zero = Rational(0)
    package static let one = Rational(1)

    /// `n / d` reduced; `d` must not be zero.
    package init(_ n: BigInt, _ d: BigInt) {
        precondition(!d.isZero, "a rational's denominator is not zero")
        // Integers are most of exact mode's numbers: no common divisor to look for.
        if d == 1 {
            (numerator, denominator) = (n, d)
            return
        }
        let g = Self.gcd(n.magnitude, d.magnitude)
        var (n, d) = (n, d)
        if d.sign == .minus { (n, d) = (-n, -d) }
        if g == 1 {
            (numerator, denominator) = (n, d)
        } else if Self.isPowerOfTwo(g) {
            // Dividing by a power of two is a shift; n is divisible, so the shift is exact.
            let shift = Int(g.trailingZeroBitCount)
            (numerator, denominator) = (n.sign == .minus ? -BigInt(n.magnitude >> shift) : n >> shift, d >> shift)
        } else {
            let g = BigInt(g)
            (numerator, denominator) = (n / g, d / g)
        }
    }

    /// The greatest common divisor, without the general algorithm where the numbers allow:
    /// enclosures have power-of-two denominators, and series divide by small integers.
    static func gcd(_ a: BigUInt, _ b: BigUInt) -> BigUInt {
        if a.isZero { return b }
        if b.isZero { return a }
        let (za, zb) = (a.trailingZeroBitCount, b.trailingZeroBitCount)
        let twos = Swift.min(za, zb)
        let (oddA, oddB) = (a >> za, b >> zb)
        if oddA == 1 || oddB == 1 { return BigUInt(1) << twos }
        if oddB.bitWidth <= 64 { return BigUInt(wordGCD(UInt64(oddB), UInt64(oddA % oddB))) << twos }
        if oddA.bitWidth <= 64 { return BigUInt(wordGCD(UInt64(oddA), UInt64(oddB % oddA))) << twos }
        return a.greatestCommonDivisor(with: b)
    }

    static func isPowerOfTwo(_ x: BigUInt) -> Bool { x.trailingZeroBitCount == x.bitWidth - 1 }

    private static func wordGCD(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// Already in lowest terms with a positive denominator (no gcd taken).
    private init(reduced n: BigInt, _ d: BigInt) {
        (numerator, denominator) = (n, d)
    }

    package init(_ i: Int) { self.init(reduced: BigInt(i), 1) }

    /// `m * 2^e`.
    package init(mantissa m: BigInt, exponent e: Int) {
        if e >= 0 || m.isZero {
            self.init(reduced: m.isZero ? 0 : m << e, 1)
        } else {
            let shift = Swift.min(-e, Int(m.magnitude.trailingZeroBitCount))
            self.init(reduced: m >> shift, BigInt(1) << (-e - shift))
        }
    }

    /// The exact value of a finite Double (a dyadic rational); nil for NaN and infinities.
    package init?(exactly x: Double) {
        guard x.isFinite else { return nil }
        if x == 0 { self = .zero; return }
        let significand = BigInt(x.significandBitPattern | (x.isNormal ? 1 << 52 : 0))
        let exponent = (x.isNormal ? Int(x.exponent) : Double.leastNormalMagnitude.exponent) - 52
        self.init(mantissa: x.sign == .minus ? -significand : significand, exponent: Int(exponent))
    }

    /// A decimal numeral (`-12.5e-3`) read exactly; nil if the text is not one.
    package init?(decimal text: some StringProtocol) {
        var digits = "", exponent = 0, seenPoint = false, index = text.startIndex
        var negative = false
        if index < text.endIndex, text[index] == "-" || text[index] == "+" {
            negative = text[index] == "-"
            index = text.index(after: index)
        }
        while index < text.endIndex, text[index] != "e", text[index] != "E" {
            let c = text[index]
            if c == "." {
                guard !seenPoint else { return nil }
                seenPoint = true
            } else {
                guard c.isASCII, c.isNumber else { return nil }
                digits.append(c)
                if seenPoint { exponent -= 1 }
            }
            index = text.index(after: index)
        }
        if index < text.endIndex {
            guard let e = Int(text[text.index(after: index)...]), abs(e) < 100_000 else { return nil }
            exponent += e
        }
        guard !digits.isEmpty, let m = BigInt(digits) else { return nil }
        let ten = BigInt(10).power(abs(exponent))
        self.init(negative ? -m : m, 1)
        self = exponent >= 0 ? self * Rational(ten, 1) : self / Rational(ten, 1)
    }

    /// The decimal Swift prints for `x` (the shortest that reads back as `x`), read exactly:
    /// how exact mode reads numbers that were written in decimal (`0.1` is 1/10).
    package init?(shortestDecimalOf x: Double) {
        guard x.isFinite else { return nil }
        self.init(decimal: "\(x)")
    }

    package var isZero: Bool { numerator.isZero }
    package var isInteger: Bool { denominator == 1 }
    package var sign: Int { numerator.isZero ? 0 : (numerator.sign == .minus ? -1 : 1) }

    package static func + (a: Rational, b: Rational) -> Rational {
        if a.numerator.isZero { return b }
        if b.numerator.isZero { return a }
        if a.denominator == b.denominator { return Rational(a.numerator + b.numerator, a.denominator) }
        return Rational(a.numerator * b.denominator + b.numerator * a.denominator, a.denominator * b.denominator)
    }

    package static prefix func - (a: Rational) -> Rational { Rational(reduced: -a.numerator, a.denominator) }
    package static func - (a: Rational, b: Rational) -> Rational { a + (-b) }

    package static func * (a: Rational, b: Rational) -> Rational {
        if a.numerator.isZero || b.numerator.isZero { return .zero }
        return Rational(a.numerator * b.numerator, a.denominator * b.denominator)
    }

    /// `b` must not be zero.
    package static func / (a: Rational, b: Rational) -> Rational {
        Rational(a.numerator * b.denominator, a.denominator * b.numerator)
    }

    package static func < (a: Rational, b: Rational) -> Bool {
        if a.sign != b.sign { return a.sign < b.sign }
        if a.denominator == b.denominator { return a.numerator < b.numerator }
        let (da, db) = (a.denominator.magnitude, b.denominator.magnitude)
        if isPowerOfTwo(da) && isPowerOfTwo(db) {
            // Dyadic numbers (enclosures' ends): align by shifting, not multiplying.
            let (ea, eb) = (Int(da.trailingZeroBitCount), Int(db.trailingZeroBitCount))
            return ea < eb ? a.numerator << (eb - ea) < b.numerator : a.numerator < b.numerator << (ea - eb)
        }
        return a.numerator * b.denominator < b.numerator * a.denominator
    }

    package var magnitude: Rational { sign < 0 ? -self : self }

    /// The largest integer at most this number.
    package var floor: BigInt {
        let (q, r) = numerator.quotientAndRemainder(dividingBy: denominator)
        return r.sign == .minus && !r.isZero ? q - 1 : q
    }

    package var ceil: BigInt { -(-self).floor }

    /// The nearest integer, halves away from zero (as `Double.rounded()`).
    package var roundedHalfAway: Rational {
        let half = Rational(1, 2)
        return sign < 0 ? -Rational((magnitude + half).floor, 1) : Rational((self + half).floor, 1)
    }

    /// `self^n` for an integer `n` (a zero base needs `n >= 0`).
    package func power(_ n: Int) -> Rational {
        let p = Rational(numerator.power(abs(n)), denominator.power(abs(n)))
        return n >= 0 ? p : Rational.one / p
    }

    /// About log2 |self| (exact to within 1): the bit lengths' difference.
    var binaryMagnitude: Int {
        Int(numerator.magnitude.bitWidth) - Int(denominator.magnitude.bitWidth)
    }

    /// The nearest dyadic rational with at most `bits` significant bits toward minus
    /// infinity (`up: false`) or plus infinity (`up: true`); exact values stay as they are.
    package func rounded(toBits bits: Int, up: Bool) -> Rational {
        if isZero { return self }
        if Self.isPowerOfTwo(denominator.magnitude) {
            // A dyadic number: drop the numerator's low bits (toward the asked direction).
            let drop = Int(numerator.magnitude.bitWidth) - bits
            if drop <= 0 { return self }
            let magnitude = numerator.magnitude, kept = magnitude >> drop
            let inexact = kept << drop != magnitude
            let away = inexact && (up == (numerator.sign == .plus))
            let m = BigInt(away ? kept + 1 : kept)
            return Rational(mantissa: numerator.sign == .minus ? -m : m, exponent: drop - Int(denominator.magnitude.trailingZeroBitCount))
        }
        // Scale so the quotient has `bits` bits: q = floor(self * 2^k).
        let k = bits - binaryMagnitude
        let scaled = k >= 0 ? numerator << k : numerator
        let divisor = k >= 0 ? denominator : denominator << -k
        let (q, r) = scaled.quotientAndRemainder(dividingBy: divisor)
        var down = q
        if r.sign == .minus && !r.isZero { down -= 1 }
        let result = !r.isZero && up ? down + 1 : down
        return Rational(mantissa: result, exponent: -k)
    }

    /// The Double nearest to this number (ties to even), as IEEE rounding would give it.
    package var doubleValue: Double {
        if isZero { return 0 }
        let negative = numerator.sign == .minus
        let n = numerator.magnitude, d = denominator.magnitude
        // Find e with 2^52 <= n / d * 2^-e < 2^53 (or the subnormal exponent).
        // n / d lies in [2^(b-1), 2^(b+1)) for b the bit lengths' difference: e = b - 53
        // leaves 53 or 54 bits in the quotient, and one more step leaves 53.
        var e = Int(n.bitWidth) - Int(d.bitWidth) - 53
        if Self.shifted(n, d, e).q >= BigUInt(1) << 53 { e += 1 }
        e = Swift.max(e, -1074)
        if e > 1023 - 52 { return negative ? -.infinity : .infinity }
        var (q, r) = Self.shifted(n, d, e)
        // Round half to even: compare twice the remainder with the divisor.
        let divisor = e >= 0 ? d << e : d
        let twice = r << 1
        if twice > divisor || (twice == divisor && q[bitAt: 0]) { q += 1 }
        let value = Double(sign: .plus, exponent: e, significand: Double(UInt64(q)))
        return negative ? -value : value
    }

    /// `n / d * 2^-e` as quotient and remainder.
    private static func shifted(_ n: BigUInt, _ d: BigUInt, _ e: Int) -> (q: BigUInt, r: BigUInt) {
        let (q, r) = e >= 0 ? n.quotientAndRemainder(dividingBy: d << e) : (n << -e).quotientAndRemainder(dividingBy: d)
        return (q, r)
    }

    /// `7`, `-1/3`.
    package var description: String {
        denominator == 1 ? numerator.description : "\(numerator)/\(denominator)"
    }
}
