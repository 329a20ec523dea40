extension Elaborator {
    /// The function a call's name means: a value that is a function (a parameter bound to
    /// one, `f(x)` in `fn apply(f, x)`), else the function of that name.
    func resolveCallee(_ callee: Identifier, in scope: Scope) -> String {
        if case .value(.function(let name), _)? = scope.lookup(callee.name) { return name }
        return callee.name
    }

    /// For a function that does not exist: the stdlib module that defines it, or the
    /// closest name that does exist.
    func missingFunctionHint(_ name: String) -> String {
        if let module = Suggestions.stdlibModule(defining: name, stdlib: modules.stdlib) {
            return "; the standard library's module \(module) defines it: add 'use \(module)'"
        }
        return Suggestions.didYouMean(name, among: Set(modules.functions.keys).union(Builtins.names))
    }

    /// A call: a user function (inlined here) or a builtin.
    func call(_ callee: Identifier, _ args: [CallArgument], range: SourceRange, in scope: Scope) -> Value {
        let name = resolveCallee(callee, in: scope)
        if let symbols = options.symbols {
            if let decl = modules.functions[name] {
                symbols.record(callee.name, at: callee.range, definition: decl.name.range, kind: .function, detail: SymbolIndex.signature(decl))
            } else if Builtins.names.contains(name) {
                symbols.record(callee.name, at: callee.range, definition: nil, kind: .function, detail: "builtin function \(name)")
            }
        }
        if name == Builtins.compileError && modules.functions[name] == nil { return compileError(args, range: range, in: scope) }
        if let decl = modules.functions[name] {
            guard decl.moreResults.isEmpty else {
                let names = (0...decl.moreResults.count).map { "v\($0 + 1)" }.joined(separator: ", ")
                error(.valueCount, "'\(name)' returns \(decl.moreResults.count + 1) values; bind them with '\(names) = \(callee.name)(...)'", at: range)
                return .error
            }
            return inline(decl, args, range: range, in: scope)[0]
        }
        if case .value(.error, _)? = scope.lookup(name) { return .error }  // a parameter that is not known
        guard Builtins.names.contains(name) else {
            let hint = scope.lookup(name) != nil ? " ('\(name)' is a value, not a function)" : missingFunctionHint(name)
            error(.undefinedFunction, "no function named '\(name)'\(hint)", at: callee.range)
            return .error
        }
        var positional: [(Value, SourceRange)] = []
        var named: [String: (Value, SourceRange)] = [:]
        for arg in args {
            let v = eval(arg.value, in: scope)
            if let label = arg.label {
                if named[label.name] != nil {
                    error(.badArguments, "argument '\(label.name)' is given twice", at: label.range)
                    return .error
                }
                named[label.name] = (v, arg.value.range)
            } else {
                positional.append((v, arg.value.range))
            }
        }
        var ctx = BuiltinCall(name: name, positional: positional, named: named, range: range, elaborator: self)
        return Builtins.call(&ctx)
    }

    /// `compile_error("...", value, ...)`: the program's own error (E0311), its message the
    /// arguments' text run together, reported at the call with the calls that led to it. For the
    /// branch of a compile-time if that a program does not support.
    private func compileError(_ args: [CallArgument], range: SourceRange, in scope: Scope) -> Value {
        var parts: [String] = []
        for arg in args {
            switch evalAny(arg.value, in: scope) {
            case .string(let text): parts.append(text)
            case .constant(let t) where t.isScalar: parts.append(formatNumber(t.scalar))
            case .constant(let t): parts.append(t.shapeDescription)
            case .runtime(_, let n): parts.append("a runtime value of width \(n)")
            case .matrix(_, let m, let n): parts.append("a runtime \(m) x \(n) matrix")
            case .function(let f): parts.append(f)
            case .error: return .error
            }
        }
        error(.compileError, parts.isEmpty ? "compile_error() was called" : parts.joined(), at: range)
        return .error
    }

    // MARK: Inlining

    /// `names = f(...)` for a function that returns as many values as there are names.
    func destructure(_ names: [Identifier], _ expr: Expr, in scope: Scope) -> [Value] {
        let failed = [Value](repeating: .error, count: names.count)
        guard case .call(let callee, let args) = expr.kind, let decl = modules.functions[resolveCallee(callee, in: scope)] else {
            error(.valueCount, "only a call of a function that returns \(names.count) values ('return a, b') binds \(names.count) names", at: expr.range)
            return failed
        }
        guard decl.moreResults.count + 1 == names.count else {
            error(.valueCount, "'\(decl.name.name)' returns \(decl.moreResults.count + 1) value\(decl.moreResults.isEmpty ? "" : "s"), not \(names.count)", at: expr.range)
            return failed
        }
        return inline(decl, args, range: expr.range, in: scope)
    }

    /// Inlines a call; returns every value the function returns (errors on failure).
    private func inline(_ decl: FunctionDecl, _ args: [CallArgument], range: SourceRange, in caller: Scope) -> [Value] {
        let failed = [Value](repeating: .error, count: decl.moreResults.count + 1)
        if callStack.contains(where: { $0.name == decl.name.name }) {
            error(.recursiveCall, "function '\(decl.name.name)' calls itself (\(callStack.map(\.name).joined(separator: " -> ")) -> \(decl.name.name)); functions are inlined, so recursion is not allowed", at: range)
            return failed
        }
        guard callStack.count < CompilerLimits.maxInlineDepth else {
            error(.tooLarge, "calls nested more than \(CompilerLimits.maxInlineDepth) deep", at: range)
            return failed
        }
        let scope = Scope(symbols: options.symbols)
        // Arguments first, then the dimensions their annotations name, then defaults (which
        // may use both), then the annotations of defaulted parameters.
        guard let defaulted = bindArguments(decl, args, range: range, caller: caller, callee: scope),
              checkAnnotations(decl, in: scope) else { return failed }
        for p in defaulted { scope.define(p.name.name, .value(evalAny(p.defaultValue!, in: scope), p.name.range)) }
        guard defaulted.isEmpty || checkAnnotations(decl, in: scope) else { return failed }

        inlined.insert(decl.name.name)
        let base = (callStack.last.map { $0.instance + "." } ?? "") + decl.name.name
        instanceCounters[base, default: 0] += 1
        callStack.append((decl.name.name, "\(base)#\(instanceCounters[base]!)", range))
        defer { callStack.removeLast() }

        let firstState = states.count
        for statement in decl.body {
            if builder.overLimit { return failed }
            execute(statement, in: scope)
        }
        let results = decl.result.map { [$0] + decl.moreResults }?.map { evalAny($0, in: scope) } ?? failed
        checkAllUpdated(from: firstState, declaredIn: decl.name.name)
        warnUnused(in: scope)
        recordCell(decl, scope: scope, states: Array(firstState..<states.count), result: results[0])
        return results
    }

    /// Notes a call of a stdlib cell with a runtime input and compile-time weights.
    private func recordCell(_ decl: FunctionDecl, scope: Scope, states: [Int], result: Value) {
        guard let module = modules.stdlibModule(of: decl.range), let kind = CellCall.kind(module: module, function: decl.name.name),
              case .runtime(let output, _) = result, case .value(.runtime(let input, _), _)? = scope.lookup("x") else { return }
        var weights: [Tensor] = []
        for name in ["W_ih", "W_hh", "b_ih", "b_hh"] {
            guard case .value(.constant(let t), _)? = scope.lookup(name) else { return }
            weights.append(t)
        }
        cells.append(CellCall(kind: kind, input: input, output: output, states: states, weights: weights))
    }

    /// Binds positional, then named arguments; returns the parameters left to their defaults
    /// (nil after reporting an error).
    private func bindArguments(_ decl: FunctionDecl, _ args: [CallArgument], range: SourceRange, caller: Scope, callee: Scope) -> [FunctionParam]? {
        var bound: [String: Value] = [:]
        var sawLabel = false
        var ok = true
        for (i, arg) in args.enumerated() {
            let value = evalAny(arg.value, in: caller)
            if let label = arg.label {
                sawLabel = true
                guard decl.params.contains(where: { $0.name.name == label.name }) else {
                    error(.badArguments, "'\(decl.name.name)' has no parameter named '\(label.name)' (parameters: \(decl.params.map(\.name.name).joined(separator: ", ")))", at: label.range)
                    ok = false
                    continue
                }
                guard bound[label.name] == nil else {
                    error(.badArguments, "parameter '\(label.name)' of '\(decl.name.name)' is given twice", at: label.range)
                    ok = false
                    continue
                }
                bound[label.name] = value
            } else {
                guard !sawLabel else {
                    error(.badArguments, "positional arguments must come before named ones", at: arg.value.range)
                    ok = false
                    continue
                }
                guard i < decl.params.count else {
                    error(.badArguments, "'\(decl.name.name)' takes \(decl.params.count) arguments, but \(args.count) were given", at: arg.value.range)
                    return nil
                }
                bound[decl.params[i].name.name] = value
            }
        }
        guard ok else { return nil }
        var defaulted: [FunctionParam] = []
        for p in decl.params {
            if let v = bound[p.name.name] {
                callee.define(p.name.name, .value(v, p.name.range))
            } else if p.defaultValue != nil {
                defaulted.append(p)
            } else {
                error(.badArguments, "missing argument '\(p.name.name)' in call to '\(decl.name.name)'", at: range)
                ok = false
            }
        }
        return ok ? defaulted : nil
    }

    /// Checks `x: [n]`, `W: [3*d, n]` annotations. An annotation may name dimensions not yet
    /// defined; each is inferred from the argument's shape (solving linear expressions in
    /// one unknown) and becomes a compile-time value in the body.
    private func checkAnnotations(_ decl: FunctionDecl, in scope: Scope) -> Bool {
        var pending: [(dim: Expr, actual: Int, param: FunctionParam)] = []
        for p in decl.params {
            guard let shape = p.shape, case .value(let v, _)? = scope.lookup(p.name.name) else { continue }
            guard let actual = v.shape else {
                if case .error = v { return false }
                error(.wrongKind, "argument '\(p.name.name)' of '\(decl.name.name)' has a shape annotation, but \(v.kindDescription) has no shape", at: shape.range)
                return false
            }
            guard actual.count == shape.dims.count else {
                error(.annotationMismatch, "argument '\(p.name.name)' of '\(decl.name.name)' should have \(shape.dims.count) dimension(s) (\(decl.name.name) declares it \(shape.range.file.text(shape.range))), but has shape \(v.shapeDescription)", at: shape.range)
                return false
            }
            for (d, n) in zip(shape.dims, actual) { pending.append((d, n, p)) }
        }
        var progress = true
        while progress && !pending.isEmpty {
            progress = false
            for (k, item) in pending.enumerated().reversed() {
                let free = ShapeSolver.freeNames(item.dim, in: scope)
                if free.isEmpty {
                    pending.remove(at: k)
                    progress = true
                    guard let want = ShapeSolver.evaluate(item.dim, in: scope, extra: [:]) else {
                        error(.annotationMismatch, "shape annotations may use numbers, names and + - * / ^", at: item.dim.range)
                        return false
                    }
                    if want != Double(item.actual) {
                        error(.annotationMismatch, "argument '\(item.param.name.name)' of '\(decl.name.name)': dimension '\(item.dim.range.file.text(item.dim.range))' is \(formatNumber(want)), but the argument's is \(item.actual)", at: item.dim.range)
                        return false
                    }
                } else if free.count == 1, let name = free.first {
                    guard let solution = ShapeSolver.solve(item.dim, for: name, equals: item.actual, in: scope) else {
                        error(.annotationMismatch, "cannot infer '\(name)' from dimension \(item.actual) of argument '\(item.param.name.name)'", at: item.dim.range)
                        return false
                    }
                    scope.define(name, .value(.constant(.scalar(Double(solution))), item.dim.range))
                    progress = true
                }
            }
        }
        if let item = pending.first {
            error(.annotationMismatch, "cannot infer the dimensions in this annotation (more than one unknown)", at: item.dim.range)
            return false
        }
        return true
    }
}

import RNNRuntime

/// Arithmetic on shape annotations, with unknown names solved from actual dimensions.
enum ShapeSolver {
    static func freeNames(_ e: Expr, in scope: Scope) -> Set<String> {
        switch e.kind {
        case .name(let n): return scope.lookup(n) == nil && n != "pi" && n != "e" ? [n] : []
        case .unary(_, let x): return freeNames(x, in: scope)
        case .binary(_, let a, let b): return freeNames(a, in: scope).union(freeNames(b, in: scope))
        default: return []
        }
    }

    static func evaluate(_ e: Expr, in scope: Scope, extra: [String: Double]) -> Double? {
        switch e.kind {
        case .number(let v): return v
        case .name(let n):
            if let v = extra[n] { return v }
            if case .value(.constant(let t), _)? = scope.lookup(n), t.isScalar { return t.scalar }
            return nil
        case .unary(let op, let x):
            return evaluate(x, in: scope, extra: extra).map { op == .neg ? -$0 : $0 }
        case .binary(let op, let a, let b):
            guard let x = evaluate(a, in: scope, extra: extra), let y = evaluate(b, in: scope, extra: extra) else { return nil }
            switch op {
            case .add: return x + y
            case .sub: return x - y
            case .mul: return x * y
            case .div: return y == 0 ? nil : x / y
            case .pow: return Foundation.pow(x, y)
            case .matmul: return nil
            }
        default: return nil
        }
    }

    /// Solves `e(name) == target` for a non-negative integer, assuming `e` is linear in `name`.
    static func solve(_ e: Expr, for name: String, equals target: Int, in scope: Scope) -> Int? {
        guard let f0 = evaluate(e, in: scope, extra: [name: 0]), let f1 = evaluate(e, in: scope, extra: [name: 1]), f1 != f0 else { return nil }
        let x = (Double(target) - f0) / (f1 - f0)
        guard x.isFinite, x >= 0, x == x.rounded(), x < 1e15 else { return nil }
        guard evaluate(e, in: scope, extra: [name: x]) == Double(target) else { return nil }
        return Int(x)
    }
}

import Foundation
