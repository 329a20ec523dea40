/// Runs the optimization pipeline: a fixed list of named passes, with the IR verifier
/// between passes on request (`--verify-each`).
public enum Optimizer {
    /// The pipeline, in order. Constant folding exposes affine maps; simplification and
    /// fusion shrink them; CSE and DCE clean up; storage is chosen last.
    public static let pipeline: [Pass] = [
        .constantFolding, .concatSliceSimplification, .affineFusion, .commonSubexpressions,
        .deadCodeElimination, .stateMerging, .concatSliceSimplification, .affineFusion, .deadCodeElimination, .sparsity,
    ]

    public struct VerificationFailure: Error, CustomStringConvertible {
        public let pass: String
        public let problems: [String]
        public var description: String { "IR verification failed after pass '\(pass)':\n" + problems.joined(separator: "\n") }
    }

    /// Optimizes `program`. `trace` receives one line per pass (`--print-passes`).
    public static func optimize(_ program: IRProgram, verifyEach: Bool = false, passes: [Pass] = pipeline,
                                trace: ((String) -> Void)? = nil) throws(VerificationFailure) -> IRProgram {
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
