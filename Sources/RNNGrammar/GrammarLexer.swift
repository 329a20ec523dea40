import Foundation

/// A token of a sentence: `symbol` is the terminal's text for a quoted terminal
/// (`"model"`, `"<-"`) or the name of an UPPERCASE token rule (`IDENT`, `NUMBER`).
public struct GrammarToken: Sendable, Equatable {
    public let symbol: String
    public let text: String
    /// Byte offset of the token in its sentence.
    public let offset: Int

    public init(symbol: String, text: String, offset: Int = 0) {
        self.symbol = symbol
        self.text = text
        self.offset = offset
    }
}

public struct GrammarLexError: Error, Sendable, CustomStringConvertible {
    public let offset: Int
    public let message: String
    public var description: String { "byte \(offset): \(message)" }
}

/// The lexical level of a grammar, built from its rules and the lexical conventions that
/// grammar/rnn.ebnf states in its header: whitespace (space, tab, CR, LF) and `#` line
/// comments separate tokens; tokens are the quoted terminals of the syntax rules and the
/// UPPERCASE rules; the longest match wins; terminals spelled like an `IDENT` are reserved
/// keywords; a `NUMBER` is not followed directly by a `letter` or `digit` and is finite.
public struct GrammarLexer: Sendable {
    public let grammar: Grammar
    /// UPPERCASE rules reachable from the start rule: IDENT, NUMBER, STRING.
    public let tokenRules: [String]
    /// Rules reachable from the start rule without passing through a token rule.
    public let syntaxRules: [String]
    /// Quoted terminals of the syntax rules, longest first.
    public let literals: [String]
    /// The literals that the IDENT rule matches entirely.
    public let keywords: Set<String>

    public init(grammar: Grammar) throws(GrammarError) {
        self.grammar = grammar
        var syntax: [String] = []
        var tokens: [String] = []
        var seen: Set<String> = []
        var work = [grammar.start.name]
        while let name = work.popLast() {
            guard seen.insert(name).inserted else { continue }
            if Self.isTokenRuleName(name) { tokens.append(name); continue }
            syntax.append(name)
            work.append(contentsOf: grammar[name]!.body.references.reversed())
        }
        syntaxRules = grammar.rules.map(\.name).filter { syntax.contains($0) }
        tokenRules = grammar.rules.map(\.name).filter { tokens.contains($0) }
        literals = Array(Set(syntax.flatMap { grammar[$0]!.body.terminals })).sorted { ($0.utf8.count, $0) > ($1.utf8.count, $1) }
        for name in syntaxRules {
            if let bad = Self.firstByteLevelTerm(grammar[name]!.body) {
                let rule = grammar[name]!
                throw GrammarError(path: "grammar", line: rule.line, column: 1, message: "syntax rule '\(name)' uses the character-level term \(bad)")
            }
        }
        for required in ["IDENT", "NUMBER", "letter", "digit"] where grammar[required] == nil {
            throw GrammarError(path: "grammar", line: 1, column: 1, message: "the lexical conventions need a rule named '\(required)'")
        }
        let matcher = ByteMatcher(grammar: grammar)
        keywords = Set(literals.filter { literal in
            let bytes = Array(literal.utf8)
            return (try? matcher.ends(of: .reference("IDENT"), in: bytes, from: 0).contains(bytes.count)) == true
        })
        try matcher.checkSpecials(in: grammar)
    }

    public static func isTokenRuleName(_ name: String) -> Bool {
        name.unicodeScalars.allSatisfy { ($0 >= "A" && $0 <= "Z") || $0 == "_" } && name.unicodeScalars.contains { $0 >= "A" && $0 <= "Z" }
    }

    private static func firstByteLevelTerm(_ e: Grammar.Expr) -> String? {
        switch e {
        case .range, .special: return e.description
        case .terminal, .reference: return nil
        case .sequence(let items), .choice(let items): return items.lazy.compactMap(firstByteLevelTerm).first
        case .optional(let x), .repetition(let x): return firstByteLevelTerm(x)
        }
    }

    /// Splits a sentence into tokens, or says where no token matches.
    public func tokenize(_ bytes: [UInt8]) throws(GrammarLexError) -> [GrammarToken] {
        let matcher = ByteMatcher(grammar: grammar)
        var tokens: [GrammarToken] = []
        var pos = 0
        while true {
            pos = skipTrivia(bytes, from: pos)
            guard pos < bytes.count else { return tokens }
            var best: (symbol: String, end: Int)?
            for literal in literals where bytes[pos...].starts(with: literal.utf8) {
                best = (literal, pos + literal.utf8.count)
                break  // literals are sorted longest first
            }
            for rule in tokenRules {
                let ends = (try? matcher.ends(of: .reference(rule), in: bytes, from: pos)) ?? []
                if let end = ends.max(), end > (best?.end ?? pos) { best = (rule, end) }
            }
            guard let (symbol, end) = best else {
                throw GrammarLexError(offset: pos, message: "no token starts with byte \(bytes[pos])")
            }
            let text = String(decoding: bytes[pos..<end], as: UTF8.self)
            if symbol == "NUMBER" { try checkNumber(text, followedBy: end < bytes.count ? bytes[end] : nil, matcher: matcher, at: pos) }
            tokens.append(GrammarToken(symbol: symbol, text: text, offset: pos))
            pos = end
        }
    }

    private func checkNumber(_ text: String, followedBy next: UInt8?, matcher: ByteMatcher, at offset: Int) throws(GrammarLexError) {
        if let next {
            for rule in ["letter", "digit"] where (try? matcher.ends(of: .reference(rule), in: [next], from: 0).contains(1)) == true {
                throw GrammarLexError(offset: offset, message: "a NUMBER is followed directly by a \(rule)")
            }
        }
        guard let value = Double(text.replacingOccurrences(of: "_", with: "")), value.isFinite else {
            throw GrammarLexError(offset: offset, message: "NUMBER '\(text)' is not a finite Float64")
        }
    }

    private func skipTrivia(_ bytes: [UInt8], from start: Int) -> Int {
        var pos = start
        while pos < bytes.count {
            switch bytes[pos] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): pos += 1
            case UInt8(ascii: "#"): while pos < bytes.count, bytes[pos] != UInt8(ascii: "\n") { pos += 1 }
            default: return pos
            }
        }
        return pos
    }
}

/// Matches grammar expressions against bytes, returning every position a match can end at.
struct ByteMatcher {
    let grammar: Grammar
    private static let maxDepth = 64

    func ends(of e: Grammar.Expr, in bytes: [UInt8], from start: Int) throws(GrammarLexError) -> Set<Int> {
        try ends(of: e, in: bytes, from: [start], depth: 0)
    }

    private func ends(of e: Grammar.Expr, in bytes: [UInt8], from starts: Set<Int>, depth: Int) throws(GrammarLexError) -> Set<Int> {
        guard depth < Self.maxDepth else { throw GrammarLexError(offset: starts.min() ?? 0, message: "lexical rules nest too deep") }
        switch e {
        case .terminal(let t):
            return Set(starts.filter { bytes[$0...].starts(with: t.utf8) }.map { $0 + t.utf8.count })
        case .range(let lo, let hi):
            return Set(starts.filter { $0 < bytes.count && bytes[$0] >= lo && bytes[$0] <= hi }.map { $0 + 1 })
        case .special(let text):
            let predicate = try BytePredicate(text)
            return Set(starts.filter { $0 < bytes.count && predicate.matches(bytes[$0]) }.map { $0 + 1 })
        case .reference(let name):
            return try ends(of: grammar[name]!.body, in: bytes, from: starts, depth: depth + 1)
        case .sequence(let items):
            var current = starts
            for item in items where !current.isEmpty { current = try ends(of: item, in: bytes, from: current, depth: depth + 1) }
            return current
        case .choice(let alternatives):
            var all: Set<Int> = []
            for alternative in alternatives { all.formUnion(try ends(of: alternative, in: bytes, from: starts, depth: depth + 1)) }
            return all
        case .optional(let x):
            return starts.union(try ends(of: x, in: bytes, from: starts, depth: depth + 1))
        case .repetition(let x):
            var all = starts
            var frontier = starts
            while !frontier.isEmpty {
                frontier = try ends(of: x, in: bytes, from: frontier, depth: depth + 1).subtracting(all)
                all.formUnion(frontier)
            }
            return all
        }
    }

    func checkSpecials(in grammar: Grammar) throws(GrammarError) {
        for rule in grammar.rules {
            for text in Self.specials(rule.body) {
                do { _ = try BytePredicate(text) } catch {
                    throw GrammarError(path: "grammar", line: rule.line, column: 1, message: error.message)
                }
            }
        }
    }

    private static func specials(_ e: Grammar.Expr) -> [String] {
        switch e {
        case .special(let s): return [s]
        case .terminal, .range, .reference: return []
        case .sequence(let items), .choice(let items): return items.flatMap(specials)
        case .optional(let x), .repetition(let x): return specials(x)
        }
    }
}

/// The special sequences the tools understand: `? any byte except 'c' and newline ?`
/// (a list of quoted characters and the word `newline`, joined by "and" or commas).
public struct BytePredicate: Sendable {
    public let excluded: Set<UInt8>

    public init(_ text: String) throws(GrammarLexError) {
        let prefix = "any byte except "
        guard text.hasPrefix(prefix) else { throw GrammarLexError(offset: 0, message: "unknown special sequence '? \(text) ?'") }
        var excluded: Set<UInt8> = []
        let items = text.dropFirst(prefix.count).replacingOccurrences(of: ",", with: " and ").components(separatedBy: " and ")
        for item in items.map(\.trimmingSpaces) where !item.isEmpty {
            let bytes = Array(item.utf8)
            if item == "newline" {
                excluded.insert(UInt8(ascii: "\n"))
            } else if bytes.count == 3, bytes[0] == bytes[2], bytes[0] == UInt8(ascii: "'") || bytes[0] == UInt8(ascii: "\"") {
                excluded.insert(bytes[1])
            } else {
                throw GrammarLexError(offset: 0, message: "unknown item '\(item)' in special sequence '? \(text) ?'")
            }
        }
        self.excluded = excluded
    }

    public func matches(_ byte: UInt8) -> Bool { !excluded.contains(byte) }
}
