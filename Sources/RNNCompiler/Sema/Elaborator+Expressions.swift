import Foundation
import RNNRuntime

extension Elaborator {
    /// An expression whose value must be a number, vector or matrix (constant or runtime):
    /// a string or a function there is an error (E0310).
    func eval(_ expr: Expr, in scope: Scope) -> Value {
        numeric(evalAny(expr, in: scope), at: expr.range)
    }

    /// `value`, or `.error` after reporting that a string or function is not a number.
    func numeric(_ value: Value, at range: SourceRange) -> Value {
        switch value {
        case .string(let text):
            error(.wrongKind, "the string \"\(text)\" is not a number; a string can be bound, passed to a function and compared with '==' or '!='", at: range)
            return .error
        case .function(let name):
            error(.wrongKind, "'\(name)' is a function; call it with arguments, or pass it to a function that calls it", at: range)
            return .error
        default:
            return value
        }
    }

    /// Any value: where strings and functions may appear (bindings, arguments, results,
    /// comparisons, the branches of an if).
    func evalAny(_ expr: Expr, in scope: Scope) -> Value {
        if builder.overLimit || !spend(1, at: expr.range, evaluation: true) { return .error }
        switch expr.kind {
        case .number(let v):
            recordDecimal(v)
            return .constant(.scalar(v))
        case .string(let text):
            return .string(text)
        case .name(let name):
            return lookup(name, range: expr.range, in: scope)
        case .unary(.not, let operand):
            return condition(operand, in: scope).map { .truth(!$0) } ?? .error
        case .unary(let op, let operand):
            let v = eval(operand, in: scope)
            guard op == .neg else { return v }
            switch v {
            case .constant(let t): return .constant(t.map { -$0 })
            case .runtime(let id, _): return .runtime(builder.scale(id, by: [-1], range: expr.range), size: builder.size(id))
            case .matrix(let id, let m, let n): return .matrix(builder.scale(id, by: [-1], range: expr.range), rows: m, cols: n)
            case .string, .function, .error: return .error
            }
        case .binary(let op, let lhs, let rhs):
            return binary(op, eval(lhs, in: scope), eval(rhs, in: scope), range: expr.range, lhsRange: lhs.range, rhsRange: rhs.range)
        case .compare(let op, let lhs, let rhs):
            return compare(op, lhs, rhs, range: expr.range, in: scope)
        case .logical(let op, let lhs, let rhs):
            return logical(op, lhs, rhs, in: scope)
        case .conditional(let c, let then, let otherwise):
            guard let taken = condition(c, in: scope) else { return .error }
            return evalAny(taken ? then : otherwise, in: scope)
        case .call(let callee, let args):
            return call(callee, args, range: expr.range, in: scope)
        case .index(let base, let subs):
            return index(eval(base, in: scope), subs, range: expr.range, in: scope)
        case .list(let items):
            let values = items.map { eval($0, in: scope) }
            return assemble(values, ranges: items.map(\.range), rows: !items.isEmpty && items.allSatisfy(\.isBracketForm), range: expr.range)
        case .comprehension(let variable, let lower, let upper, let body):
            return comprehension(variable, lower, upper, body, range: expr.range, in: scope)
        }
    }

    /// A name's value; a function's name not shadowed by a value is the function itself.
    private func lookup(_ name: String, range: SourceRange, in scope: Scope) -> Value {
        let entry = scope.lookup(name)
        if let symbols = options.symbols {
            if let entry {
                let shape: [Int]? = if case .state(let index, _) = entry { states[index].shape } else { nil }
                Scope.record(name, entry, at: range, in: symbols, stateShape: shape)
            } else if let decl = modules.functions[name] {
                symbols.record(name, at: range, definition: decl.name.range, kind: .function, detail: SymbolIndex.signature(decl))
            }
        }
        switch entry {
        case .value(let v, _)?: return v
        case .state(let index, _)?: return readState(index, range: range)
        case nil: break
        }
        if name == "pi" {
            exact?.record(Double.pi, .pi)
            return .constant(.scalar(Double.pi))
        }
        if name == "e" {
            exact?.record(M_E, .e)
            return .constant(.scalar(M_E))
        }
        if modules.functions[name] != nil || Builtins.names.contains(name) { return .function(name) }
        let hint = Suggestions.didYouMean(name, among: scope.visibleNames.union(["pi", "e"]))
        error(.undefinedName, "'\(name)' is not defined\(hint)", at: range)
        return .error
    }

    // MARK: Compile-time helpers

    /// Evaluates an expression that must be a compile-time integer.
    func constantInteger(_ expr: Expr, in scope: Scope, what: String) -> Int? {
        integer(eval(expr, in: scope), of: expr, what: what)
    }

    /// An evaluated expression as a compile-time integer, or nil after reporting why not.
    func integer(_ value: Value, of expr: Expr, what: String) -> Int? {
        switch value {
        case .constant(let t) where t.isScalar:
            guard let n = exactInteger(t.scalar) else {
                error(.notInteger, "\(what) must be an integer, found \(formatNumber(t.scalar))", at: expr.range)
                return nil
            }
            return n
        case .constant(let t):
            error(.notInteger, "\(what) must be an integer, found a value of shape \(t.shapeDescription)", at: expr.range)
        case .runtime, .matrix:
            error(.notConstant, "\(what) must be known at compile time, but this depends on runtime inputs", at: expr.range)
        case .string, .function:
            _ = numeric(value, at: expr.range)
        case .error: break
        }
        return nil
    }

    func exactInteger(_ x: Double) -> Int? {
        guard x.isFinite, x == x.rounded(), abs(x) < 9e15 else { return nil }
        return Int(x)
    }

    /// A param initializer; `zeros()`, `ones()`, `eye()`, `normal(...)` and `uniform(...)`
    /// without a shape take the declared one.
    func evalInitializer(_ expr: Expr, shape: [Int], in scope: Scope) -> Value {
        if case .call(let callee, let args) = expr.kind, Builtins.shapeFromContext.contains(callee.name),
           modules.functions[callee.name] == nil, args.allSatisfy({ $0.label != nil }) {
            let shapeArgs = shape.map { CallArgument(label: nil, value: Expr(.number(Double($0)), callee.range)) }
            return call(callee, shapeArgs + args, range: expr.range, in: scope)
        }
        return eval(expr, in: scope)
    }

    // MARK: Lists and comprehensions

    /// Concatenates values into one vector, or stacks constant vectors as matrix rows
    /// when every item is written as a bracket form (`[[1, 0], [0, 1]]`).
    func assemble(_ values: [Value], ranges: [SourceRange], rows: Bool, range: SourceRange) -> Value {
        if values.contains(where: { if case .error = $0 { return true } else { return false } }) { return .error }
        let constants = values.compactMap { v -> Tensor? in
            if case .constant(let t) = v { return t }
            return nil
        }
        guard spend(constants.reduce(0) { $0 + $1.data.count }, at: range) else { return .error }
        if rows, constants.count == values.count, constants.allSatisfy({ $0.rank == 1 }) {
            let width = constants[0].data.count
            for (t, r) in zip(constants, ranges) where t.data.count != width {
                error(.raggedLiteral, "matrix rows must have equal length: this row has \(t.data.count) values, the first has \(width)", at: r)
                return .error
            }
            guard [constants.count, width].saturatingProduct <= limits.tensorElements else {
                limitError(.tensorElements, "matrix exceeds the limit of \(limits.tensorElements) elements", at: range)
                return .error
            }
            return .constant(.matrix(rows: constants.count, cols: width, constants.flatMap(\.data)))
        }
        var pieces: [Value] = []
        for (v, r) in zip(values, ranges) {
            if case .constant(let t) = v, t.rank == 2 {
                error(.shapeMismatch, "cannot concatenate a \(t.shapeDescription) matrix into a vector", at: r)
                return .error
            }
            if case .matrix(_, let m, let n) = v {
                error(.shapeMismatch, "cannot concatenate a runtime \(m) x \(n) matrix into a vector; write flatten(...) for its elements row by row", at: r)
                return .error
            }
            pieces.append(v)
        }
        if constants.count == values.count {
            let data = constants.flatMap(\.data)
            guard data.count <= limits.tensorElements else {
                limitError(.tensorElements, "vector exceeds the limit of \(limits.tensorElements) elements", at: range)
                return .error
            }
            return .constant(.vector(data))
        }
        // Mixed: materialize constant runs, concatenate at run time.
        var ids: [ValueID] = []
        var total = 0
        for (v, r) in zip(pieces, ranges) {
            switch v {
            case .runtime(let id, let n): ids.append(id); total += n
            case .constant(let t) where !t.data.isEmpty: ids.append(builder.constant(t.data, range: r, origin: t.rank == 1 ? t.origin : nil)); total += t.data.count
            default: break
            }
        }
        guard total <= limits.vectorWidth else {
            limitError(.vectorWidth, "vector of \(total) elements exceeds the limit of \(limits.vectorWidth)", at: range)
            return .error
        }
        if ids.count == 1 { return .runtime(ids[0], size: total) }
        return .runtime(builder.add(.concat(ids), size: total, range: range), size: total)
    }

    private func comprehension(_ variable: Identifier, _ lower: Expr, _ upper: Expr, _ body: Expr, range: SourceRange, in scope: Scope) -> Value {
        guard let lo = constantInteger(lower, in: scope, what: "the start of a comprehension range"),
              let hi = constantInteger(upper, in: scope, what: "the end of a comprehension range")
        else { return .error }
        guard hi - lo <= limits.iterations else {
            limitError(.iterations, "comprehension of \(hi - lo) iterations exceeds the limit of \(limits.iterations)", at: range)
            return .error
        }
        var values: [Value] = []
        for i in lo..<max(lo, hi) {
            let inner = Scope(parent: scope)
            inner.define(variable.name, .value(.constant(.scalar(Double(i))), variable.range))
            let v = eval(body, in: inner)
            if case .error = v { return .error }
            values.append(v)
            if builder.overLimit { return .error }
        }
        return assemble(values, ranges: values.map { _ in body.range }, rows: body.isBracketForm && !values.isEmpty, range: range)
    }

    // MARK: Indexing

    private func index(_ base: Value, _ subs: [Subscript], range: SourceRange, in scope: Scope) -> Value {
        if case .error = base { return .error }
        let dims: [Int]
        switch base {
        case .constant(let t): dims = t.shape
        case .runtime(_, let n): dims = [n]
        case .matrix(_, let m, let n): dims = [m, n]
        case .string, .function, .error: return .error
        }
        guard subs.count <= dims.count else {
            error(.indexOutOfRange, "\(subs.count) subscripts for a value of shape \(base.shapeDescription)", at: range)
            return .error
        }
        var selections: [(start: Int, count: Int, isRange: Bool)] = []
        for (axis, sub) in subs.enumerated() {
            if axis == 0, case .index(let e) = sub {
                // Evaluated once: the index may call a function that declares a state.
                let i = eval(e, in: scope)
                if case .runtime(let id, _) = i, case .constant(let t) = base, subs.count == 1 { return lookup(t, id, range: range, indexRange: e.range) }
                guard let sel = resolveIndex(integer(i, of: e, what: "an index"), extent: dims[0], at: e.range) else { return .error }
                selections.append(sel)
                continue
            }
            guard let sel = resolve(sub, extent: dims[axis], range: range, in: scope) else { return .error }
            selections.append(sel)
        }
        switch base {
        case .runtime(let id, _):
            let sel = selections[0]
            guard sel.count > 0 else {
                error(.indexOutOfRange, "empty slice of a runtime vector", at: range)
                return .error
            }
            return .runtime(builder.add(.slice(id, start: sel.start), size: sel.count, range: range), size: sel.count)
        case .matrix(let id, let m, let n):
            return indexMatrix(id, rows: m, cols: n, selections, range: range)
        case .constant(let t):
            while selections.count < t.rank { selections.append((0, dims[selections.count], true)) }
            if t.rank == 1 {
                let s = selections[0]
                let part = Array(t.data[s.start..<(s.start + s.count)])
                guard s.isRange else { return .constant(.scalar(part[0])) }
                return .constant(Tensor(shape: [s.count], data: part, origin: t.origin?.block(rows: s.start..<(s.start + s.count), columns: nil)))
            }
            let (r, c) = (selections[0], selections[1])
            var data: [Double] = []
            for i in r.start..<(r.start + r.count) { data += t.data[(i * t.cols + c.start)..<(i * t.cols + c.start + c.count)] }
            switch (r.isRange, c.isRange) {
            case (true, true) where r.count == t.rows && c.count == t.cols: return .constant(t)
            case (true, true):
                // A block of a param keeps its origin (`W[0:4]`, `W[0:4, 2:6]`) for the weights it becomes.
                let origin = t.origin?.block(rows: r.start..<(r.start + r.count), columns: c.start..<(c.start + c.count))
                return .constant(Tensor(shape: [r.count, c.count], data: data, origin: origin))
            case (false, false): return .constant(.scalar(data[0]))
            default: return .constant(.vector(data))
            }
        case .string, .function, .error: return .error
        }
    }

    /// `T[token]`: row `token` of a constant table (a vector's element as a one-element
    /// row), for a token input whose every id the table covers.
    private func lookup(_ table: Tensor, _ index: ValueID, range: SourceRange, indexRange: SourceRange) -> Value {
        guard case .input(let k) = builder.nodes[index.index].op, let vocabulary = tokenInputs[k] else {
            error(.notConstant, "an index known only at run time must be a token input (declared 'input name: 0..<n'); this one is computed", at: indexRange)
            return .error
        }
        let (rows, cols) = table.rank == 2 ? (table.rows, table.cols) : (table.data.count, 1)
        guard rows >= vocabulary else {
            error(.indexOutOfRange, "token ids reach \(vocabulary - 1), but the table has \(rows) rows", at: range)
            return .error
        }
        let w = WeightMatrix(rows: rows, cols: cols, storage: .dense(table.data), name: table.origin?.description)
        return .runtime(builder.gather(w, index, range: range, origin: table.origin), size: cols)
    }

    private func resolveIndex(_ i: Int?, extent: Int, at range: SourceRange) -> (start: Int, count: Int, isRange: Bool)? {
        guard let i else { return nil }
        guard i >= 0, i < extent else {
            error(.indexOutOfRange, "index \(i) is out of range 0..<\(extent)", at: range)
            return nil
        }
        return (i, 1, false)
    }

    private func resolve(_ sub: Subscript, extent: Int, range: SourceRange, in scope: Scope) -> (start: Int, count: Int, isRange: Bool)? {
        switch sub {
        case .index(let e):
            return resolveIndex(constantInteger(e, in: scope, what: "an index"), extent: extent, at: e.range)
        case .range(let lo, let hi):
            let a = lo.map { constantInteger($0, in: scope, what: "a slice bound") } ?? 0
            let b = hi.map { constantInteger($0, in: scope, what: "a slice bound") } ?? extent
            guard let a, let b else { return nil }
            guard a >= 0, b <= extent, a <= b else {
                error(.indexOutOfRange, "slice \(a):\(b) is out of range for extent \(extent)", at: range)
                return nil
            }
            return (a, b - a, true)
        }
    }
}
