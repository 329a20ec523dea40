/// Decides whether a token sequence is a sentence of a grammar (Earley's algorithm, so any
/// context-free grammar works, ambiguous or not) and reports which coverage units one of
/// its derivations uses.
public struct Recognizer: Sendable {
    public let lexer: GrammarLexer
    private let bnf: BNF

    public init(lexer: GrammarLexer) {
        self.lexer = lexer
        self.bnf = BNF(lexer: lexer)
    }

    /// Tokenizes and recognizes a sentence: the units of a derivation, or nil when the text
    /// is not a sentence (including when it does not tokenize).
    public func derivationUnits(of bytes: [UInt8]) -> Set<CoverageUnit>? {
        guard let tokens = try? lexer.tokenize(bytes) else { return nil }
        return derivationUnits(of: tokens)
    }

    public func accepts(_ bytes: [UInt8]) -> Bool { derivationUnits(of: bytes) != nil }

    /// The coverage units of one derivation of `tokens`, or nil when there is none.
    public func derivationUnits(of tokens: [GrammarToken]) -> Set<CoverageUnit>? {
        let symbols = tokens.map { bnf.terminalIDs[$0.symbol] ?? -1 }
        let chart = Chart(bnf: bnf, symbols: symbols)
        let n = symbols.count
        guard let top = bnf.rulesByLHS[bnf.start].first(where: { chart.contains(n, Item(rule: $0, dot: bnf.rules[$0].rhs.count, origin: 0)) }) else {
            return nil
        }
        var units: Set<CoverageUnit> = Set(tokens.map { lexer.literals.contains($0.symbol) ? .terminal($0.symbol) : .rule($0.symbol) })
        var work = [(rule: top, from: 0, to: n)]
        while let (r, from, to) = work.popLast() {
            let rule = bnf.rules[r]
            units.formUnion(rule.units)
            var position = to
            for k in stride(from: rule.rhs.count - 1, through: 0, by: -1) {
                switch rule.rhs[k] {
                case .terminal: position -= 1
                case .nonterminal(let b):
                    // Any split works: Earley items are sound, so take the first one found.
                    split: for m in stride(from: position, through: from, by: -1) where chart.contains(m, Item(rule: r, dot: k, origin: from)) {
                        for rb in bnf.rulesByLHS[b] where chart.contains(position, Item(rule: rb, dot: bnf.rules[rb].rhs.count, origin: m)) {
                            work.append((rb, m, position))
                            position = m
                            break split
                        }
                    }
                }
            }
        }
        return units
    }
}

/// What a coverage report counts: a syntax rule, one alternative of a rule whose body is a
/// choice (1-based), or a quoted terminal. Token rules (IDENT, NUMBER, STRING) count as rules.
public enum CoverageUnit: Hashable, Sendable, Comparable, CustomStringConvertible {
    case rule(String)
    case alternative(String, Int)
    case terminal(String)

    public var description: String {
        switch self {
        case .rule(let r): return r
        case .alternative(let r, let k): return "\(r)#\(k)"
        case .terminal(let t): return t.contains("\"") ? "'\(t)'" : "\"\(t)\""
        }
    }
}

extension GrammarLexer {
    /// Every unit a complete test suite should exercise.
    public var allCoverageUnits: Set<CoverageUnit> {
        var units = Set(syntaxRules.map(CoverageUnit.rule) + tokenRules.map(CoverageUnit.rule) + literals.map(CoverageUnit.terminal))
        for name in syntaxRules {
            let alternatives = grammar[name]!.body.alternatives
            if alternatives.count > 1 { units.formUnion((1...alternatives.count).map { .alternative(name, $0) }) }
        }
        return units
    }

    /// The text of a unit for reports: the alternative's EBNF for `.alternative`.
    public func explain(_ unit: CoverageUnit) -> String {
        guard case .alternative(let name, let k) = unit else { return unit.description }
        return "\(unit)  \(name) = \(grammar[name]!.body.alternatives[k - 1]) ..."
    }
}

/// The syntax rules desugared into plain context-free productions.
private struct BNF: Sendable {
    enum Symbol: Sendable, Equatable { case terminal(Int), nonterminal(Int) }
    struct Production: Sendable {
        let lhs: Int
        let rhs: [Symbol]
        let units: [CoverageUnit]
    }

    var rules: [Production] = []
    var rulesByLHS: [[Int]] = []
    var nullable: [Bool] = []
    var terminalIDs: [String: Int] = [:]
    var start = 0
    private var nonterminalIDs: [String: Int] = [:]
    private var nonterminalCount = 0

    init(lexer: GrammarLexer) {
        for t in lexer.literals + lexer.tokenRules { terminalIDs[t] = terminalIDs.count }
        for name in lexer.syntaxRules { nonterminalIDs[name] = newNonterminal() }
        start = nonterminalIDs[lexer.grammar.start.name]!
        for name in lexer.syntaxRules {
            let alternatives = lexer.grammar[name]!.body.alternatives
            for (k, alternative) in alternatives.enumerated() {
                let units: [CoverageUnit] = alternatives.count > 1 ? [.rule(name), .alternative(name, k + 1)] : [.rule(name)]
                add(nonterminalIDs[name]!, flatten(alternative), units)
            }
        }
        computeNullable()
    }

    private mutating func newNonterminal() -> Int {
        nonterminalCount += 1
        rulesByLHS.append([])
        return nonterminalCount - 1
    }

    private mutating func add(_ lhs: Int, _ rhs: [Symbol], _ units: [CoverageUnit] = []) {
        rulesByLHS[lhs].append(rules.count)
        rules.append(Production(lhs: lhs, rhs: rhs, units: units))
    }

    private mutating func flatten(_ e: Grammar.Expr) -> [Symbol] {
        switch e {
        case .terminal(let t): return [.terminal(terminalIDs[t]!)]
        case .reference(let r): return [nonterminalIDs[r].map(Symbol.nonterminal) ?? .terminal(terminalIDs[r]!)]
        case .sequence(let items): return items.flatMap { flatten($0) }
        case .choice(let alternatives):
            let n = newNonterminal()
            for a in alternatives { add(n, flatten(a)) }
            return [.nonterminal(n)]
        case .optional(let x):
            let n = newNonterminal()
            add(n, [])
            add(n, flatten(x))
            return [.nonterminal(n)]
        case .repetition(let x):
            let n = newNonterminal()
            add(n, [])
            add(n, [.nonterminal(n)] + flatten(x))
            return [.nonterminal(n)]
        case .range, .special:
            preconditionFailure("GrammarLexer rejects character-level terms in syntax rules")
        }
    }

    private mutating func computeNullable() {
        nullable = Array(repeating: false, count: nonterminalCount)
        var changed = true
        while changed {
            changed = false
            for rule in rules where !nullable[rule.lhs] {
                let allNullable = rule.rhs.allSatisfy { if case .nonterminal(let b) = $0 { return nullable[b] } else { return false } }
                if allNullable { nullable[rule.lhs] = true; changed = true }
            }
        }
    }
}

private struct Item: Hashable {
    let rule: Int
    let dot: Int
    let origin: Int
}

/// Earley sets 0...n, with Aycock and Horspool's handling of nullable nonterminals.
private struct Chart {
    private var sets: [[Item]]
    private var members: [Set<Item>]
    /// waiting[i][B]: items of set i whose next symbol is nonterminal B.
    private var waiting: [[Int: [Item]]]

    init(bnf: BNF, symbols: [Int]) {
        let n = symbols.count
        sets = Array(repeating: [], count: n + 1)
        members = Array(repeating: [], count: n + 1)
        waiting = Array(repeating: [:], count: n + 1)
        for r in bnf.rulesByLHS[bnf.start] { add(Item(rule: r, dot: 0, origin: 0), at: 0, bnf) }
        for i in 0...n {
            var k = 0
            while k < sets[i].count {
                let item = sets[i][k]
                k += 1
                let rhs = bnf.rules[item.rule].rhs
                if item.dot == rhs.count {
                    let lhs = bnf.rules[item.rule].lhs
                    for parent in waiting[item.origin][lhs] ?? [] {
                        add(Item(rule: parent.rule, dot: parent.dot + 1, origin: parent.origin), at: i, bnf)
                    }
                    continue
                }
                switch rhs[item.dot] {
                case .terminal(let t):
                    if i < n, symbols[i] == t { add(Item(rule: item.rule, dot: item.dot + 1, origin: item.origin), at: i + 1, bnf) }
                case .nonterminal(let b):
                    for r in bnf.rulesByLHS[b] { add(Item(rule: r, dot: 0, origin: i), at: i, bnf) }
                    if bnf.nullable[b] { add(Item(rule: item.rule, dot: item.dot + 1, origin: item.origin), at: i, bnf) }
                }
            }
            if i < n, sets[i + 1].isEmpty { break }  // no item can read token i: reject early
        }
    }

    private mutating func add(_ item: Item, at i: Int, _ bnf: BNF) {
        guard members[i].insert(item).inserted else { return }
        sets[i].append(item)
        let rhs = bnf.rules[item.rule].rhs
        if item.dot < rhs.count, case .nonterminal(let b) = rhs[item.dot] { waiting[i][b, default: []].append(item) }
    }

    func contains(_ i: Int, _ item: Item) -> Bool { members[i].contains(item) }
}
