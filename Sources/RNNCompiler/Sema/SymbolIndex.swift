import RNNRuntime

/// What the elaborator learns about the names of a program, by place, for editors (`rnnc
/// lsp`): for every definition and every use of a name, its definition's place and what it
/// is (a runtime vector's width, a compile-time value, a state, a function). A function
/// inlined at several calls records what each call made of it (the first few).
package final class SymbolIndex {
    package enum Kind: Sendable { case value, state, function }

    package struct Symbol: Sendable {
        /// Where the name is written.
        package var range: SourceRange
        /// Where it is defined (nil for builtins and constants such as `pi`).
        package var definition: SourceRange?
        package var name: String
        package var kind: Kind
        /// What it is, one line per distinct meaning: `h: [4] (runtime)`.
        package var details: [String]
    }

    /// Most distinct meanings kept for one place (a function body inlined at many calls).
    static let maxDetails = 3

    private var byPlace: [Place: Symbol] = [:]
    /// Every function of the loaded files (the stdlib's included), for completion.
    package private(set) var functions: [FunctionDecl] = []

    package init() {}

    private struct Place: Hashable {
        let path: String
        let start: Int
        let end: Int
        init(_ range: SourceRange) { (path, start, end) = (range.file.path, range.start, range.end) }
    }

    package var symbols: [Symbol] { Array(byPlace.values) }

    func record(_ name: String, at range: SourceRange, definition: SourceRange?, kind: Kind, detail: String) {
        let place = Place(range)
        if var symbol = byPlace[place] {
            if !symbol.details.contains(detail) && symbol.details.count < Self.maxDetails { symbol.details.append(detail) }
            byPlace[place] = symbol
        } else {
            byPlace[place] = Symbol(range: range, definition: definition, name: name, kind: kind, details: [detail])
        }
    }

    func record(functions: [String: FunctionDecl]) {
        self.functions = functions.values.sorted { $0.name.name < $1.name.name }
    }

    /// A scope entry as a hover line: `n = 3 (compile-time)`, `h: [4] (runtime)`, `state c: [4]`.
    static func detail(_ name: String, _ value: Value) -> String {
        switch value {
        case .constant(let t) where t.isScalar: return "\(name) = \(formatNumber(t.scalar)) (compile-time)"
        case .constant(let t): return "\(name): \(t.shapeDescription) (compile-time)"
        case .runtime(_, let n): return "\(name): [\(n)] (runtime)"
        case .matrix(_, let m, let n): return "\(name): [\(m), \(n)] (runtime)"
        case .string(let s): return "\(name) = \"\(s)\" (compile-time string)"
        case .function(let f): return "\(name) = the function \(f)"
        case .error: return "\(name): (has errors)"
        }
    }

    /// `fn name(a, b, scale = 1000)`, as a function is declared.
    package static func signature(_ decl: FunctionDecl) -> String {
        let params = decl.params.map { p in
            p.name.name + (p.defaultValue.map { " = " + Formatter.expr($0, $0.range.file) } ?? "")
        }
        return "fn \(decl.name.name)(\(params.joined(separator: ", ")))"
    }

    /// The innermost symbol written at byte `offset` of the file at `path`.
    package func symbol(at offset: Int, in path: String) -> Symbol? {
        byPlace.values.filter { $0.range.file.path == path && $0.range.start <= offset && offset <= $0.range.end }
            .min { $0.range.end - $0.range.start < $1.range.end - $1.range.start }
    }
}
