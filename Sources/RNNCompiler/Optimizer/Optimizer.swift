/// Runs the optimization pipeline: a fixed list of named passes, with the IR verifier
/// between passes on request (`--verify-each`).
public enum Optimizer {
    /// The pipeline, in order. Constant folding exposes affine maps; simplification and
    /// fusion shrink them; CSE and DCE clean up; storage is chosen last.
    package static let pipeline: [Pass] = [
        .constantFolding, .concatSliceSimplification, .affineFusion, .commonSubexpressions,
        .deadCodeElimination, .stateMerging, .concatSliceSimplification, .affineFusion, .deadCodeElimination, .sparsity,
    ]

    /// An optimizer pass that broke the program's invariants (an internal error, not the
    /// user's): what `Compiler.compile` throws when the IR verifier finds one.
    public struct VerificationFailure: Error, CustomStringConvertible {
        /// The pass after which the verifier failed.
        public let pass: String
        /// What the verifier found, one line each.
        public let problems: [String]
        /// The pass and its problems, for an internal-error report.
        public var description: String { "IR verification failed after pass '\(pass)':\n" + problems.joined(separator: "\n") }
    }

    /// Optimizes `program`. `trace` receives one line per pass (`--print-passes`). A program
    /// whose inputs declare their values gets the folds that keep its error bounds
    /// (`PrecisionGuard`); others get every fold but those that scale a computed sum by a
    /// large factor (`Exactness`).
    package static func optimize(_ program: IRProgram, verifyEach: Bool = false, passes: [Pass]? = nil,
                                trace: ((String) -> Void)? = nil) throws(VerificationFailure) -> IRProgram {
        if let passes { return try run(passes, on: program, verifyEach: verifyEach, trace: trace) }
        guard PrecisionGuard.applies(to: program) else { return try run(pipeline, on: program, verifyEach: verifyEach, trace: trace) }
        let guardRail = PrecisionGuard(program)
        for (variant, passes) in PrecisionGuard.variants {
            var lines: [String] = []
            let optimized = try run(passes, on: program, verifyEach: verifyEach, trace: trace.map { _ in { lines.append($0) } })
            if let why = guardRail.loss(in: optimized) {
                trace?("precision: \(variant) refused: \(why)")
                continue
            }
            lines.forEach { trace?($0) }
            trace?("precision: \(variant) keeps every output's error bound")
            return optimized
        }
        trace?("precision: the program runs as elaborated")
        return program
    }

    private static func run(_ passes: [Pass], on program: IRProgram, verifyEach: Bool,
                            trace: ((String) -> Void)?) throws(VerificationFailure) -> IRProgram {
        var p = program
        if verifyEach {
            let problems = IRVerifier.verify(p)
            if !problems.isEmpty { throw VerificationFailure(pass: "(input)", problems: problems) }
        }
        for pass in passes {
            let before = p.nodes.count
            p = pass.run(p)
            trace?("\(pass.name): \(before) -> \(p.nodes.count) nodes")
            if verifyEach {
                let problems = IRVerifier.verify(p)
                if !problems.isEmpty { throw VerificationFailure(pass: pass.name, problems: problems) }
            }
        }
        return p
    }
}
