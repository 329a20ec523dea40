import RNNOps
import RNNRuntime

/// Readable text forms of the AST and the IR (`rnnc compile --emit ast|ir`).
package enum Dump {
    // MARK: AST

    package static func ast(_ file: SourceFileAST) -> String {
        var out: [String] = []
        for decl in file.declarations {
            switch decl {
            case .use(let u): out.append("(use \(u.isQuoted ? "\"\(u.path)\"" : u.path))")
            case .function(let f):
                let params = f.params.map { p in
                    var s = p.name.name
                    if let shape = p.shape { s += ": [" + shape.dims.map(expr).joined(separator: ", ") + "]" }
                    if let d = p.defaultValue { s += " = " + expr(d) }
                    return s
                }
                out.append("(fn \(f.name.name) (\(params.joined(separator: ", ")))")
                for s in f.body { out.append("  " + statement(s)) }
                if let r = f.result { out.append("  (return " + ([r] + f.moreResults).map(expr).joined(separator: " ") + "))") }
            case .model(let m):
                out.append("(model \(m.name.name) (\(m.params.map { "\($0.name.name) = \(expr($0.value))" }.joined(separator: ", ")))")
                for s in m.body { out.append("  " + statement(s)) }
                out[out.count - 1] += ")"
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func shape(_ s: ShapeAnnotation) -> String { "[" + s.dims.map(expr).joined(separator: ", ") + "]" }

    static func statement(_ s: Statement) -> String {
        switch s.kind {
        case .input(let n, .vector(let sh, nil)): return "(input \(n.name) \(shape(sh)))"
        case .input(let n, .vector(let sh, .interval(let lo, let hi, _)?)): return "(input \(n.name) \(shape(sh)) (in \(expr(lo)) \(expr(hi))))"
        case .input(let n, .vector(let sh, .set(let values, _)?)): return "(input \(n.name) \(shape(sh)) (in-set \(values.map(expr).joined(separator: " "))))"
        case .input(let n, .ids(let lo, let hi)): return "(input \(n.name) (ids \(expr(lo)) \(expr(hi))))"
        case .output(let e): return "(output \(expr(e)))"
        case .state(let n, let sh, let e): return "(state \(n.name) \(shape(sh)) \(expr(e)))"
        case .param(let items):
            return "(param " + items.map { item in
                "\(item.name.name) \(shape(item.shape))" + (item.key.map { " from \"\($0.name)\"" } ?? "") + (item.initializer.map { " = " + expr($0) } ?? "")
            }.joined(separator: ", ") + ")"
        case .loop(let v, let lo, let hi, let body):
            return "(for \(v.name) \(expr(lo)) \(expr(hi))" + body.map { " " + statement($0) }.joined() + ")"
        case .conditional(let c, let then, let otherwise, _):
            return "(if \(expr(c)) (" + then.map(statement).joined(separator: " ") + ") (" + otherwise.map(statement).joined(separator: " ") + "))"
        case .update(let n, let e): return "(<- \(n.name) \(expr(e)))"
        case .binding(let n, let e): return "(= \(n.name) \(expr(e)))"
        case .destructure(let names, let e): return "(= (" + names.map(\.name).joined(separator: " ") + ") \(expr(e)))"
        case .return(let values): return "(return " + values.map(expr).joined(separator: " ") + ")"
        }
    }

    /// A fully parenthesized S-expression.
    package static func expr(_ e: Expr) -> String {
        switch e.kind {
        case .number(let v): return formatNumber(v)
        case .string(let text): return "\"\(text)\""
        case .name(let n): return n
        case .unary(let op, let x): return "(\(op.rawValue) \(expr(x)))"
        case .binary(let op, let a, let b): return "(\(op.rawValue) \(expr(a)) \(expr(b)))"
        case .compare(let op, let a, let b): return "(\(op.rawValue) \(expr(a)) \(expr(b)))"
        case .logical(let op, let a, let b): return "(\(op.rawValue) \(expr(a)) \(expr(b)))"
        case .conditional(let c, let a, let b): return "(if \(expr(c)) \(expr(a)) \(expr(b)))"
        case .call(let f, let args):
            let parts = args.map { ($0.label.map { "\($0.name): " } ?? "") + expr($0.value) }
            return "(\(f.name)" + parts.map { " " + $0 }.joined() + ")"
        case .index(let base, let subs):
            let parts = subs.map { s -> String in
                switch s {
                case .index(let i): return expr(i)
                case .range(let a, let b): return (a.map(expr) ?? "") + ":" + (b.map(expr) ?? "")
                }
            }
            return "(index \(expr(base)) \(parts.joined(separator: " ")))"
        case .list(let items): return "[" + items.map(expr).joined(separator: " ") + "]"
        case .comprehension(let v, let lo, let hi, let body):
            return "(for \(v.name) \(expr(lo)) \(expr(hi)) \(expr(body)))"
        }
    }

    // MARK: IR

    package static func ir(_ p: IRProgram) -> String {
        var out = ["model \(p.modelName)"]
        for (i, input) in p.inputs.enumerated() { out.append("  input \(i) \(input.signature)") }
        for (i, s) in p.states.enumerated() {
            out.append("  state \(i) \(s.name): [\(s.size)] = \(vector(s.initial))")
        }
        for param in p.params { out.append("  param \(param.name): \(Tensor.describe(param.shape)) from \(param.origin)") }
        for (i, node) in p.nodes.enumerated() {
            out.append("  %\(i): [\(node.size)] = \(op(node.op, p))")
        }
        for (i, s) in p.states.enumerated() { out.append("  state \(i) \(s.name) <- \(s.next)") }
        out.append("  output " + p.outputs.map(\.description).joined(separator: ", "))
        return out.joined(separator: "\n") + "\n"
    }

    static func op(_ op: IROp, _ p: IRProgram) -> String {
        switch op {
        case .input(let i): return "input \(p.inputs[i].name)"
        case .stateRead(let s): return "state_read \(p.states[s].name)"
        case .constant(let v): return "constant \(vector(v))"
        case .affine(let w, let bias, let x):
            let kind = w.isSparse ? "sparse \(w.nonZeroCount) nnz" : "dense"
            let values = w.rows * w.cols <= 16 ? " " + matrix(w) : ""
            return "affine \(x) W[\(w.rows)x\(w.cols), \(kind)]\(values)" + (bias.map { " + \(vector($0))" } ?? "")
        case .elementwise(let op, let xs): return "\(op) " + xs.map(\.description).joined(separator: ", ")
        case .concat(let xs): return "concat " + xs.map(\.description).joined(separator: ", ")
        case .slice(let x, let start): return "slice \(x) from \(start)"
        case .gather(let w, let x): return "gather \(x) W[\(w.rows)x\(w.cols)]" + (w.name.map { " \($0)" } ?? "")
        }
    }

    static func vector(_ v: [Double]) -> String {
        if v.count > 8 { return "[" + v.prefix(8).map { formatNumber($0) }.joined(separator: ", ") + ", ... (\(v.count))]" }
        return "[" + v.map { formatNumber($0) }.joined(separator: ", ") + "]"
    }

    static func matrix(_ w: WeightMatrix) -> String {
        let d = w.denseValues()
        return "[" + (0..<w.rows).map { r in "[" + (0..<w.cols).map { formatNumber(d[r * w.cols + $0]) }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
    }
}
