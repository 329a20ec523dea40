/// The kinds of tokens of the rnn language (see grammar/rnn.ebnf).
package enum TokenKind: Equatable, Sendable {
    case identifier(String)
    case number(Double)
    case string(String)
    case keyword(Keyword)
    case punct(Punct)
    case eof

    package var display: String {
        switch self {
        case .identifier(let s): return "identifier '\(s)'"
        case .number(let n): return "number \(n)"
        case .string: return "string"
        case .keyword(let k): return "'\(k.rawValue)'"
        case .punct(let p): return "'\(p.rawValue)'"
        case .eof: return "end of file"
        }
    }
}

package enum Keyword: String, Sendable, CaseIterable {
    case use, fn, model, input, output, state, param, `return`, `for`, `in`, from, `if`, `else`
}

package enum Punct: String, Sendable, CaseIterable {
    case lparen = "(", rparen = ")", lbracket = "[", rbracket = "]", lbrace = "{", rbrace = "}"
    case comma = ",", colon = ":", semicolon = ";", equal = "=", arrow = "<-", rangeUpTo = "..<", dot = "."
    case plus = "+", minus = "-", star = "*", slash = "/", at = "@", caret = "^"
    case equalEqual = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case and = "&&", or = "||", bang = "!"

    /// Every punctuation mark, longest spelling first (the lexer takes the longest match).
    static let longestFirst = allCases.sorted { $0.rawValue.utf8.count > $1.rawValue.utf8.count }
}

package struct Token: Sendable {
    package let kind: TokenKind
    package let range: SourceRange
    /// True when no other token precedes this one on its line (used for error recovery).
    package let startsLine: Bool
}
