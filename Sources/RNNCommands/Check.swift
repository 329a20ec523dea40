import ArgumentParser
import RNNCompiler
import RNNRuntime

extension RNNCommand {
    /// `rnnc check FILE`: diagnostics only.
    package struct Check: ParsableCommand {
        package static let configuration = CommandConfiguration(
            abstract: "Check a .rnn file: parse, resolve names and imports, check shapes and states.",
            discussion: "Prints every diagnostic; on success prints a summary of the model: inputs, output width, params, and every state with the class of its recurrence (affine time-invariant, diagonal time-varying, linear time-varying or nonlinear) and why.")

        @Argument(help: "The .rnn source file.")
        package var file: String

        @OptionGroup package var compile: CompileOptions

        @Flag(help: "Bound each output's rounding error in Float32 and Float64 over the inputs' declared values (input x: [n] in [lo, hi] or in {a, b}), for the step program as compiled, and name the ops that dominate each bound and the sums that lose small operands.")
        package var precision = false

        @Option(help: "With --precision: the steps analysed one by one, 1000 unless given, before bounds are given for them only (a program whose states stay bounded gets bounds for every step sooner).")
        package var steps: Int?

        package init() {}

        package func run() throws {
            if steps != nil && !precision { throw ValidationError("--steps applies only with --precision") }
            let compiled = try compile.compileModel(file)
            let ir = compiled.ir
            var lines = ["model \(ir.modelName): ok"]
            lines.append("  inputs:  " + ir.inputs.map { $0.signature + ($0.domain.map { " \($0)" } ?? "") }.joined(separator: ", "))
            lines.append("  output:  [\(ir.outputWidth)]")
            // One evaluation of the program serves every matrix state's probes.
            lazy var sample = ProbeSample(ir)
            let matrixPlans = matrixStatePlans(compiled.model)
            for group in RecurrenceAnalysis.analyze(ir) {
                for s in group.states {
                    let state = ir.states[s]
                    lines.append("  state \(state.name): \(Tensor.describe(state.shape)) \(group.kind.rawValue): \(group.reason)")
                    if group.states.count == 1, state.matrixShape != nil, let transition = MatrixTransition.classify(sample, state: s, kind: group.kind) {
                        lines.append("    transition: \(transition)")
                    }
                    if let plan = matrixPlans[state.name] { lines.append("    scan: " + plan) }
                }
                if let scan = scanNote(group, ir) { lines.append("    scan: " + scan) }
            }
            for p in ir.params { lines.append("  param \(p.name): \(p.shape.map(String.init).joined(separator: "x")) (\(p.origin))") }
            lines.append("  ir nodes: \(ir.nodes.count)")
            if precision {
                let steps = steps ?? 1000
                guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
                let analysis = PrecisionAnalysis(program: compiled.optimized, options: .init(steps: steps))
                lines += PrecisionReport.lines(compiled.optimized, RunPrecision.allCases.map(analysis.run))
            }
            Console.out(lines.joined(separator: "\n") + "\n")
        }

        /// How the scan program runs each matrix state, by name: chunkwise, or by a plan that
        /// stores every token's state (and what chunkwise would need).
        private func matrixStatePlans(_ model: Artifact.Model) -> [String: String] {
            var plans: [String: String] = [:]
            for case .recurrence(let r) in model.plan.stages {
                for s in r.states where model.program.states[s].matrixShape != nil {
                    if let c = r.chunked {
                        plans[model.program.states[s].name] = "chunkwise, chunks of \(c.chunkSize) tokens" + (c.delta != nil ? " (the delta rule by the UT transform)" : "")
                    } else {
                        plans[model.program.states[s].name] = (r.kind == .sequential ? "token by token" : "\(r.kind.rawValue) scan")
                            + ", every token's state stored (chunkwise needs d * S + outer(k, v) or the delta rule, read only as q @ S or S @ q)"
                    }
                }
            }
            return plans
        }

        /// How the scan program runs a dense affine group: diagonalized, or why not.
        private func scanNote(_ group: StateRecurrence, _ ir: IRProgram) -> String? {
            guard group.kind == .affine, !group.diagonalA, group.transition!.contains(where: { !$0.isEmpty }) else { return nil }
            let width = group.states.reduce(0) { $0 + ir.states[$1].size }
            switch ScanLowering.modalForm(group, width: width) {
            case .success(let f):
                let pairs = f.imaginary.filter { $0 > 0 }.count
                return "diagonalized (\(width - 2 * pairs) real modes, \(pairs) complex pairs, eigenvector condition \(ModalDecomposition.formatted(f.condition)))"
            case .failure(let why):
                return "matrix recurrence: \(why)"
            }
        }
    }
}
