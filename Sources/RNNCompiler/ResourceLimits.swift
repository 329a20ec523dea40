/// How much one compilation may build before it stops with E0601 (docs/language.md,
/// "Limits"): each bounds the memory or time that a hostile source, `--set` value or weights
/// file could make the compiler take, and each is checked before the allocation or loop it
/// guards. The defaults hold models of mamba-130m's size; `--limit name=count` (or
/// `ElaborationOptions.limits`) raises one for a larger model, or lowers it for a sandbox.
///
/// Limits on nesting depth (`CompilerLimits`) are not here: they protect the stack, whose
/// size does not grow with a flag.
public struct ResourceLimits: Sendable, Equatable {
    /// Elements of one compile-time tensor (dense): 2^26, 512 MiB as Float64.
    public var tensorElements = 1 << 26
    /// Elements of one runtime value (a vector, or a matrix state).
    public var vectorWidth = 1 << 24
    /// Iterations of one comprehension or `for` block.
    public var iterations = 1 << 20
    /// IR nodes in one model.
    public var irNodes = 1 << 20
    /// Weight entries stored in all affine and gather nodes together (dense entries or
    /// sparse non-zeros).
    public var storedWeights = 1 << 28
    /// Expressions evaluated while elaborating one model (inlining multiplies them).
    public var evaluations = 1 << 22
    /// Constant values computed while elaborating one model.
    public var constantValues = 1 << 28

    /// The defaults.
    public init() {}

    /// One limit, by its `--limit` name.
    public enum Kind: String, CaseIterable, Sendable {
        case tensorElements = "tensor-elements"
        case vectorWidth = "vector-width"
        case iterations
        case irNodes = "ir-nodes"
        case storedWeights = "stored-weights"
        case evaluations
        case constantValues = "constant-values"
    }

    /// The value of one limit.
    public subscript(kind: Kind) -> Int {
        get {
            switch kind {
            case .tensorElements: tensorElements
            case .vectorWidth: vectorWidth
            case .iterations: iterations
            case .irNodes: irNodes
            case .storedWeights: storedWeights
            case .evaluations: evaluations
            case .constantValues: constantValues
            }
        }
        set {
            switch kind {
            case .tensorElements: tensorElements = newValue
            case .vectorWidth: vectorWidth = newValue
            case .iterations: iterations = newValue
            case .irNodes: irNodes = newValue
            case .storedWeights: storedWeights = newValue
            case .evaluations: evaluations = newValue
            case .constantValues: constantValues = newValue
            }
        }
    }

    /// Sets one limit from `name=count` (`--limit`); the count is a positive integer, with
    /// optional `_` separators or as a power of two `2^k`. Returns why not on bad text.
    public mutating func set(_ text: Substring) -> String? {
        guard let equals = text.firstIndex(of: "=") else { return "expected name=count, e.g. tensor-elements=2^28" }
        let name = text[..<equals], value = text[text.index(after: equals)...].filter { $0 != "_" }
        guard let kind = Kind(rawValue: String(name)) else {
            return "no limit named '\(name)' (the limits: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))"
        }
        guard let count = Self.count(value), count > 0 else {
            return "the count of '\(name)' must be a positive integer below 2^62, or 2^k (got '\(value.prefix(40))')"
        }
        self[kind] = count
        return nil
    }

    /// A positive count below 2^62, as digits or `2^k`; nil otherwise. The bound leaves room
    /// for the sums and products the checks compute.
    private static func count(_ text: String) -> Int? {
        if text.hasPrefix("2^"), let k = Int(text.dropFirst(2)), (0..<62).contains(k) { return 1 << k }
        guard text.allSatisfy(\.isASCII), let n = Int(text), n < 1 << 62 else { return nil }
        return n
    }

    /// What an E0601 message adds: how to raise the limit it hit.
    static func hint(_ kind: Kind) -> String { " (--limit \(kind.rawValue)=N raises it)" }
}

extension Sequence<Int> {
    /// The product of non-negative sizes, Int.max when it overflows: limits compare against
    /// it without trapping, whatever sizes a source or `--limit` asks for.
    var saturatingProduct: Int {
        reduce(1) { product, n in
            let (p, overflow) = product.multipliedReportingOverflow(by: n)
            return overflow ? Int.max : p
        }
    }
}
