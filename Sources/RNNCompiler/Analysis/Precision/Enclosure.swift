import RNNOps

/// A run's floating-point format, as the precision analysis models it.
package enum RunPrecision: String, Sendable, CaseIterable {
    case float32, float64

    /// u: every correctly rounded operation is within a factor (1 ± u) of its exact result.
    package var unitRoundoff: Double { self == .float32 ? 0x1p-24 : 0x1p-53 }
    /// Bits of the significand, the leading one included.
    var significandBits: Int { self == .float32 ? 24 : 53 }
    /// The exponent of the smallest subnormal: no exact value below it.
    var minimumExponent: Int { self == .float32 ? -149 : -1074 }
    /// Half the smallest subnormal (the absolute error of a result that underflows); Double
    /// cannot hold 2^-1075, so Float64 uses its smallest subnormal.
    var underflow: Double { self == .float32 ? 0x1p-150 : Double.leastNonzeroMagnitude }

    /// `x` as a run in this precision stores it.
    func round(_ x: Double) -> Double { self == .float32 ? Double(Float(x)) : x }
    /// How far storing `x` in this precision moves it.
    func storageError(_ x: Double) -> Double { abs(round(x) - x) }

    /// γ_n = n u / (1 - n u): the relative error bound of an n-term sum or dot product in any
    /// order, fused multiply-adds included (Higham, Accuracy and Stability, §3.1).
    func gamma(_ n: Int) -> Double {
        let nu = Double(n) * unitRoundoff
        return nu < 0.5 ? nu / (1 - nu) : .infinity
    }

    /// Whether every multiple of 2^grid up to `magnitude` is a number of this precision.
    func holdsEveryMultiple(of grid: Int, upTo magnitude: Double) -> Bool {
        if grid == Enclosure.zeroGrid { return true }
        guard grid >= minimumExponent, magnitude.isFinite else { return false }
        let top = grid + significandBits
        return top <= 1023 && magnitude < Double(sign: .plus, exponent: top, significand: 1)
    }

    /// The spacing of this precision's numbers at magnitude `x`.
    package func spacing(at x: Double) -> Double {
        self == .float32 ? Double(Float(abs(x)).ulp) : abs(x).ulp
    }
}

/// Which nodes' roundings make up an error bound, the largest few by name and the rest
/// together: what `rnnc check --precision` shows as the ops that dominate a bound.
struct ErrorSources: Equatable {
    static let kept = 3
    private(set) var nodes: [Int32] = []
    private(set) var amounts: [Double] = []
    private(set) var rest: Double = 0

    static let none = ErrorSources()

    init() {}

    /// A rounding of `amount` at `node` (NaN, from infinities meeting zeros, counts as infinite).
    init(node: Int, amount: Double) {
        if amount > 0 || amount.isNaN { (nodes, amounts) = ([Int32(node)], [amount.isNaN ? .infinity : amount]) }
    }

    var total: Double { amounts.reduce(rest, +) }

    var largest: [(node: Int, amount: Double)] { zip(nodes, amounts).map { (Int($0), $1) } }

    func scaled(_ k: Double) -> ErrorSources {
        guard k != 1, !(amounts.isEmpty && rest == 0) else { return self }
        var s = self
        if k == 0 { return .none }
        s.amounts = amounts.map { $0 * k }
        s.rest = rest * k
        return s
    }

    /// The sum of two bounds' sources.
    static func + (a: ErrorSources, b: ErrorSources) -> ErrorSources {
        if b.amounts.isEmpty && b.rest == 0 { return a }
        if a.amounts.isEmpty && a.rest == 0 { return b }
        return sum([(b, 1)], plus: a)
    }

    /// `Σ scale_k * parts_k`, merged once (cheaper than adding them one by one).
    static func sum(_ parts: [(ErrorSources, Double)], plus own: ErrorSources = .none) -> ErrorSources {
        var nodes: [Int32] = own.nodes, amounts: [Double] = own.amounts
        var rest = own.rest
        for (p, k) in parts where k != 0 {
            rest += p.rest * k
            for (n, x) in zip(p.nodes, p.amounts) {
                if let i = nodes.firstIndex(of: n) { amounts[i] += x * k } else { nodes.append(n); amounts.append(x * k) }
            }
        }
        var s = ErrorSources()
        (s.nodes, s.amounts, s.rest) = (nodes, amounts, rest)
        return s.keepingLargest()
    }

    private func keepingLargest() -> ErrorSources {
        guard nodes.count > Self.kept else { return self }
        var s = self
        let order = amounts.indices.sorted { amounts[$0] > amounts[$1] }
        s.rest += order.dropFirst(Self.kept).reduce(0) { $0 + amounts[$1] }
        s.nodes = order.prefix(Self.kept).map { nodes[$0] }
        s.amounts = order.prefix(Self.kept).map { amounts[$0] }
        return s
    }

    /// The larger of two bounds (for joins): its sources stand for both.
    static func larger(_ a: ErrorSources, _ b: ErrorSources) -> ErrorSources { a.total >= b.total ? a : b }

    /// All of it counted as `rest` (for bounds that are not worth naming sources).
    static func unnamed(_ amount: Double) -> ErrorSources { var s = ErrorSources(); s.rest = amount; return s }
}

/// One element of a value, as the precision analysis knows it: the exact value lies in
/// `[lo, hi]` (over every step and case analysed), the computed one within `error` of it,
/// and the exact value is a multiple of 2^grid (nil: not known to lie on any grid).
struct Enclosure: Equatable {
    var lo: Double
    var hi: Double
    var sources: ErrorSources
    var grid: Int?

    var error: Double { sources.total }

    /// Zero is a multiple of every power of two.
    static let zeroGrid = Int.max / 4

    static let unknown = Enclosure(lo: -.infinity, hi: .infinity, sources: .none, grid: nil)

    /// An exactly known value, stored in `precision` (its rounding is charged to `node`).
    static func point(_ v: Double, precision: RunPrecision, node: Int, attributes: Bool = true) -> Enclosure {
        let stored = precision.storageError(v)
        return Enclosure(lo: v, hi: v, sources: attributes ? ErrorSources(node: node, amount: stored) : .unnamed(stored), grid: gridExponent(v))
    }

    var isExact: Bool { sources.total == 0 }
    var isZero: Bool { lo == 0 && hi == 0 && isExact }
    /// The largest magnitude of the exact value.
    var magnitude: Double { max(abs(lo), abs(hi)) }
    /// The largest magnitude of the computed value.
    var computedMagnitude: Double { magnitude + error }

    /// The smallest interval holding both, the larger error, the coarser common grid.
    func joined(_ o: Enclosure) -> Enclosure {
        Enclosure(lo: min(lo, o.lo), hi: max(hi, o.hi), sources: .larger(sources, o.sources),
                  grid: grid.flatMap { g in o.grid.map { min(g, $0) } })
    }

    /// Whether `self` holds `o` (range, error and grid).
    func contains(_ o: Enclosure) -> Bool {
        lo <= o.lo && o.hi <= hi && o.error <= error && (grid == nil || (o.grid.map { $0 >= grid! } ?? false))
    }

    /// NaN bounds (from infinities meeting zeros) become the whole line.
    func sanitized() -> Enclosure {
        var e = self
        if lo.isNaN { e.lo = -.infinity }
        if hi.isNaN { e.hi = .infinity }
        if e.error.isNaN { e.sources = .unnamed(.infinity) }
        return e
    }

    /// The exponent k of the lowest set bit of x's significand: x is a multiple of 2^k.
    static func gridExponent(_ x: Double) -> Int? {
        guard x.isFinite else { return nil }
        if x == 0 { return zeroGrid }
        if !x.isNormal { return -1074 + Int(x.significandBitPattern.trailingZeroBitCount) }
        return Int(x.exponent) - 52 + Int((x.significandBitPattern | (1 << 52)).trailingZeroBitCount)
    }
}
