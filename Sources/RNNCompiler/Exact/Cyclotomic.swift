import BigInt

/// Exact arithmetic in the cyclotomic field Q(ζ_N), ζ_N = e^(2πi/N): the numbers that the
/// sines and cosines of rational multiples of π are made of (`rotation(2 pi / 6)` has
/// entries ±1/2 and ±√3/2). Exact mode keeps values that come from such constants by
/// rational operations exact here, so it can tell an exact zero from a tiny number: an
/// enclosure alone never proves zero, and deciding `step(0)` by enclosures alone needs
/// thousands of bits.
///
/// An element is its coordinates in the power basis 1, ζ, ..., ζ^(d-1), d = φ(N), with
/// products reduced modulo the cyclotomic polynomial Φ_N. The elements made here are real
/// (the imaginary parts cancel), so a value is Σ c_k cos(2πk/N).
final class CyclotomicField {
    let order: Int
    let degree: Int
    /// Φ_N's integer coefficients, lowest first; monic.
    private let modulus: [Int]
    /// ζ^k for k in 0..<N, reduced.
    private let powers: [CyclotomicNumber]
    /// cos(2πk/N) for k in 0..<degree, by precision.
    private var cosines: [Int: [RationalInterval]] = [:]

    /// Largest degree φ(N) kept: past it products cost more than the enclosures they spare.
    static let maxDegree = 48

    init?(order: Int) {
        guard order >= 1, let modulus = Self.cyclotomicPolynomial(order), modulus.count - 1 <= Self.maxDegree else { return nil }
        self.order = order
        self.modulus = modulus
        degree = modulus.count - 1
        var powers: [CyclotomicNumber] = []
        var p = [Rational](repeating: .zero, count: degree)
        p[0] = .one
        for _ in 0..<order {
            powers.append(CyclotomicNumber(p))
            p.insert(.zero, at: 0)  // times ζ
            Self.reduce(&p, modulus)
        }
        self.powers = powers
    }

    /// The smallest field that holds cos and sin of every multiple of π/q for the given
    /// denominators q: N = lcm(4, 2q, ...), the 4 for i (a sine is (ζ^k - ζ^-k) / 2i).
    /// Denominators that would pass `maxDegree` are left out (their constants stay enclosures).
    static func holding(denominators: Set<Int>) -> CyclotomicField? {
        var order = 4
        for q in denominators.sorted() {
            let candidate = lcm(order, 2 * q)
            if let phi = totient(candidate), phi <= maxDegree { order = candidate }
        }
        return order == 4 && denominators.allSatisfy({ [1, 2].contains($0) }) ? nil : CyclotomicField(order: order)
    }

    func rational(_ q: Rational) -> CyclotomicNumber {
        var c = [Rational](repeating: .zero, count: degree)
        c[0] = q
        return CyclotomicNumber(c)
    }

    /// cos(π a / b) or sin(π a / b), when 2b divides N.
    func trigonometric(_ turns: Rational, cosine: Bool) -> CyclotomicNumber? {
        // π a/b = 2π k/N with k = a N / (2b).
        let scaled = turns * Rational(order) / Rational(2)
        guard scaled.isInteger, let k0 = Int(exactly: scaled.numerator % BigInt(order)) else { return nil }
        let k = (k0 % order + order) % order
        let (plus, minus) = (powers[k], powers[(order - k) % order])
        if cosine { return scale(add(plus, minus), Rational(1, 2)) }
        // sin = (ζ^k - ζ^-k) / 2i = -(ζ^k - ζ^-k) i / 2, i = ζ^(N/4).
        return scale(multiply(add(plus, negate(minus)), powers[order / 4]), Rational(-1, 2))
    }

    func add(_ a: CyclotomicNumber, _ b: CyclotomicNumber) -> CyclotomicNumber {
        CyclotomicNumber(zip(a.coefficients, b.coefficients).map { $0 + $1 })
    }

    func negate(_ a: CyclotomicNumber) -> CyclotomicNumber { CyclotomicNumber(a.coefficients.map { -$0 }) }

    func scale(_ a: CyclotomicNumber, _ q: Rational) -> CyclotomicNumber { CyclotomicNumber(a.coefficients.map { $0 * q }) }

    func multiply(_ a: CyclotomicNumber, _ b: CyclotomicNumber) -> CyclotomicNumber {
        if let q = a.rationalValue { return scale(b, q) }
        if let q = b.rationalValue { return scale(a, q) }
        var p = [Rational](repeating: .zero, count: 2 * degree - 1)
        for (i, x) in a.coefficients.enumerated() where !x.isZero {
            for (j, y) in b.coefficients.enumerated() where !y.isZero { p[i + j] = p[i + j] + x * y }
        }
        Self.reduce(&p, modulus)
        return CyclotomicNumber(p)
    }

    /// An enclosure of the element's (real) value at `bits`.
    func enclosure(_ a: CyclotomicNumber, bits: Int) -> RationalInterval {
        if let q = a.rationalValue { return RationalInterval(q) }
        let cos = cosineTable(bits: bits)
        var sum = RationalInterval(0)
        for (k, c) in a.coefficients.enumerated() where !c.isZero { sum = (sum + RationalInterval(c) * cos[k]).rounded(toBits: bits + 24) }
        return sum
    }

    /// The sign of a nonzero element, from enclosures at rising precision (one that excludes
    /// zero always comes, as the value is not zero); nil past `maxBits`.
    func sign(_ a: CyclotomicNumber, from bits: Int, maxBits: Int) -> Int? {
        if let q = a.rationalValue { return q.sign }
        var bits = bits
        while bits <= maxBits {
            let v = enclosure(a, bits: bits)
            if v.lo.sign > 0 { return 1 }
            if v.hi.sign < 0 { return -1 }
            bits *= 2
        }
        return nil
    }

    private func cosineTable(bits: Int) -> [RationalInterval] {
        if let known = cosines[bits] { return known }
        let math = CertifiedMath(bits: bits)
        let table = (0..<degree).map { k in
            math.sinOrCos((math.pi * RationalInterval(Rational(BigInt(2 * k), BigInt(order)))).rounded(toBits: math.work), cosine: true)
        }
        cosines[bits] = table
        return table
    }

    /// `p` modulo the monic `modulus`, in place, leaving `degree` coefficients.
    private static func reduce(_ p: inout [Rational], _ modulus: [Int]) {
        let d = modulus.count - 1
        var i = p.count - 1
        while i >= d {
            let c = p[i]
            if !c.isZero {
                for (j, m) in modulus.enumerated() where m != 0 { p[i - d + j] = p[i - d + j] - c * Rational(m) }
            }
            i -= 1
        }
        p.removeLast(p.count - d)
    }

    /// Φ_n's coefficients, from x^n - 1 = Π_{k | n} Φ_k(x); nil when they leave Int.
    static func cyclotomicPolynomial(_ n: Int) -> [Int]? {
        var p = [Int](repeating: 0, count: n + 1)
        (p[0], p[n]) = (-1, 1)
        for k in 1..<n where n % k == 0 {
            guard let divisor = cyclotomicPolynomial(k), let quotient = divide(p, by: divisor) else { return nil }
            p = quotient
        }
        return p
    }

    /// Exact division by a monic polynomial; nil when a coefficient overflows or a remainder is left.
    private static func divide(_ p: [Int], by m: [Int]) -> [Int]? {
        var r = p
        let (n, d) = (p.count - 1, m.count - 1)
        guard n >= d else { return nil }
        var q = [Int](repeating: 0, count: n - d + 1)
        for i in stride(from: n - d, through: 0, by: -1) {
            let c = r[i + d]
            q[i] = c
            for (j, mj) in m.enumerated() {
                let (product, o1) = c.multipliedReportingOverflow(by: mj)
                let (difference, o2) = r[i + j].subtractingReportingOverflow(product)
                guard !o1, !o2 else { return nil }
                r[i + j] = difference
            }
        }
        return r.allSatisfy { $0 == 0 } ? q : nil
    }

    static func totient(_ n: Int) -> Int? {
        guard n >= 1 else { return nil }
        var (result, m, p) = (n, n, 2)
        while p * p <= m {
            if m % p == 0 {
                while m % p == 0 { m /= p }
                result -= result / p
            }
            p += 1
        }
        if m > 1 { result -= result / m }
        return result
    }

    static func lcm(_ a: Int, _ b: Int) -> Int {
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        return a / gcd(a, b) * b
    }
}

/// An element of a `CyclotomicField`: its coordinates in the power basis.
struct CyclotomicNumber: Hashable {
    var coefficients: [Rational]

    init(_ coefficients: [Rational]) { self.coefficients = coefficients }

    var isZero: Bool { coefficients.allSatisfy(\.isZero) }

    /// The value when it is rational (every coordinate but the first zero).
    var rationalValue: Rational? { coefficients.dropFirst().allSatisfy(\.isZero) ? coefficients[0] : nil }

    /// Bits of the largest numerator or denominator, for the memory budget.
    var size: Int { coefficients.map { Swift.max($0.numerator.magnitude.bitWidth, $0.denominator.magnitude.bitWidth) }.max() ?? 0 }
}
