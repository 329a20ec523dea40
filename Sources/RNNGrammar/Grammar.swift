/// An EBNF grammar read from text in the ISO 14977 style that grammar/rnn.ebnf uses:
/// `name = body ;`, `"x"` or `'x'` terminals, juxtaposition for sequence, `|` choice,
/// `[ ]` optional, `{ }` repetition, `( )` grouping, `(* *)` comments (nesting), `? text ?` special
/// sequences, and `"a" | ... | "z"` for a range of single characters.
public struct Grammar: Sendable {
    public let rules: [Rule]
    private let indexByName: [String: Int]

    public struct Rule: Sendable {
        public let name: String
        public let body: Expr
        /// 1-based line of the rule's name in the grammar file.
        public let line: Int
    }

    public indirect enum Expr: Sendable, Equatable, CustomStringConvertible {
        case terminal(String)
        /// Any single byte from `lower` through `upper`.
        case range(UInt8, UInt8)
        /// `? text ?`: prose the tools know how to read (see `BytePredicate`).
        case special(String)
        case reference(String)
        case sequence([Expr])
        case choice([Expr])
        case optional(Expr)
        case repetition(Expr)

        public var description: String {
            switch self {
            case .terminal(let t): return t.contains("\"") ? "'\(t)'" : "\"\(t)\""
            case .range(let a, let b): return "\"\(Character(Unicode.Scalar(a)))\" | ... | \"\(Character(Unicode.Scalar(b)))\""
            case .special(let s): return "? \(s) ?"
            case .reference(let r): return r
            case .sequence(let items): return items.map { item in
                if case .choice = item { return "( \(item) )" }
                return item.description
            }.joined(separator: " ")
            case .choice(let alternatives): return alternatives.map(\.description).joined(separator: " | ")
            case .optional(let e): return "[ \(e) ]"
            case .repetition(let e): return "{ \(e) }"
            }
        }
    }

    /// The first rule is the start symbol.
    public var start: Rule { rules[0] }

    public subscript(name: String) -> Rule? { indexByName[name].map { rules[$0] } }

    /// Reads grammar text; every referenced rule must be defined, and no rule twice.
    public init(text: String, path: String = "grammar") throws(GrammarError) {
        var parser = GrammarParser(bytes: Array(text.utf8), path: path)
        let rules = try parser.parseRules()
        var index: [String: Int] = [:]
        for (k, rule) in rules.enumerated() {
            if index[rule.name] != nil { throw GrammarError(path: path, line: rule.line, column: 1, message: "rule '\(rule.name)' is defined twice") }
            index[rule.name] = k
        }
        for rule in rules {
            for name in rule.body.references where index[name] == nil {
                throw GrammarError(path: path, line: rule.line, column: 1, message: "rule '\(rule.name)' uses '\(name)', which is not defined")
            }
        }
        guard !rules.isEmpty else { throw GrammarError(path: path, line: 1, column: 1, message: "the grammar has no rules") }
        self.rules = rules
        self.indexByName = index
    }
}

extension Grammar.Expr {
    /// Rule names this expression refers to directly.
    public var references: [String] {
        switch self {
        case .terminal, .range, .special: return []
        case .reference(let r): return [r]
        case .sequence(let items), .choice(let items): return items.flatMap(\.references)
        case .optional(let e), .repetition(let e): return e.references
        }
    }

    /// Terminals this expression holds directly (not through references).
    public var terminals: [String] {
        switch self {
        case .terminal(let t): return [t]
        case .range, .special, .reference: return []
        case .sequence(let items), .choice(let items): return items.flatMap(\.terminals)
        case .optional(let e), .repetition(let e): return e.terminals
        }
    }

    /// The alternatives of a top-level choice, or the expression itself.
    public var alternatives: [Grammar.Expr] {
        if case .choice(let alternatives) = self { return alternatives }
        return [self]
    }
}

public struct GrammarError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let line: Int
    public let column: Int
    public let message: String
    public var description: String { "\(path):\(line):\(column): error: \(message)" }
}

/// Recursive descent over the grammar text.
private struct GrammarParser {
    let bytes: [UInt8]
    let path: String
    var pos = 0

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    enum Token: Equatable {
        case name(String), terminal(String), special(String), symbol(String), end
    }

    mutating func parseRules() throws(GrammarError) -> [Grammar.Rule] {
        var rules: [Grammar.Rule] = []
        while true {
            let (token, line) = try peekToken()
            if token == .end { return rules }
            guard case .name(let name) = token else { throw error("expected a rule name, found \(token)") }
            _ = try nextToken()
            try expect("=")
            let body = try parseChoice()
            try expect(";")
            rules.append(Grammar.Rule(name: name, body: body, line: line))
        }
    }

    private mutating func parseChoice() throws(GrammarError) -> Grammar.Expr {
        var alternatives: [Grammar.Expr?] = []  // nil marks "..."
        repeat {
            if try peekToken().0 == .symbol("...") {
                _ = try nextToken()
                alternatives.append(nil)
            } else {
                alternatives.append(try parseSequence())
            }
        } while try accept("|")
        var result: [Grammar.Expr] = []
        var k = 0
        while k < alternatives.count {
            if k + 1 < alternatives.count, alternatives[k + 1] == nil {
                guard k + 2 < alternatives.count, case .terminal(let a)? = alternatives[k], case .terminal(let b)? = alternatives[k + 2],
                      a.utf8.count == 1, b.utf8.count == 1 else {
                    throw error("'...' must stand between two one-character terminals")
                }
                result.append(.range(a.utf8.first!, b.utf8.first!))
                k += 3
            } else {
                guard let alternative = alternatives[k] else { throw error("'...' must stand between two one-character terminals") }
                result.append(alternative)
                k += 1
            }
        }
        return result.count == 1 ? result[0] : .choice(result)
    }

    private mutating func parseSequence() throws(GrammarError) -> Grammar.Expr {
        var items: [Grammar.Expr] = []
        while true {
            let token = try peekToken().0
            switch token {
            case .name(let n): _ = try nextToken(); items.append(.reference(n))
            case .terminal(let t): _ = try nextToken(); items.append(.terminal(t))
            case .special(let s): _ = try nextToken(); items.append(.special(s))
            case .symbol("["): _ = try nextToken(); items.append(.optional(try parseChoice())); try expect("]")
            case .symbol("{"): _ = try nextToken(); items.append(.repetition(try parseChoice())); try expect("}")
            case .symbol("("): _ = try nextToken(); items.append(try parseChoice()); try expect(")")
            default:
                guard !items.isEmpty else { throw error("expected a term, found \(token)") }
                return items.count == 1 ? items[0] : .sequence(items)
            }
        }
    }

    private mutating func expect(_ symbol: String) throws(GrammarError) {
        guard try accept(symbol) else { throw error("expected '\(symbol)', found \(try peekToken().0)") }
    }

    private mutating func accept(_ symbol: String) throws(GrammarError) -> Bool {
        guard try peekToken().0 == .symbol(symbol) else { return false }
        _ = try nextToken()
        return true
    }

    private mutating func peekToken() throws(GrammarError) -> (Token, Int) {
        let saved = pos
        defer { pos = saved }
        return try nextToken()
    }

    private mutating func nextToken() throws(GrammarError) -> (Token, Int) {
        try skipTrivia()
        let line = lineNumber(pos)
        guard pos < bytes.count else { return (.end, line) }
        let c = bytes[pos]
        if isNameByte(c) {
            let start = pos
            while pos < bytes.count, isNameByte(bytes[pos]) { pos += 1 }
            return (.name(text(start, pos)), line)
        }
        if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") || c == UInt8(ascii: "?") {
            let start = pos + 1
            pos += 1
            while pos < bytes.count, bytes[pos] != c, bytes[pos] != UInt8(ascii: "\n") { pos += 1 }
            guard pos < bytes.count, bytes[pos] == c else { throw error("unterminated \(c == UInt8(ascii: "?") ? "special sequence" : "terminal")") }
            pos += 1
            let body = text(start, pos - 1)
            if c == UInt8(ascii: "?") { return (.special(body.trimmingSpaces), line) }
            guard !body.isEmpty else { throw error("empty terminal") }
            return (.terminal(body), line)
        }
        if bytes[pos...].starts(with: "...".utf8) { pos += 3; return (.symbol("..."), line) }
        if "=;|[]{}()".utf8.contains(c) { pos += 1; return (.symbol(String(UnicodeScalar(c))), line) }
        throw error("unexpected character '\(String(UnicodeScalar(c)))'")
    }

    private mutating func skipTrivia() throws(GrammarError) {
        while pos < bytes.count {
            if bytes[pos] == UInt8(ascii: " ") || bytes[pos] == UInt8(ascii: "\n") || bytes[pos] == UInt8(ascii: "\t") || bytes[pos] == UInt8(ascii: "\r") {
                pos += 1
            } else if bytes[pos...].starts(with: "(*".utf8) {
                // Comments nest, as in ISO 14977: (* a (* b *) c *).
                let start = pos
                var depth = 0
                repeat {
                    if bytes[pos...].starts(with: "(*".utf8) { depth += 1; pos += 2 }
                    else if bytes[pos...].starts(with: "*)".utf8) { depth -= 1; pos += 2 }
                    else { pos += 1 }
                } while depth > 0 && pos < bytes.count
                guard depth == 0 else { pos = start; throw error("unterminated comment") }
            } else {
                return
            }
        }
    }

    private func isNameByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
    }

    private func text(_ a: Int, _ b: Int) -> String { String(decoding: bytes[a..<b], as: UTF8.self) }

    private func lineNumber(_ offset: Int) -> Int { bytes[..<min(offset, bytes.count)].reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) } }

    private func error(_ message: String) -> GrammarError {
        let line = lineNumber(pos)
        let lineStart = bytes[..<min(pos, bytes.count)].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        return GrammarError(path: path, line: line, column: pos - lineStart + 1, message: message)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
