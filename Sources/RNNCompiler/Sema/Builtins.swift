import Foundation
import RNNOps
import RNNRuntime

/// The arguments of one builtin call, already evaluated, with helpers that report errors.
struct BuiltinCall {
    let name: String
    let positional: [(value: Value, range: SourceRange)]
    let named: [String: (value: Value, range: SourceRange)]
    let range: SourceRange
    let elaborator: Elaborator

    func fail(_ code: DiagnosticCode, _ message: String, at r: SourceRange? = nil) -> Value {
        elaborator.error(code, message, at: r ?? range)
        return .error
    }

    /// E0601 for a value past one of the resource limits, with the flag that raises it.
    func limitFail(_ kind: ResourceLimits.Kind, _ message: String, at r: SourceRange? = nil) -> Value {
        elaborator.limitError(kind, message, at: r ?? range)
        return .error
    }

    var hasErrorArgument: Bool {
        (positional.map(\.value) + named.values.map(\.value)).contains { if case .error = $0 { return true } else { return false } }
    }

    /// Checks the number of positional arguments and the allowed labels.
    func expect(_ counts: ClosedRange<Int>, labels: Set<String> = []) -> Bool {
        for (label, arg) in named where !labels.contains(label) {
            _ = fail(.badArguments, "'\(name)' has no argument named '\(label)'" + (labels.isEmpty ? "" : " (it takes: \(labels.sorted().joined(separator: ", ")))"), at: arg.range)
            return false
        }
        guard counts.contains(positional.count) else {
            let want = counts.lowerBound == counts.upperBound ? "\(counts.lowerBound)" : "\(counts.lowerBound) to \(counts.upperBound)"
            _ = fail(.badArguments, "'\(name)' takes \(want) argument(s), but \(positional.count) were given")
            return false
        }
        return true
    }

    func constant(_ i: Int) -> Tensor? {
        switch positional[i].value {
        case .constant(let t): return t
        case .runtime, .matrix:
            _ = fail(.notConstant, "argument \(i + 1) of '\(name)' must be a compile-time value", at: positional[i].range)
            return nil
        case .string, .function, .error: return nil
        }
    }

    func scalar(_ i: Int) -> Double? {
        guard let t = constant(i) else { return nil }
        guard t.isScalar else {
            _ = fail(.shapeMismatch, "argument \(i + 1) of '\(name)' must be a scalar, found shape \(t.shapeDescription)", at: positional[i].range)
            return nil
        }
        return t.scalar
    }

    /// A non-negative integer argument (a size), checked against the element limit.
    func size(_ i: Int) -> Int? {
        guard let x = scalar(i) else { return nil }
        guard let n = elaborator.exactInteger(x), n >= 0 else {
            _ = fail(.notInteger, "argument \(i + 1) of '\(name)' must be a non-negative integer, found \(formatNumber(x))", at: positional[i].range)
            return nil
        }
        guard n <= elaborator.limits.tensorElements else {
            _ = limitFail(.tensorElements, "size \(n) exceeds the limit of \(elaborator.limits.tensorElements) elements", at: positional[i].range)
            return nil
        }
        return n
    }

    func namedScalar(_ label: String, default d: Double) -> Double? {
        guard let arg = named[label] else { return d }
        switch arg.value {
        case .constant(let t) where t.isScalar: return t.scalar
        case .error: return nil
        default:
            _ = fail(.invalidValue, "'\(label):' of '\(name)' must be a compile-time scalar", at: arg.range)
            return nil
        }
    }

    /// A named integer argument (a seed): a whole number of magnitude below 9e15.
    func namedInteger(_ label: String, default d: Int) -> Int? {
        guard named[label] != nil else { return d }
        guard let x = namedScalar(label, default: Double(d)) else { return nil }
        guard let n = elaborator.exactInteger(x) else {
            _ = fail(.notInteger, "'\(label):' of '\(name)' must be an integer below 9e15 in magnitude, found \(formatNumber(x))", at: named[label]!.range)
            return nil
        }
        return n
    }

    /// The shape given by all positional sizes: `(n)` or `(rows, cols)`.
    func shape(from first: Int = 0) -> [Int]? {
        var dims: [Int] = []
        for i in first..<positional.count {
            guard let n = size(i) else { return nil }
            dims.append(n)
        }
        guard dims.saturatingProduct <= elaborator.limits.tensorElements else {
            _ = limitFail(.tensorElements, "shape \(Tensor.describe(dims)) exceeds the limit of \(elaborator.limits.tensorElements) elements")
            return nil
        }
        guard elaborator.spend(dims.reduce(1, *), at: range) else { return nil }
        return dims
    }
}

/// The builtin functions: activations usable at run time, math on compile-time values, and
/// constructors of constant vectors and matrices. See docs/language.md for the full list.
package enum Builtins {
    /// The op table's ops that a source calls by name (`relu(x)`, `leaky_relu(x, 0.2)`, `max(a, b)`).
    static let elementwise: [String: ElementwiseKind] = Dictionary(uniqueKeysWithValues: ElementwiseKind.allCases.filter(\.entry.callable).map { ($0.name, $0) })
    static let constantMath: [String: @Sendable (Double) -> Double] = [
        "cos": { cos($0) }, "sin": { sin($0) }, "tan": { tan($0) }, "floor": { $0.rounded(.down) },
        "ceil": { $0.rounded(.up) }, "round": { $0.rounded() },
    ]
    static let constructors: Set<String> = ["kron", "flatten", "eye", "zeros", "ones", "diag", "rotation", "transpose", "normal", "uniform", "hstack", "vstack", "size", "sum", "abs", "repeat", "tile", "group_sum", "outer"]
    package static let names: Set<String> = Set(elementwise.keys).union(constantMath.keys).union(constructors).union([compileError])
    /// `compile_error("message")`, handled by the elaborator (its arguments may be strings).
    static let compileError = "compile_error"
    /// Builtins that, in a param initializer without a shape, take the param's declared shape.
    static let shapeFromContext: Set<String> = ["zeros", "ones", "eye", "normal", "uniform"]

    static func call(_ c: inout BuiltinCall) -> Value {
        if c.hasErrorArgument { return .error }
        if let kind = elementwise[c.name] { return elementwiseOp(kind, c) }
        if let f = constantMath[c.name] {
            guard c.expect(1...1), let t = c.constant(0) else { return .error }
            let out = t.map(f)
            if let function = ExactExpr.ConstantFunction(rawValue: c.name) {
                c.elaborator.recordExact(out.data, [t.data]) { ExactExpr.applying(function, $0[0]) }
            }
            return c.elaborator.finite(out, range: c.range)
        }
        switch c.name {
        case "abs": return abs(c)
        case "sum": return sum(c)
        case "repeat", "tile", "group_sum": return regroup(c)
        case "size": return size(c)
        case "zeros", "ones":
            guard c.expect(1...2), let shape = c.shape() else { return .error }
            return .constant(Tensor(shape: shape, data: [Double](repeating: c.name == "ones" ? 1 : 0, count: shape.reduce(1, *))))
        case "eye":
            guard c.expect(1...2), let shape = c.shape() else { return .error }
            let (r, k) = (shape[0], shape.count == 2 ? shape[1] : shape[0])
            // `eye(n)` is n x n although its shape argument is one number: check the matrix.
            let (elements, overflow) = r.multipliedReportingOverflow(by: k)
            guard !overflow, elements <= c.elaborator.limits.tensorElements else {
                return c.limitFail(.tensorElements, "eye(\(r)) is \(r) x \(k), more than the limit of \(c.elaborator.limits.tensorElements) elements")
            }
            guard shape.count == 2 || c.elaborator.spend(elements, at: c.range) else { return .error }
            var data = [Double](repeating: 0, count: elements)
            for i in 0..<min(r, k) { data[i * k + i] = 1 }
            return .constant(.matrix(rows: r, cols: k, data))
        case "diag":
            guard c.expect(1...1), let v = c.constant(0) else { return .error }
            guard v.rank == 1 else { return c.fail(.shapeMismatch, "'diag' takes a vector, found shape \(v.shapeDescription)") }
            let n = v.data.count
            guard [n, n].saturatingProduct <= c.elaborator.limits.tensorElements else {
                return c.limitFail(.tensorElements, "diag of \(n) elements exceeds the limit of \(c.elaborator.limits.tensorElements) elements")
            }
            var data = [Double](repeating: 0, count: n * n)
            for i in 0..<n { data[i * n + i] = v.data[i] }
            return .constant(.matrix(rows: n, cols: n, data))
        case "rotation":
            guard c.expect(1...1), let theta = c.scalar(0) else { return .error }
            let (cosine, sine) = (cos(theta), sin(theta))
            c.elaborator.recordExact(cosine, [theta]) { ExactExpr.applying(.cos, $0[0]) }
            c.elaborator.recordExact(sine, [theta]) { ExactExpr.applying(.sin, $0[0]) }
            return .constant(.matrix(rows: 2, cols: 2, [cosine, -sine, sine, cosine]))
        case "transpose":
            guard c.expect(1...1) else { return .error }
            return c.elaborator.transpose(c.positional[0].value, range: c.range)
        case "outer":
            guard c.expect(2...2) else { return .error }
            return c.elaborator.outer(c.positional[0].value, c.positional[1].value, range: c.range, ranges: (c.positional[0].range, c.positional[1].range))
        case "normal", "uniform": return random(c)
        case "kron": return kron(c)
        case "flatten":
            guard c.expect(1...1) else { return .error }
            if let (id, shape) = c.positional[0].value.runtimeShape { return .runtime(id, size: shape.reduce(1, *)) }
            guard let t = c.constant(0) else { return .error }
            return .constant(.vector(t.data))
        case "hstack", "vstack": return stack(c)
        default: return c.fail(.undefinedFunction, "no function named '\(c.name)'")
        }
    }

    /// An op of the op table: its operands, then its attributes by position or name
    /// (`leaky_relu(x, 0.2)`, `hardtanh(x, min: 0, max: 6)`), each a compile-time scalar.
    private static func elementwiseOp(_ kind: ElementwiseKind, _ c: BuiltinCall) -> Value {
        let entry = kind.entry
        guard c.expect(entry.arity...(entry.arity + entry.attributes.count), labels: Set(entry.attributes.map(\.name))) else { return .error }
        var values: [Double] = []
        for (k, attribute) in entry.attributes.enumerated() {
            let position = entry.arity + k
            if position < c.positional.count {
                if let dup = c.named[attribute.name] { return c.fail(.badArguments, "argument '\(attribute.name)' of '\(c.name)' is given twice", at: dup.range) }
                guard let v = c.scalar(position) else { return .error }
                values.append(v)
            } else {
                guard let v = c.namedScalar(attribute.name, default: attribute.defaultValue) else { return .error }
                if c.named[attribute.name] == nil { c.elaborator.recordDecimal(v) }
                values.append(v)
            }
        }
        guard values.allSatisfy(\.isFinite) else { return c.fail(.invalidValue, "the attributes of '\(c.name)' must be finite") }
        let op = ElementwiseOp(kind, attributes: values)
        if let why = entry.check?(op.attributes) { return c.fail(.invalidValue, why) }
        if entry.arity == 1 { return c.elaborator.elementwiseUnary(op, c.positional[0].value, range: c.range) }
        return c.elaborator.elementwiseBinary(op, c.positional[0].value, c.positional[1].value, range: c.range)
    }

    /// `abs(x) = relu(x) + relu(-x)` at run time.
    private static func abs(_ c: BuiltinCall) -> Value {
        guard c.expect(1...1) else { return .error }
        switch c.positional[0].value {
        case .constant(let t):
            let out = t.map(Swift.abs)
            c.elaborator.recordExact(out.data, [t.data]) { ExactExpr.applying(.abs, $0[0]) }
            return .constant(out)
        case .runtime, .matrix:
            let (id, shape) = c.positional[0].value.runtimeShape!
            let b = c.elaborator.builder
            let n = b.size(id)
            let pos = b.add(.unary(.relu, id), size: n, range: c.range)
            let neg = b.add(.unary(.relu, b.scale(id, by: [-1], range: c.range)), size: n, range: c.range)
            return .runtime(b.add(.add(pos, neg), size: n, range: c.range), shape: shape)
        case .string, .function, .error: return .error
        }
    }

    /// `repeat(x, n)`: each element n times (`[a, b]` → `[a, a, b, b]`); `tile(x, n)`: the vector
    /// n times (`[a, b, a, b]`); `group_sum(x, n)`: the sum of each run of n elements. On a
    /// runtime vector each is one sparse affine map, built without a dense matrix (the outer
    /// products of a selective scan's state use them at widths where a dense `kron` would not fit).
    private static func regroup(_ c: BuiltinCall) -> Value {
        guard c.expect(2...2), let n = c.size(1) else { return .error }
        guard n >= 1 else { return c.fail(.invalidValue, "'\(c.name)' needs a count of at least 1", at: c.positional[1].range) }
        let value = c.positional[0].value
        guard let shape = value.shape, shape.count == 1 else {
            return c.fail(.shapeMismatch, "'\(c.name)' takes a vector, found \(value.shapeDescription)", at: c.positional[0].range)
        }
        let m = shape[0]
        if c.name == "group_sum", m % n != 0 {
            return c.fail(.shapeMismatch, "group_sum of \(m) elements in runs of \(n): \(m) is not a multiple of \(n)", at: c.positional[1].range)
        }
        let (rows, overflow) = m.multipliedReportingOverflow(by: n)
        let outSize = c.name == "group_sum" ? m / n : rows
        guard !overflow, outSize <= c.elaborator.limits.vectorWidth else {
            return c.limitFail(.vectorWidth, "'\(c.name)' of \(m) elements \(n) times exceeds the limit of \(c.elaborator.limits.vectorWidth) elements")
        }
        guard c.elaborator.spend(max(m, outSize), at: c.range) else { return .error }
        // Output element r reads input column source(r) (group_sum: row r reads n columns).
        let columns: [Int]
        switch c.name {
        case "repeat": columns = (0..<outSize).map { $0 / n }
        case "tile": columns = (0..<outSize).map { $0 % m }
        default: columns = Array(0..<m)
        }
        let offsets = c.name == "group_sum" ? (0...outSize).map { $0 * n } : Array(0...outSize)
        switch value {
        case .constant(let t):
            let out = (0..<outSize).map { r in (offsets[r]..<offsets[r + 1]).reduce(0.0) { $0 + t.data[columns[$1]] } }
            for r in 0..<outSize {
                c.elaborator.recordExact(out[r], (offsets[r]..<offsets[r + 1]).map { t.data[columns[$0]] }) { $0.reduce(.rational(.zero), ExactExpr.sum) }
            }
            return .constant(.vector(out))
        case .runtime(let id, _):
            let w = WeightMatrix(rows: outSize, cols: m, storage: .sparse(rowOffsets: offsets, columns: columns, values: [Double](repeating: 1, count: columns.count)))
            return .runtime(c.elaborator.builder.affine(w, id, range: c.range), size: outSize)
        case .matrix, .string, .function, .error: return .error
        }
    }

    private static func sum(_ c: BuiltinCall) -> Value {
        guard c.expect(1...1) else { return .error }
        switch c.positional[0].value {
        case .constant(let t):
            let total = t.data.reduce(0, +)
            c.elaborator.recordExact(total, t.data) { $0.reduce(.rational(.zero), ExactExpr.sum) }
            return .constant(.scalar(total))
        case .runtime, .matrix:
            let (id, shape) = c.positional[0].value.runtimeShape!
            let n = shape.reduce(1, *)
            let row = WeightMatrix(rows: 1, cols: n, storage: .dense([Double](repeating: 1, count: n)))
            return .runtime(c.elaborator.builder.affine(row, id, range: c.range), size: 1)
        case .string, .function, .error: return .error
        }
    }

    private static func size(_ c: BuiltinCall) -> Value {
        guard c.expect(1...2), let shape = c.positional[0].value.shape else { return .error }
        var axis = 0
        if c.positional.count == 2 {
            guard let a = c.size(1) else { return .error }
            axis = a
        }
        guard axis < shape.count else {
            return c.fail(.indexOutOfRange, "axis \(axis) is out of range for a value of shape \(c.positional[0].value.shapeDescription)")
        }
        return .constant(.scalar(Double(shape[axis])))
    }

    /// Seeded pseudo-random constants: `normal(rows, cols, seed: 1, mean: 0, std: 1)`,
    /// `uniform(n, seed: 1, low: 0, high: 1)`. The generator (SplitMix64, Box-Muller) is
    /// rnnc's own: the same seed gives the same values on every platform and version.
    private static func random(_ c: BuiltinCall) -> Value {
        let labels: Set<String> = c.name == "normal" ? ["seed", "mean", "std"] : ["seed", "low", "high"]
        guard c.expect(1...2, labels: labels), let shape = c.shape(), let seed = c.namedInteger("seed", default: 0) else { return .error }
        var rng = SplitMix64(seed: UInt64(bitPattern: Int64(seed)))
        let n = shape.reduce(1, *)
        var data = [Double](repeating: 0, count: n)
        if c.name == "normal" {
            guard let mean = c.namedScalar("mean", default: 0), let std = c.namedScalar("std", default: 1) else { return .error }
            for i in 0..<n { data[i] = mean + std * rng.nextGaussian() }
        } else {
            guard let low = c.namedScalar("low", default: 0), let high = c.namedScalar("high", default: 1) else { return .error }
            for i in 0..<n { data[i] = low + (high - low) * rng.nextUnit() }
        }
        return .constant(Tensor(shape: shape, data: data))
    }

    /// The Kronecker product of two matrices (vectors count as columns).
    private static func kron(_ c: BuiltinCall) -> Value {
        guard c.expect(2...2), let a = c.constant(0), let b = c.constant(1) else { return .error }
        let (ar, ac) = a.rank == 2 ? (a.rows, a.cols) : (a.data.count, 1)
        let (br, bc) = b.rank == 2 ? (b.rows, b.cols) : (b.data.count, 1)
        let (rows, cols) = ([ar, br].saturatingProduct, [ac, bc].saturatingProduct)
        guard [rows, cols].saturatingProduct <= c.elaborator.limits.tensorElements else {
            return c.limitFail(.tensorElements, "kron result of \(rows)x\(cols) exceeds the limit of \(c.elaborator.limits.tensorElements) elements")
        }
        guard c.elaborator.spend(rows * cols, at: c.range) else {
            return .error
        }
        var data = [Double](repeating: 0, count: rows * cols)
        for i in 0..<ar { for j in 0..<ac where a.data[i * ac + j] != 0 {
            for k in 0..<br { for l in 0..<bc {
                let product = a.data[i * ac + j] * b.data[k * bc + l]
                data[(i * br + k) * cols + j * bc + l] = product
                c.elaborator.recordExact(product, [a.data[i * ac + j], b.data[k * bc + l]]) { ExactExpr.product($0[0], $0[1]) }
            } }
        } }
        return .constant(.matrix(rows: rows, cols: cols, data))
    }

    /// `hstack(A, B, ...)` joins matrices side by side; `vstack` stacks rows. Vectors count
    /// as one row for vstack and as one column for hstack.
    private static func stack(_ c: BuiltinCall) -> Value {
        guard c.expect(1...1024) else { return .error }
        var parts: [Tensor] = []
        for i in c.positional.indices {
            guard let t = c.constant(i) else { return .error }
            guard !t.isScalar else { return c.fail(.shapeMismatch, "'\(c.name)' takes vectors and matrices, found a scalar", at: c.positional[i].range) }
            if t.rank == 2 { parts.append(t) }
            else if c.name == "vstack" { parts.append(.matrix(rows: 1, cols: t.data.count, t.data)) }
            else { parts.append(.matrix(rows: t.data.count, cols: 1, t.data)) }
        }
        if c.name == "vstack" {
            let cols = parts[0].cols
            guard parts.allSatisfy({ $0.cols == cols }) else { return c.fail(.shapeMismatch, "vstack needs equal column counts, found \(parts.map(\.shapeDescription).joined(separator: ", "))") }
            return .constant(.matrix(rows: parts.reduce(0) { $0 + $1.rows }, cols: cols, parts.flatMap(\.data)))
        }
        let rows = parts[0].rows
        guard parts.allSatisfy({ $0.rows == rows }) else { return c.fail(.shapeMismatch, "hstack needs equal row counts, found \(parts.map(\.shapeDescription).joined(separator: ", "))") }
        var data: [Double] = []
        for r in 0..<rows { for p in parts { data += p.row(r) } }
        return .constant(.matrix(rows: rows, cols: parts.reduce(0) { $0 + $1.cols }, data))
    }
}
