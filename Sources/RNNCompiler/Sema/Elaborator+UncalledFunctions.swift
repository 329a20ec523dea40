/// Functions of the user's files that no call reached are still checked: every name and
/// every function they use must exist (E0201, E0202, with the same suggestions as for called
/// ones), and then the body is elaborated generically, each parameter without a default an
/// unknown value (whose operations report nothing), so that what does not depend on the
/// arguments (shapes of constants, calls, literals) is checked as in a call; what the
/// elaboration adds to the program is dropped after. A function of the root file that
/// nothing calls is W0204.
extension Elaborator {
    func checkUncalledFunctions() {
        let uncalled = modules.functions.values.filter { !inlined.contains($0.name.name) && modules.stdlibModule(of: $0.range) == nil }
        for decl in uncalled.sorted(by: { ($0.range.file.path, $0.range.start) < ($1.range.file.path, $1.range.start) }) {
            let errorsBefore = diagnostics.errorCount
            var names = Set(decl.params.map(\.name.name)).union(["pi", "e"])
            for p in decl.params { names.formUnion(p.shape.map { $0.dims.flatMap(Self.namesUsed) } ?? []) }
            for p in decl.params { if let d = p.defaultValue { checkNames(d, defined: names) } }
            checkNames(decl.body, defined: &names)
            for e in decl.result.map({ [$0] + decl.moreResults }) ?? [] { checkNames(e, defined: names) }
            if diagnostics.errorCount == errorsBefore { elaborateGenerically(decl) }
            if decl.range.file.path == modules.root.file.path, !decl.name.name.hasPrefix("_") {
                warning(.unusedFunction, "function '\(decl.name.name)' is never called (name it '_\(decl.name.name)' to keep it)", at: decl.name.range)
            }
        }
    }

    /// The instance name of a function checked without a call (its notes say so).
    static let uncalledInstance = "#uncalled"

    /// Runs `decl`'s body with unknown arguments (defaults evaluated), then takes back the
    /// nodes, states and cells it made.
    private func elaborateGenerically(_ decl: FunctionDecl) {
        let (nodes, stateCount, cellCount, counters) = (builder.nodes.count, states.count, cells.count, instanceCounters)
        defer {
            builder.truncate(to: nodes)
            states.removeSubrange(stateCount...)
            cells.removeSubrange(cellCount...)
            instanceCounters = counters
        }
        let scope = Scope(symbols: options.symbols)
        for p in decl.params {
            for name in p.shape.map({ $0.dims.flatMap(Self.namesUsed) }) ?? [] where scope.localDefinition(name) == nil {
                scope.define(name, .value(.error, p.name.range))
            }
        }
        for p in decl.params { scope.define(p.name.name, .value(p.defaultValue.map { evalAny($0, in: scope) } ?? .error, p.name.range)) }
        callStack.append((decl.name.name, decl.name.name + Self.uncalledInstance, decl.name.range))
        defer { callStack.removeLast() }
        for statement in decl.body {
            if builder.overLimit { return }
            execute(statement, in: scope)
        }
        for e in decl.result.map({ [$0] + decl.moreResults }) ?? [] { _ = evalAny(e, in: scope) }
    }

    /// Checks statements in order; the names they bind join `defined` (an if's branches
    /// both count, as either may be the one a call takes).
    private func checkNames(_ body: [Statement], defined: inout Set<String>) {
        for statement in body {
            switch statement.kind {
            case .binding(let name, let e):
                checkNames(e, defined: defined)
                defined.insert(name.name)
            case .destructure(let names, let e):
                checkNames(e, defined: defined)
                defined.formUnion(names.map(\.name))
            case .state(let name, let shape, let e):
                for d in shape.dims { checkNames(d, defined: defined) }
                checkNames(e, defined: defined)
                defined.insert(name.name)
            case .update(let name, let e):
                checkNames(e, defined: defined)
                if !defined.contains(name.name) { undefined(name.name, at: name.range, defined: defined) }
            case .loop(let variable, let lower, let upper, let inner):
                checkNames(lower, defined: defined)
                checkNames(upper, defined: defined)
                var scope = defined.union([variable.name])
                checkNames(inner, defined: &scope)
                defined.formUnion(scope.subtracting([variable.name]))
            case .conditional(let c, let then, let otherwise, _):
                checkNames(c, defined: defined)
                var (a, b) = (defined, defined)
                checkNames(then, defined: &a)
                checkNames(otherwise, defined: &b)
                defined.formUnion(a.union(b))
            case .output(let e): checkNames(e, defined: defined)
            case .return(let values): for e in values { checkNames(e, defined: defined) }
            case .input, .param: break
            }
        }
    }

    private func checkNames(_ e: Expr, defined: Set<String>) {
        switch e.kind {
        case .number, .string: break
        case .name(let n):
            if !defined.contains(n) && modules.functions[n] == nil && !Builtins.names.contains(n) { undefined(n, at: e.range, defined: defined) }
        case .call(let callee, let args):
            if !defined.contains(callee.name) && modules.functions[callee.name] == nil && !Builtins.names.contains(callee.name) {
                error(.undefinedFunction, "no function named '\(callee.name)'\(missingFunctionHint(callee.name))", at: callee.range)
            }
            for a in args { checkNames(a.value, defined: defined) }
        case .comprehension(let v, let lower, let upper, let body):
            checkNames(lower, defined: defined)
            checkNames(upper, defined: defined)
            checkNames(body, defined: defined.union([v.name]))
        default:
            for child in e.children { checkNames(child, defined: defined) }
        }
    }

    private func undefined(_ name: String, at range: SourceRange, defined: Set<String>) {
        error(.undefinedName, "'\(name)' is not defined" + Suggestions.didYouMean(name, among: defined), at: range)
    }

    /// Names a shape annotation mentions (they are inferred from the arguments).
    static func namesUsed(_ e: Expr) -> [String] {
        if case .name(let n) = e.kind { return [n] }
        return e.children.flatMap(namesUsed)
    }
}
