/// The canonical layout of a .rnn file (`rnnc fmt`).
///
/// One statement per line, two-space indentation, a blank line between declarations (but
/// not between consecutive `use` lines), single spaces around binary operators, and the
/// fewest parentheses that keep the tree. Comments stay: each is printed before the
/// statement or declaration that follows it, or after the one that ends on its line. Blank
/// lines between statements are kept (at most one). Number literals keep their spelling.
/// The output parses to the same syntax tree, and formatting it again changes nothing.
///
/// Lines longer than `width` break (`FormatterWrapping`): an expression at its loosest
/// operators (`+ -`, else `* / @`, else `||`, `&&`), each continuation line indented four
/// more than the statement and starting with its operator; a call's or list's items after
/// their commas. A trailing comment keeps the column it has in the source when the code
/// before it is shorter, so aligned comments stay aligned.
package struct Formatter {
    /// The default line width of `rnnc fmt`.
    package static let defaultWidth = 100

    private let ast: SourceFileAST
    let width: Int
    private var out: [String] = []
    private var nextComment = 0
    /// End offset of the last comment or node printed (to keep blank lines before comments).
    private var lastEnd = 0

    package static func format(_ ast: SourceFileAST, width: Int = defaultWidth) -> String {
        var f = Formatter(ast: ast, width: width)
        f.formatFile()
        return f.out.joined(separator: "\n") + "\n"
    }

    private init(ast: SourceFileAST, width: Int) {
        self.ast = ast
        self.width = width
        alignedComments = Self.alignedTrailingComments(ast)
    }

    /// Trailing comments that start in the same column as a trailing comment on the line
    /// before or after.
    private let alignedComments: Set<Int>

    private static func alignedTrailingComments(_ ast: SourceFileAST) -> Set<Int> {
        let file = ast.file
        var trailing: [Int: (column: Int, index: Int)] = [:]  // by line
        for (i, c) in ast.comments.enumerated() {
            let (line, column) = file.lineColumn(of: c.start)
            let lineStart = c.start - (column - 1)
            let before = file.bytes[max(0, lineStart)..<c.start]
            if before.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) { trailing[line] = (column, i) }
        }
        var aligned: Set<Int> = []
        for (line, c) in trailing {
            if trailing[line - 1]?.column == c.column || trailing[line + 1]?.column == c.column { aligned.insert(c.index) }
        }
        return aligned
    }

    // MARK: Comments and layout

    var file: SourceFile { ast.file }

    /// Prints the comments that start before `offset`, on their own lines.
    private mutating func leadingComments(before offset: Int, indent: String) {
        while nextComment < ast.comments.count, ast.comments[nextComment].start < offset {
            let comment = ast.comments[nextComment]
            if let last = out.last, last != "", !last.hasSuffix("{"), blankLineBetween(lastEnd, comment.start) { out.append("") }
            out.append(indent + file.text(comment))
            lastEnd = comment.end
            nextComment += 1
        }
    }

    /// Keeps a blank line the source has between a comment just printed and the next item.
    private mutating func keepBlankLineAfterComment(before offset: Int) {
        if let last = out.last, last.trimmingCharacters(in: .whitespaces).hasPrefix("#"), blankLineBetween(lastEnd, offset) {
            out.append("")
        }
    }

    /// Appends a comment that sits on the same line as the end of `range` to the last line.
    private mutating func trailingComment(after range: SourceRange) {
        guard nextComment < ast.comments.count else { return }
        let comment = ast.comments[nextComment]
        let endLine = file.lineColumn(of: max(range.start, range.end - 1)).line
        lastEnd = max(lastEnd, range.end)
        if comment.start >= range.end, file.lineColumn(of: comment.start).line == endLine {
            // Comments aligned in the source keep their column when the code is shorter.
            let code = out[out.count - 1]
            let column = file.lineColumn(of: comment.start).column - 1
            let pad = alignedComments.contains(nextComment) ? max(2, column - code.count) : 2
            out[out.count - 1] += String(repeating: " ", count: pad) + file.text(comment)
            lastEnd = comment.end
            nextComment += 1
        }
    }

    /// Whether the source has a blank line between two offsets.
    private func blankLineBetween(_ a: Int, _ b: Int) -> Bool {
        var newlines = 0
        var i = a
        while i < b && i < file.bytes.count {
            if file.bytes[i] == UInt8(ascii: "\n") {
                newlines += 1
                if newlines >= 2 { return true }
            } else if file.bytes[i] == UInt8(ascii: "#") {
                // A comment line is not blank.
                newlines = 0
                while i < b && file.bytes[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            } else if file.bytes[i] != UInt8(ascii: " ") && file.bytes[i] != UInt8(ascii: "\t") && file.bytes[i] != UInt8(ascii: "\r") {
                newlines = 0
            }
            i += 1
        }
        return false
    }

    // MARK: Declarations

    private mutating func formatFile() {
        var previous: Declaration?
        for decl in ast.declarations {
            let range = Self.range(of: decl)
            let bothUses: Bool
            if case .use = decl, case .use? = previous { bothUses = true } else { bothUses = false }
            if previous != nil && !bothUses { out.append("") }
            leadingComments(before: range.start, indent: "")
            keepBlankLineAfterComment(before: range.start)
            switch decl {
            case .use(let u):
                out.append("use " + (u.isQuoted ? "\"\(u.path)\"" : u.path.replacingOccurrences(of: "/", with: ".")))
                trailingComment(after: u.range)
            case .function(let f): formatFunction(f)
            case .model(let m): formatModel(m)
            }
            previous = decl
        }
        leadingComments(before: Int.max, indent: "")
        while out.first == "" { out.removeFirst() }
    }

    static func range(of decl: Declaration) -> SourceRange {
        switch decl {
        case .use(let u): return u.range
        case .function(let f): return f.range
        case .model(let m): return m.range
        }
    }

    private mutating func formatFunction(_ f: FunctionDecl) {
        let params = f.params.map { p -> String in
            var s = p.name.name
            if let shape = p.shape { s += ": " + Self.shape(shape, file) }
            if let d = p.defaultValue { s += " = " + Self.expr(d, file) }
            return s
        }
        let head = "fn \(f.name.name)(\(params.joined(separator: ", ")))"
        if f.isBlock {
            formatBlock(head: head, body: f.body, result: f.result.map { ([$0] + f.moreResults, f.returnRange!) }, range: f.range)
        } else if let result = f.result {
            out += wrapped(head + " = ", result, indent: "")
            trailingComment(after: f.range)
        }
    }

    private mutating func formatModel(_ m: ModelDecl) {
        var head = "model \(m.name.name)"
        if !m.params.isEmpty {
            head += "(" + m.params.map { "\($0.name.name) = \(Self.expr($0.value, file))" }.joined(separator: ", ") + ")"
        }
        formatBlock(head: head, body: m.body, result: nil, range: m.range)
    }

    /// `head {`, the statements one level deeper (a for or if block's own, recursively), `}`.
    /// With `continuing`, the head goes on the line of the `}` just printed (`} else {`).
    private mutating func formatBlock(head: String, body: [Statement], result: ([Expr], SourceRange)?, range: SourceRange, indent: String = "", continuing: Bool = false) {
        if continuing, out.last == indent + "}" {
            out[out.count - 1] += " " + head + " {"
        } else {
            out.append(indent + head + " {")
        }
        let inner = indent + "  "
        var last: SourceRange?
        var lines: [(start: Int, statement: Statement?, text: String, range: SourceRange)] = body.map { ($0.range.start, $0, Self.statement($0, file), $0.range) }
        if let (result, returnRange) = result {
            lines.append((returnRange.start, nil, "return " + result.map { Self.expr($0, file) }.joined(separator: ", "), returnRange))
        }
        for line in lines {
            // A blank line before the statement's leading comments (if any) is kept here;
            // the ones among the comments, by `leadingComments`.
            let pendingComment = nextComment < ast.comments.count ? ast.comments[nextComment].start : Int.max
            if let last, blankLineBetween(last.end, min(line.start, pendingComment)) { out.append("") }
            leadingComments(before: line.start, indent: inner)
            keepBlankLineAfterComment(before: line.start)
            if let statement = line.statement, case .loop(let v, let lo, let hi, let loopBody) = statement.kind {
                formatBlock(head: "for \(v.name) in \(Self.expr(lo, file))..<\(Self.expr(hi, file))", body: loopBody, result: nil,
                            range: statement.range, indent: inner)
            } else if let statement = line.statement, case .conditional = statement.kind {
                formatConditional(statement, indent: inner, chained: false)
            } else if let statement = line.statement, let (prefix, e) = Self.mainExpression(statement) {
                out += wrapped(prefix, e, indent: inner)
                trailingComment(after: line.range)
            } else if line.statement == nil, let (result, _) = result, result.count == 1 {
                out += wrapped("return ", result[0], indent: inner)
                trailingComment(after: line.range)
            } else {
                out.append(inner + line.text)
                trailingComment(after: line.range)
            }
            last = line.range
        }
        leadingComments(before: range.end - 1, indent: inner)
        out.append(indent + "}")
        trailingComment(after: range)
    }

    /// `if c { ... } else if d { ... } else { ... }`, each block as `formatBlock` prints it.
    /// (`else { if ... }` holding nothing else prints as `else if`: the same tree.)
    private mutating func formatConditional(_ statement: Statement, indent: String, chained: Bool) {
        guard case .conditional(let condition, let then, let otherwise, let thenClose) = statement.kind else { return }
        formatBlock(head: (chained ? "else " : "") + "if " + Self.expr(condition, file), body: then, result: nil,
                    range: thenClose, indent: indent, continuing: chained)
        if otherwise.count == 1, case .conditional = otherwise[0].kind {
            formatConditional(otherwise[0], indent: indent, chained: true)
        } else if !otherwise.isEmpty {
            formatBlock(head: "else", body: otherwise, result: nil, range: statement.range, indent: indent, continuing: true)
        }
    }

    // MARK: Statements and expressions

    static func shape(_ s: ShapeAnnotation, _ file: SourceFile) -> String {
        "[" + s.dims.map { expr($0, file) }.joined(separator: ", ") + "]"
    }

    static func domain(_ d: InputDomain, _ file: SourceFile) -> String {
        switch d {
        case .interval(let lo, let hi, _): return "[\(expr(lo, file)), \(expr(hi, file))]"
        case .set(let values, _): return "{" + values.map { expr($0, file) }.joined(separator: ", ") + "}"
        }
    }

    static func statement(_ s: Statement, _ file: SourceFile) -> String {
        switch s.kind {
        case .input(let n, .vector(let sh, let domain)): return "input \(n.name): \(shape(sh, file))" + (domain.map { " in " + Self.domain($0, file) } ?? "")
        case .input(let n, .ids(let lo, let hi)): return "input \(n.name): \(expr(lo, file))..<\(expr(hi, file))"
        case .output(let e): return "output \(expr(e, file))"
        case .state(let n, let sh, let e): return "state \(n.name): \(shape(sh, file)) = \(expr(e, file))"
        case .param(let items):
            return "param " + items.map { item in
                "\(item.name.name): \(shape(item.shape, file))" + (item.key.map { " from \"\($0.name)\"" } ?? "") + (item.initializer.map { " = " + expr($0, file) } ?? "")
            }.joined(separator: ", ")
        case .loop(let v, let lo, let hi, let body):
            // Printed by `formatBlock`; this one-line form serves callers that want one line.
            return "for \(v.name) in \(expr(lo, file))..<\(expr(hi, file)) { " + body.map { statement($0, file) }.joined(separator: "; ") + " }"
        case .conditional(let c, let then, let otherwise, _):
            // Printed by `formatConditional`; this one-line form serves callers that want one line.
            let first = "if \(expr(c, file)) { " + then.map { statement($0, file) }.joined(separator: "; ") + " }"
            return otherwise.isEmpty ? first : first + " else { " + otherwise.map { statement($0, file) }.joined(separator: "; ") + " }"
        case .update(let n, let e): return "\(n.name) <- \(expr(e, file))"
        case .binding(let n, let e): return "\(n.name) = \(expr(e, file))"
        case .destructure(let names, let e): return names.map(\.name).joined(separator: ", ") + " = \(expr(e, file))"
        case .return(let values): return "return " + values.map { expr($0, file) }.joined(separator: ", ")
        }
    }

    /// Binding strength: 0 if expression, 1 `||`, 2 `&&`, 3 comparison, 4 additive,
    /// 5 multiplicative, 6 unary, 7 power, 8 postfix and atoms.
    static func precedence(_ e: Expr) -> Int {
        switch e.kind {
        case .conditional: return 0
        case .logical(let op, _, _): return op == .or ? 1 : 2
        case .compare: return 3
        case .binary(let op, _, _):
            switch op {
            case .add, .sub: return 4
            case .mul, .div, .matmul: return 5
            case .pow: return 7
            }
        case .unary: return 6
        default: return 8
        }
    }

    package static func expr(_ e: Expr, _ file: SourceFile) -> String {
        func wrap(_ x: Expr, _ needed: Bool) -> String { needed ? "(" + expr(x, file) + ")" : expr(x, file) }
        switch e.kind {
        case .number: return file.text(e.range)
        case .string(let text): return "\"\(text)\""
        case .name(let n): return n
        case .unary(let op, let x):
            return op.rawValue + wrap(x, precedence(x) <= 6)
        case .binary(let op, let l, let r):
            let p = precedence(e)
            if op == .pow { return wrap(l, precedence(l) <= p) + " ^ " + wrap(r, precedence(r) < 6) }
            return wrap(l, precedence(l) < p) + " \(op.rawValue) " + wrap(r, precedence(r) <= p)
        case .logical(let op, let l, let r):
            let p = precedence(e)
            return wrap(l, precedence(l) < p) + " \(op.rawValue) " + wrap(r, precedence(r) <= p)
        case .compare(let op, let l, let r):
            return wrap(l, precedence(l) <= 3) + " \(op.rawValue) " + wrap(r, precedence(r) <= 3)
        case .conditional(let c, let a, let b):
            let otherwise = if case .conditional = b.kind { expr(b, file) } else { "{ \(expr(b, file)) }" }
            return "if \(wrap(c, precedence(c) == 0)) { \(expr(a, file)) } else \(otherwise)"
        case .call(let f, let args):
            return f.name + "(" + args.map { ($0.label.map { "\($0.name): " } ?? "") + expr($0.value, file) }.joined(separator: ", ") + ")"
        case .index(let base, let subs):
            let parts = subs.map { s -> String in
                switch s {
                case .index(let i): return expr(i, file)
                case .range(let a, let b): return (a.map { expr($0, file) } ?? "") + ":" + (b.map { expr($0, file) } ?? "")
                }
            }
            return wrap(base, precedence(base) < 8) + "[" + parts.joined(separator: ", ") + "]"
        case .list(let items): return "[" + items.map { expr($0, file) }.joined(separator: ", ") + "]"
        case .comprehension(let v, let lo, let hi, let body):
            return "[for \(v.name) in \(expr(lo, file))..<\(expr(hi, file)): \(expr(body, file))]"
        }
    }
}

import Foundation
