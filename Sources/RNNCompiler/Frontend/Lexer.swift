import Foundation

/// Turns source bytes into tokens. Never fails: bad bytes become diagnostics and are skipped.
///
/// Comments run from `#` to the end of the line. Newlines separate nothing by themselves;
/// they are only recorded (`Token.startsLine`) so the parser can resynchronize after errors.
struct Lexer {
    let file: SourceFile
    let diagnostics: DiagnosticEngine
    private var pos = 0
    private var sawNewline = true
    /// Every `#` comment, in order, with its range (kept for the formatter).
    private(set) var comments: [SourceRange] = []

    init(file: SourceFile, diagnostics: DiagnosticEngine) {
        self.file = file
        self.diagnostics = diagnostics
    }

    static func tokenize(_ file: SourceFile, diagnostics: DiagnosticEngine) -> [Token] {
        tokenizeWithComments(file, diagnostics: diagnostics).tokens
    }

    static func tokenizeWithComments(_ file: SourceFile, diagnostics: DiagnosticEngine) -> (tokens: [Token], comments: [SourceRange]) {
        var lexer = Lexer(file: file, diagnostics: diagnostics)
        var tokens: [Token] = []
        while true {
            let t = lexer.next()
            tokens.append(t)
            if t.kind == .eof { return (tokens, lexer.comments) }
        }
    }

    private var bytes: [UInt8] { file.bytes }

    private func peek(_ k: Int = 0) -> UInt8? {
        pos + k < bytes.count ? bytes[pos + k] : nil
    }

    private func range(_ start: Int) -> SourceRange { SourceRange(file: file, start: start, end: pos) }

    /// The next token. A character that starts no token is reported and skipped; the loop
    /// (not a recursive call) keeps a long run of them from exhausting the stack.
    mutating func next() -> Token {
        while true {
            skipTrivia()
            let start = pos
            let startsLine = sawNewline
            sawNewline = false
            guard let c = peek() else {
                return Token(kind: .eof, range: range(start), startsLine: true)
            }
            let kind: TokenKind
            if isIdentStart(c) {
                while let d = peek(), isIdentStart(d) || isDigit(d) { pos += 1 }
                let word = String(decoding: bytes[start..<pos], as: UTF8.self)
                kind = Keyword(rawValue: word).map { .keyword($0) } ?? .identifier(word)
            } else if isDigit(c) || (c == UInt8(ascii: ".") && peek(1).map(isDigit) == true) {
                kind = lexNumber(start)
            } else if c == UInt8(ascii: "\"") {
                kind = lexString(start)
            } else if let p = lexPunct() {
                kind = .punct(p)
            } else {
                // One diagnostic for a run of characters that start no token.
                pos += utf8Length(c)
                while let d = peek(), startsNoToken(d) { pos += utf8Length(d) }
                let text = file.text(SourceRange(file: file, start: start, end: min(pos, start + 40)))
                let message = pos - start > utf8Length(c) ? "unexpected characters '\(text)\(pos - start > 40 ? "..." : "")'" : "unexpected character '\(text)'"
                diagnostics.error(.unexpectedCharacter, message, at: range(start))
                continue
            }
            return Token(kind: kind, range: range(start), startsLine: startsLine)
        }
    }

    /// Whether the byte at the current position starts neither a token nor trivia.
    private mutating func startsNoToken(_ c: UInt8) -> Bool {
        if isIdentStart(c) || isDigit(c) || c == UInt8(ascii: ".") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "#") { return false }
        if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\n") { return false }
        let save = pos
        defer { pos = save }
        return lexPunct() == nil
    }

    private mutating func skipTrivia() {
        while let c = peek() {
            if c == UInt8(ascii: "\n") { sawNewline = true; pos += 1 }
            else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") { pos += 1 }
            else if c == UInt8(ascii: "#") {
                let start = pos
                while let d = peek(), d != UInt8(ascii: "\n") { pos += 1 }
                comments.append(SourceRange(file: file, start: start, end: pos))
            } else { return }
        }
    }

    private mutating func lexNumber(_ start: Int) -> TokenKind {
        while let d = peek(), isDigit(d) || d == UInt8(ascii: "_") { pos += 1 }
        // A '.' starts a fraction only when a digit follows it ("1." is not a number, and
        // "0..<n" is 0 ..< n).
        if peek() == UInt8(ascii: "."), peek(1).map(isDigit) == true {
            pos += 1
            while let d = peek(), isDigit(d) || d == UInt8(ascii: "_") { pos += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var k = 1
            if let s = peek(1), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { k = 2 }
            if let d = peek(k), isDigit(d) {
                pos += k
                while let d = peek(), isDigit(d) { pos += 1 }
            }
        }
        // Identifier characters glued to a number ("12abc") make it invalid.
        var bad = false
        while let d = peek(), isIdentStart(d) || isDigit(d) { pos += 1; bad = true }
        let text = file.text(range(start)).replacingOccurrences(of: "_", with: "")
        guard !bad, let value = Double(text), value.isFinite else {
            diagnostics.error(.invalidNumber, "invalid number literal '\(file.text(range(start)))'", at: range(start))
            return .number(0)
        }
        return .number(value)
    }

    private mutating func lexString(_ start: Int) -> TokenKind {
        pos += 1
        while let c = peek(), c != UInt8(ascii: "\""), c != UInt8(ascii: "\n") { pos += 1 }
        guard peek() == UInt8(ascii: "\"") else {
            diagnostics.error(.unterminatedString, "unterminated string literal", at: range(start))
            return .string(String(decoding: bytes[(start + 1)..<pos], as: UTF8.self))
        }
        pos += 1
        return .string(String(decoding: bytes[(start + 1)..<(pos - 1)], as: UTF8.self))
    }

    private mutating func lexPunct() -> Punct? {
        for p in Punct.longestFirst where matches(p.rawValue) {
            pos += p.rawValue.utf8.count
            return p
        }
        return nil
    }

    private func matches(_ s: String) -> Bool {
        for (i, b) in s.utf8.enumerated() where peek(i) != b { return false }
        return true
    }

    private func isIdentStart(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || c == UInt8(ascii: "_")
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// Length of the UTF-8 sequence starting with `c`, clamped to the file (1 for invalid bytes).
    private func utf8Length(_ c: UInt8) -> Int {
        let n: Int
        switch c {
        case 0xC2...0xDF: n = 2
        case 0xE0...0xEF: n = 3
        case 0xF0...0xF4: n = 4
        default: n = 1
        }
        var k = 1
        while k < n, let d = peek(k), d & 0xC0 == 0x80 { k += 1 }
        return k
    }
}
