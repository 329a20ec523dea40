/// Generates random sentences of a grammar: depth-bounded (past `maxDepth` every choice
/// takes its shortest alternative and repetitions stop), and steered toward coverage units
/// it has not produced yet, so a few hundred sentences exercise every production.
public struct SentenceGenerator {
    public let lexer: GrammarLexer
    public var maxDepth: Int
    /// Units produced so far, across calls.
    public private(set) var covered: Set<CoverageUnit> = []
    private let minimumCost: [String: Int]

    public init(lexer: GrammarLexer, maxDepth: Int = 14) {
        self.lexer = lexer
        self.maxDepth = maxDepth
        self.minimumCost = Self.minimumCosts(lexer)
    }

    /// One sentence as tokens.
    public mutating func tokens(using rng: inout some RandomNumberGenerator) -> [GrammarToken] {
        var out: [GrammarToken] = []
        emit(.reference(lexer.grammar.start.name), depth: 0, into: &out, rng: &rng)
        return out
    }

    /// One sentence as text: tokens joined by random whitespace and comments.
    public mutating func sentence(using rng: inout some RandomNumberGenerator) -> String {
        Self.render(tokens(using: &rng), using: &rng)
    }

    /// Joins tokens with separators that cannot glue two tokens into one.
    public static func render(_ tokens: [GrammarToken], using rng: inout some RandomNumberGenerator) -> String {
        let separators = [" ", " ", " ", " ", "\n", "\n  ", "\t", "  # note\n", "\r\n"]
        var text = Int.random(in: 0..<4, using: &rng) == 0 ? "# generated\n" : ""
        for (k, token) in tokens.enumerated() {
            if k > 0 { text += separators.randomElement(using: &rng)! }
            text += token.text
        }
        return text + "\n"
    }

    private mutating func emit(_ e: Grammar.Expr, depth: Int, into out: inout [GrammarToken], rng: inout some RandomNumberGenerator) {
        let deep = depth > maxDepth
        switch e {
        case .terminal(let t):
            covered.insert(.terminal(t))
            out.append(GrammarToken(symbol: t, text: t))
        case .reference(let name) where lexer.tokenRules.contains(name):
            covered.insert(.rule(name))
            out.append(GrammarToken(symbol: name, text: tokenText(name, rng: &rng)))
        case .reference(let name):
            covered.insert(.rule(name))
            let alternatives = lexer.grammar[name]!.body.alternatives
            if alternatives.count == 1 {
                emit(alternatives[0], depth: depth + 1, into: &out, rng: &rng)
            } else {
                let k = pick(alternatives, owner: name, deep: deep, rng: &rng)
                covered.insert(.alternative(name, k + 1))
                emit(alternatives[k], depth: depth + 1, into: &out, rng: &rng)
            }
        case .sequence(let items):
            for item in items { emit(item, depth: depth, into: &out, rng: &rng) }
        case .choice(let alternatives):
            emit(alternatives[pick(alternatives, owner: nil, deep: deep, rng: &rng)], depth: depth, into: &out, rng: &rng)
        case .optional(let x):
            let wanted = !deep && (Bool.random(using: &rng) || isFresh(x))
            if wanted { emit(x, depth: depth, into: &out, rng: &rng) }
        case .repetition(let x):
            var count = 0
            if !deep {
                while count < 4, Int.random(in: 0..<5, using: &rng) < (isFresh(x) ? 4 : 2) { count += 1 }
            }
            for _ in 0..<count { emit(x, depth: depth, into: &out, rng: &rng) }
        case .range, .special:
            preconditionFailure("GrammarLexer rejects character-level terms in syntax rules")
        }
    }

    /// Chooses an alternative: the cheapest when deep, otherwise favouring fresh ones.
    private func pick(_ alternatives: [Grammar.Expr], owner: String?, deep: Bool, rng: inout some RandomNumberGenerator) -> Int {
        if deep {
            return alternatives.indices.min { cost(alternatives[$0]) < cost(alternatives[$1]) }!
        }
        let weights = alternatives.indices.map { k -> Int in
            let fresh = isFresh(alternatives[k]) || owner.map { !covered.contains(.alternative($0, k + 1)) } == true
            return fresh ? 8 : 1
        }
        var r = Int.random(in: 0..<weights.reduce(0, +), using: &rng)
        for (k, w) in weights.enumerated() {
            if r < w { return k }
            r -= w
        }
        return 0
    }

    /// True when `e` directly names a rule or terminal not produced yet.
    private func isFresh(_ e: Grammar.Expr) -> Bool {
        e.references.contains { !covered.contains(.rule($0)) } || e.terminals.contains { !covered.contains(.terminal($0)) }
    }

    private func cost(_ e: Grammar.Expr) -> Int { Self.cost(e, minimumCost) }

    private static func cost(_ e: Grammar.Expr, _ table: [String: Int]) -> Int {
        switch e {
        case .terminal, .range, .special: return 1
        case .reference(let r): return table[r] ?? Int.max / 4
        case .sequence(let items): return min(Int.max / 4, items.reduce(0) { $0 + cost($1, table) })
        case .choice(let alternatives): return alternatives.map { cost($0, table) }.min()!
        case .optional, .repetition: return 0
        }
    }

    /// The fewest tokens each syntax rule can produce (token rules count one).
    private static func minimumCosts(_ lexer: GrammarLexer) -> [String: Int] {
        var table = Dictionary(uniqueKeysWithValues: lexer.tokenRules.map { ($0, 1) })
        var changed = true
        while changed {
            changed = false
            for name in lexer.syntaxRules {
                let c = cost(lexer.grammar[name]!.body, table)
                if c < table[name] ?? Int.max / 4 { table[name] = c; changed = true }
            }
        }
        return table
    }

    /// Text for a token rule: generated from its rule, kept short, and valid for the lexer
    /// (an IDENT that is not a keyword, a finite NUMBER).
    private func tokenText(_ rule: String, rng: inout some RandomNumberGenerator) -> String {
        for _ in 0..<10_000 {
            var bytes: [UInt8] = []
            emitBytes(lexer.grammar[rule]!.body, into: &bytes, rng: &rng)
            let text = String(decoding: bytes, as: UTF8.self)
            guard let tokens = try? lexer.tokenize(bytes), tokens.count == 1, tokens[0].symbol == rule, tokens[0].text == text else { continue }
            return text
        }
        preconditionFailure("token rule '\(rule)' produced no valid token in 10000 tries")
    }

    private func emitBytes(_ e: Grammar.Expr, into out: inout [UInt8], rng: inout some RandomNumberGenerator) {
        switch e {
        case .terminal(let t): out.append(contentsOf: t.utf8)
        case .range(let lo, let hi): out.append(UInt8.random(in: lo...hi, using: &rng))
        case .special(let text):
            let predicate = try! BytePredicate(text)
            let printable = (UInt8(ascii: " ")...UInt8(ascii: "~")).filter(predicate.matches)
            out.append(printable.randomElement(using: &rng)!)
        case .reference(let r): emitBytes(lexer.grammar[r]!.body, into: &out, rng: &rng)
        case .sequence(let items): for item in items { emitBytes(item, into: &out, rng: &rng) }
        case .choice(let alternatives): emitBytes(alternatives.randomElement(using: &rng)!, into: &out, rng: &rng)
        case .optional(let x): if Bool.random(using: &rng) { emitBytes(x, into: &out, rng: &rng) }
        case .repetition(let x): for _ in 0..<Int.random(in: 0...3, using: &rng) { emitBytes(x, into: &out, rng: &rng) }
        }
    }
}
