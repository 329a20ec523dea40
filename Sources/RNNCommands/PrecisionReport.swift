import Foundation
import RNNCompiler

/// `rnnc check --precision`: per output, the exact values' range and the error bound in
/// Float32 and Float64 with the ops whose roundings make it up; then the places where a
/// sum loses a small operand beside a large one.
enum PrecisionReport {
    /// A bound above this fraction of an output's largest magnitude is marked imprecise.
    static let imprecise = 1e-3

    static func lines(_ ir: IRProgram, _ results: [PrecisionAnalysis.Result]) -> [String] {
        guard let first = results.first else { return [] }
        let declared = ir.inputs.compactMap { i in i.declaredValues.map { "\(i.name) \($0)" } }
        let undeclared = ir.inputs.filter { $0.declaredValues == nil }.map(\.name)
        var lines = ["precision of the step program, against exact arithmetic on its constants:"]
        lines.append("  inputs: " + (declared.isEmpty ? "none declared" : declared.joined(separator: ", "))
                     + (undeclared.isEmpty ? "" : "; any value for " + undeclared.joined(separator: ", ") + " (declare it: input x: [n] in [lo, hi])"))
        let when = first.everyStep ? "every step" : "the first \(first.stepsAnalysed) steps (a state's range still grows there; --steps N checks more)"
        lines.append("  bounds hold for \(when); \(first.cases) input case\(first.cases == 1 ? "" : "s")")
        var offset = 0
        for (k, id) in ir.outputs.enumerated() {
            let node = ir[id]
            let lanes = offset..<(offset + node.size)
            offset += node.size
            let lo = lanes.map { first.outputs[$0].lo }.min()!, hi = lanes.map { first.outputs[$0].hi }.max()!
            let place = (k < ir.outputRanges.count ? ir.outputRanges[k] : node.range).map { " at \(position($0))" } ?? ""
            lines.append("  output \(k + 1) [\(node.size)]\(place): exact values in [\(number(lo)), \(number(hi))]")
            for r in results { lines.append("    \(r.precision.rawValue): " + bound(r, lanes: lanes, ir: ir)) }
        }
        for r in results where !r.absorptions.isEmpty {
            lines.append("  \(r.precision.rawValue): operands lost beside larger ones:")
            for a in r.absorptions.prefix(10) {
                let spacing = r.precision.spacing(at: a.large)
                lines.append("    \(describe(a.node, ir)): a term of magnitude \(number(a.small)) beside one of \(number(a.large)) (numbers are \(number(spacing)) apart there)")
            }
            if r.absorptions.count > 10 { lines.append("    and \(r.absorptions.count - 10) more") }
        }
        if RecurrenceAnalysis.analyze(ir).contains(where: { [.affine, .diagonal].contains($0.kind) }) {
            lines.append("  (the scan program reorders linear recurrences: these bounds are for step mode)")
        }
        return lines
    }

    /// The worst element's bound, relative to the output's magnitude, and what makes it up.
    private static func bound(_ r: PrecisionAnalysis.Result, lanes: Range<Int>, ir: IRProgram) -> String {
        let worst = lanes.max { r.outputs[$0].error < r.outputs[$1].error }!
        let b = r.outputs[worst]
        if b.error == 0 { return "exact" }
        let magnitude = lanes.map { max(abs(r.outputs[$0].lo), abs(r.outputs[$0].hi)) }.max()!
        guard b.error.isFinite else { return "imprecise: unbounded" + (magnitude.isFinite ? "" : " (an input or state has no bound)") }
        let relative = magnitude > 0 ? b.error / magnitude : .infinity
        var text = (relative > imprecise ? "imprecise: " : "") + "error <= \(number(b.error))"
        if magnitude > 0 { text += " (\(number(relative)) of the largest value)" }
        // Nodes made from one source expression count together.
        var shares: [(String, Double)] = []
        for s in b.sources {
            let place = describe(s.node, ir)
            if let i = shares.firstIndex(where: { $0.0 == place }) { shares[i].1 += s.amount } else { shares.append((place, s.amount)) }
        }
        let named = shares.filter { $0.1 >= 0.05 * b.error }.sorted { $0.1 > $1.1 }
        if !named.isEmpty {
            text += ", from " + named.map { "\($0.0) \(Int(($0.1 / b.error * 100).rounded()))%" }.joined(separator: ", ")
        }
        return text
    }

    /// `relu at model.rnn:4:5`; a negative node is a state's initial value.
    private static func describe(_ node: Int, _ ir: IRProgram) -> String {
        if node < 0 { return "the initial value of state \(ir.states[-1 - node].name)" }
        let n = ir.nodes[node]
        let what: String
        switch n.op {
        case .affine: what = "affine map"
        case .elementwise(let op, _): what = op.kind == .add ? "sum" : (op.kind == .mul ? "product" : op.name)
        case .constant: what = "constant"
        case .gather: what = "lookup"
        default: what = "value"
        }
        return what + (n.range.map { " at \(position($0))" } ?? "")
    }

    /// `model.rnn:3:5`; a standard library file as `stdlib/cells/gru.rnn:16:8`.
    private static func position(_ r: SourceRange) -> String {
        let path = r.file.path
        let name = path.range(of: "/stdlib/", options: .backwards).map { "stdlib/" + path[$0.upperBound...] }
            ?? (path as NSString).lastPathComponent
        return "\(name):\(r.line):\(r.column)"
    }

    static func number(_ x: Double) -> String {
        if !x.isFinite { return x < 0 ? "-inf" : "inf" }
        if x == x.rounded(), abs(x) < 1e7 { return String(Int(x)) }
        return String(format: "%.3g", x)
    }
}
