/// What an expression evaluates to during elaboration.
enum Value {
    /// Known at compile time.
    case constant(Tensor)
    /// Computed at run time by an IR node: a vector of `size` elements.
    case runtime(ValueID, size: Int)
    /// Computed at run time: a `rows` x `cols` matrix (a matrix state, an outer product),
    /// whose IR node holds its elements row by row.
    case matrix(ValueID, rows: Int, cols: Int)
    /// A compile-time string (`"direct"`), for model parameters that pick a variant: it
    /// can be bound, passed and compared with `==`, and nothing else.
    case string(String)
    /// A function passed as a value (`apply(relu, x)`): the name of a user function or a
    /// builtin, called wherever the value is.
    case function(String)
    /// An error was already reported; operations on it report nothing more.
    case error

    var shapeDescription: String {
        switch self {
        case .constant(let t): return t.shapeDescription
        case .runtime(_, let n): return "[\(n)] (runtime)"
        case .matrix(_, let m, let n): return "[\(m), \(n)] (runtime)"
        case .string: return "a string"
        case .function(let name): return "the function '\(name)'"
        case .error: return "<error>"
        }
    }

    /// The shape as the annotation checker sees it.
    var shape: [Int]? {
        switch self {
        case .constant(let t): return t.shape
        case .runtime(_, let n): return [n]
        case .matrix(_, let m, let n): return [m, n]
        case .string, .function, .error: return nil
        }
    }
}

/// Names visible in one body. Function bodies start a fresh scope (no parent): functions see
/// only their parameters, their own bindings and other functions. Comprehensions open a
/// child scope holding the loop variable.
final class Scope {
    enum Entry {
        case value(Value, SourceRange?)
        case state(Int, SourceRange)
    }

    let parent: Scope?
    private(set) var entries: [String: Entry] = [:]
    /// For one iteration of a for block: the loop variable's value (names declared in the
    /// iteration get it as a suffix, `conv[3]`); nil for other scopes.
    let iteration: Int?

    /// Where definitions are recorded for editors; a child scope records where its parent does.
    let symbols: SymbolIndex?

    init(parent: Scope? = nil, iteration: Int? = nil, symbols: SymbolIndex? = nil) {
        self.parent = parent
        self.iteration = iteration
        self.symbols = symbols ?? parent?.symbols
    }

    /// `[2][0]`: the indices of the for blocks this scope is inside, outermost first.
    var loopSuffix: String {
        (parent?.loopSuffix ?? "") + (iteration.map { "[\($0)]" } ?? "")
    }

    /// The enclosing scope (this one or a parent) that defines `name` itself, for a for
    /// block's rebinding of a name bound before it.
    func definingScope(of name: String) -> Scope? {
        entries[name] != nil ? self : parent?.definingScope(of: name)
    }

    /// What a name was declared as, for the warnings about unused ones.
    enum Declared { case input, param, binding }

    /// Names looked up here (as defined in this scope).
    private(set) var used: Set<String> = []
    private var declared: [String: (Declared, SourceRange)] = [:]

    /// The entry for `name` here or in a parent, marking it used where it is defined.
    func lookup(_ name: String) -> Entry? {
        if let entry = entries[name] {
            used.insert(name)
            return entry
        }
        return parent?.lookup(name)
    }

    /// Declared names never looked up, in source order (`_name` is never reported).
    var unused: [(name: String, declared: Declared, range: SourceRange)] {
        declared.filter { !used.contains($0.key) && !$0.key.hasPrefix("_") }
            .map { ($0.key, $0.value.0, $0.value.1) }
            .sorted { $0.range.start < $1.range.start }
    }

    /// Records a definition (`at` nil: the entry's own place) or a use of `name` at `at`.
    static func record(_ name: String, _ entry: Entry, at use: SourceRange?, in symbols: SymbolIndex, stateShape: [Int]? = nil) {
        switch entry {
        case .value(let value, let definition):
            guard let place = use ?? definition else { return }
            symbols.record(name, at: place, definition: definition, kind: .value, detail: SymbolIndex.detail(name, value))
        case .state(_, let definition):
            symbols.record(name, at: use ?? definition, definition: definition, kind: .state,
                           detail: "state \(name)" + (stateShape.map { ": " + Tensor.describe($0) } ?? ""))
        }
    }

    /// Every name visible here, for suggestions.
    var visibleNames: Set<String> {
        Set(entries.keys).union(parent?.visibleNames ?? [])
    }

    /// The range of an existing definition in this scope itself, for redefinition errors.
    func localDefinition(_ name: String) -> Entry? { entries[name] }

    func define(_ name: String, _ entry: Entry, declared kind: Declared? = nil) {
        entries[name] = entry
        if let symbols, case .value = entry { Self.record(name, entry, at: nil, in: symbols) }
        if let kind, case .value(_, let range?) = entry { declared[name] = (kind, range) }
    }
}
