/// Breaking lines longer than the formatter's width.
extension Formatter {
    /// A statement printed as `prefix` and one expression (`name = `, `output `, ...), for
    /// those the formatter breaks; nil for the rest.
    static func mainExpression(_ s: Statement) -> (String, Expr)? {
        switch s.kind {
        case .binding(let n, let e): return ("\(n.name) = ", e)
        case .update(let n, let e): return ("\(n.name) <- ", e)
        case .output(let e): return ("output ", e)
        case .destructure(let names, let e): return (names.map(\.name).joined(separator: ", ") + " = ", e)
        case .return(let values) where values.count == 1: return ("return ", values[0])
        default: return nil
        }
    }

    /// `indent + prefix + e` on one line when it fits in the width, else broken: lines after
    /// the first indented four more than `indent`.
    func wrapped(_ prefix: String, _ e: Expr, indent: String) -> [String] {
        let flat = indent + prefix + Self.expr(e, file)
        guard flat.count > width else { return [flat] }
        return broken(e, first: indent + prefix, continuation: indent + "    ")
    }

    /// `first` followed by `e` broken at its loosest operators, or after the commas of a
    /// call's or a list's items; pieces too long on their own stay whole.
    private func broken(_ e: Expr, first: String, continuation: String) -> [String] {
        let chain = operatorChain(e)
        if chain.count > 1 {
            var lines = [first + chain[0].text]
            if lines[0].count > width, !chain[0].parenthesized { lines = broken(chain[0].expr, first: first, continuation: continuation) }
            for piece in chain.dropFirst() {
                let joined = lines[lines.count - 1] + " " + piece.text
                if joined.count <= width {
                    lines[lines.count - 1] = joined
                } else if (continuation + piece.text).count <= width || piece.parenthesized {
                    lines.append(continuation + piece.text)
                } else {
                    // Too long even alone: break the operand itself where it starts.
                    let op = String(piece.text.prefix { $0 != " " }) + " "
                    let last = lines.removeLast()
                    lines += broken(piece.expr, first: last + " " + op, continuation: continuation)
                }
            }
            return lines
        }
        switch e.kind {
        case .call(let f, let args) where !args.isEmpty:
            let items = args.map { ($0.label.map { "\($0.name): " } ?? "") + Self.expr($0.value, file) }
            return filled(items, open: first + f.name + "(", close: ")", continuation: continuation)
        case .list(let items) where !items.isEmpty:
            return filled(items.map { Self.expr($0, file) }, open: first + "[", close: "]", continuation: continuation)
        default:
            return [first + Self.expr(e, file)]
        }
    }

    /// `open item, item, ...close`, as many items a line as fit.
    private func filled(_ items: [String], open: String, close: String, continuation: String) -> [String] {
        var lines = [open]
        for (k, item) in items.enumerated() {
            let text = item + (k == items.count - 1 ? close : ",")
            let last = lines[lines.count - 1]
            let separator = last == open ? "" : " "
            if (last + separator + text).count <= width || last == open {
                lines[lines.count - 1] = last + separator + text
            } else {
                lines.append(continuation + text)
            }
        }
        return lines
    }

    /// `e`'s loosest left-associative chain, `a + b - c` as `a`, `+ b`, `- c`, each operand
    /// parenthesized as `expr` prints it; one piece for other expressions.
    func operatorChain(_ e: Expr) -> [(text: String, expr: Expr, parenthesized: Bool)] {
        let p = Self.precedence(e)
        guard [1, 2, 4, 5].contains(p) else { return [(Self.expr(e, file), e, false)] }
        var right: [(op: String, operand: Expr)] = []
        var node = e
        while Self.precedence(node) == p {
            switch node.kind {
            case .binary(let op, let l, let r):
                right.append((op.rawValue, r))
                node = l
            case .logical(let op, let l, let r):
                right.append((op.rawValue, r))
                node = l
            default: return [(Self.expr(e, file), e, false)]
            }
        }
        func text(_ x: Expr, parenthesized: Bool) -> String { parenthesized ? "(" + Self.expr(x, file) + ")" : Self.expr(x, file) }
        let firstWrapped = Self.precedence(node) < p
        return [(text(node, parenthesized: firstWrapped), node, firstWrapped)] + right.reversed().map {
            let wrapped = Self.precedence($0.operand) <= p
            return ("\($0.op) " + text($0.operand, parenthesized: wrapped), $0.operand, wrapped)
        }
    }
}
