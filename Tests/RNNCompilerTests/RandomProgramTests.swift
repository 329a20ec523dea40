import Foundation
@testable import RNNCompiler
import RNNOps
@testable import RNNRuntime
import Testing

/// Generates well-formed random models as source text: inputs (vectors and token ids),
/// states (vectors and matrices) updated once, bindings over affine maps and table lookups,
/// every op of the op table, gates, slices, concatenations, outer products and products of
/// matrix states with vectors.
struct RandomProgramGenerator {
    var rng: SplitMix64
    var values: [(name: String, size: Int)] = []
    /// The matrix states: their reads are drawn in expressions as `S @ v`, `v @ S`, `S[i]`.
    var matrices: [(name: String, rows: Int, cols: Int)] = []
    /// Matrix states read only by queries, as `q @ S` (1) or `S @ q` (2): the scan program
    /// runs those chunkwise when their update is an outer product with a decay.
    var queryOnly: [String: Int] = [:]
    /// The last model's token inputs and their vocabulary sizes.
    var tokenInputs: [(name: String, vocabulary: Int)] = []
    /// The last model's inputs in order: a vector's size, or a token input's vocabulary.
    var inputLayout: [(size: Int, vocabulary: Int?)] = []
    var lines: [String] = []
    var counter = 0

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }

    mutating func expression(size m: Int, depth: Int) -> String {
        let m = min(m, 64)
        let candidates = values.filter { $0.size == m }
        let choice = depth <= 0 ? (candidates.isEmpty ? 1 : 0) : int(0...8)
        switch choice {
        case 8 where !matrices.isEmpty:
            let (name, rows, cols) = matrices[int(0...(matrices.count - 1))]
            if let only = queryOnly[name] {
                if only == 1, cols == m { return "((\(expression(size: rows, depth: depth - 1))) @ \(name))" }
                if only == 2, rows == m { return "(\(name) @ (\(expression(size: cols, depth: depth - 1))))" }
                return "relu(\(expression(size: m, depth: depth - 1)))"
            }
            switch int(0...3) {
            case 0 where rows == m: return "(\(name) @ (\(expression(size: cols, depth: depth - 1))))"
            case 1 where cols == m: return "((\(expression(size: rows, depth: depth - 1))) @ \(name))"
            case 2 where cols == m: return "\(name)[\(int(0...(rows - 1)))]"
            case 3 where rows == m: return "\(name)[:, \(int(0...(cols - 1)))]"
            default: return "(sum(\(name)) * \(1 / Double(rows * cols)) * \(expression(size: m, depth: depth - 1)))"  // the mean
            }
        case 0 where !candidates.isEmpty:
            return candidates[int(0...(candidates.count - 1))].name
        case 2:
            return elementwise(size: m, depth: depth - 1)
        case 3:
            return "(\(expression(size: m, depth: depth - 1)) + \(expression(size: m, depth: depth - 1)))"
        case 4:
            return "(\(expression(size: m, depth: depth - 1)) * tanh(\(expression(size: m, depth: depth - 1))))"
        case 5:
            let wider = values.filter { $0.size > m }
            if let v = wider.first {
                let start = int(0...(v.size - m))
                return "\(v.name)[\(start):\(start + m)]"
            }
            return "relu(\(expression(size: m, depth: depth - 1)))"
        case 6 where m >= 2:
            let k = int(1...(m - 1))
            return "[\(expression(size: k, depth: depth - 1)), \(expression(size: m - k, depth: depth - 1))]"
        case 7 where !tokenInputs.isEmpty:
            let (name, vocabulary) = tokenInputs[int(0...(tokenInputs.count - 1))]
            return "normal(\(vocabulary + int(0...1)), \(m), seed: \(int(0...1000)))[\(name)]"
        default:
            let source = values[int(0...(values.count - 1))]
            let bias = int(0...1) == 1 ? " + \(Double(int(-4...4)) / 4)" : ""
            return "normal(\(m), \(source.size), seed: \(int(0...1000)), std: \(0.8 / Double(source.size).squareRoot())) @ \(source.name)\(bias)"
        }
    }

    /// An op of the op table that a source calls by name, drawn uniformly, with random
    /// attributes; operands of ops with a restricted domain or a fast growth are kept in
    /// range (log, sqrt and reciprocal of values in (0.5, 1.5); exp of values in (-1, 1)).
    mutating func elementwise(size m: Int, depth: Int) -> String {
        let kinds = ElementwiseKind.allCases.filter(\.entry.callable)
        let kind = kinds[int(0...(kinds.count - 1))]
        var operands = (0..<kind.entry.arity).map { _ in expression(size: m, depth: depth) }
        switch kind {
        case .log, .sqrt, .reciprocal: operands = operands.map { "(sigmoid(\($0)) + 0.5)" }
        case .exp: operands = operands.map { "tanh(\($0))" }
        default: break
        }
        var attributes: [String] = []
        switch kind {
        case .hardtanh:
            let low = Double(int(-8...0)) / 4
            attributes = ["min: \(low)", "max: \(low + Double(int(0...8)) / 4)"]
        case .leakyRelu: attributes = int(0...1) == 0 ? [] : ["\(Double(int(-4...4)) / 8)"]
        case .elu: attributes = int(0...1) == 0 ? [] : ["alpha: \(Double(int(0...8)) / 4)"]
        default: break
        }
        return "\(kind.name)(" + (operands + attributes).joined(separator: ", ") + ")"
    }

    mutating func fresh() -> String {
        counter += 1
        return "v\(counter)"
    }

    /// The widest vector a program uses: small for most programs, up to 64 for a few.
    var maxDim = 6

    /// One random token for the last model: a valid id for each token input, Gaussian values
    /// for the vector inputs.
    mutating func token() -> [Double] {
        var token: [Double] = []
        for (size, vocabulary) in inputLayout {
            if let vocabulary { token.append(Double(int(0...(vocabulary - 1)))) } else { for _ in 0..<size { token.append(rng.nextGaussian()) } }
        }
        return token
    }

    /// An expression of the inputs alone (so it cannot depend on any state).
    mutating func inputExpression(size m: Int, inputs: [(name: String, size: Int)]) -> String {
        let (saved, savedMatrices) = (values, matrices)
        (values, matrices) = (inputs, [])
        defer { (values, matrices) = (saved, savedMatrices) }
        return expression(size: m, depth: 2)
    }

    /// A model, its input width, and the recurrence class each state was written to have.
    mutating func model() -> (source: String, width: Int, classes: [Int: RecurrenceClass]) {
        maxDim = int(0...32) == 0 ? 64 : 6
        var inputs = (0..<int(1...2)).map { ("x\($0)", int(1...maxDim)) }
        lines = inputs.map { "  input \($0.0): [\($0.1)]" }
        inputLayout = inputs.map { ($0.1, nil) }
        tokenInputs = []
        if int(0...2) == 0 {
            let vocabulary = int(1...9)
            tokenInputs = [("t0", vocabulary)]
            inputs.insert(("t0", 1), at: 0)
            inputLayout.insert((1, vocabulary), at: 0)
            lines.insert("  input t0: 0..<\(vocabulary)", at: 0)
        }
        values = inputs
        let states = (0..<int(0...3)).map { ("s\($0)", int(1...maxDim)) }
        for (name, size) in states {
            lines.append("  state \(name): [\(size)] = \(Double(int(-2...2)) / 2)")
            values.append((name, size))
        }
        matrices = int(0...2) == 0 ? (0..<int(1...2)).map { ("s\(states.count + $0)", int(1...maxDim), int(1...maxDim)) } : []
        queryOnly = [:]
        for (name, _, _) in matrices where int(0...1) == 0 { queryOnly[name] = int(1...2) }
        for (name, rows, cols) in matrices {
            lines.append("  state \(name): [\(rows), \(cols)] = \(Double(int(-2...2)) / 2)")
        }
        var pendingMatrixUpdates = matrices
        var classes: [Int: RecurrenceClass] = [:]
        var pendingUpdates = states.shuffled(using: &rng)
        func update(_ name: String, _ size: Int) {
            let index = Int(name.dropFirst())!
            switch int(0...4) {
            case 0:
                classes[index] = .nonlinear
                lines.append("  \(name) <- tanh(\(expression(size: size, depth: 2)))")
            case 1:
                classes[index] = .diagonal
                lines.append("  \(name) <- sigmoid(\(inputExpression(size: size, inputs: inputs))) * \(name) + \(inputExpression(size: size, inputs: inputs))")
            case 2:
                classes[index] = .affine
                lines.append("  \(name) <- normal(\(size), \(size), seed: \(int(0...99)), std: \(0.5 / Double(size).squareRoot())) @ \(name) + \(inputExpression(size: size, inputs: inputs))")
            case 3:
                classes[index] = .affine
                lines.append("  \(name) <- 0.9 * \(name) + tanh(\(inputExpression(size: size, inputs: inputs)))")
            default:  // a shift register: the last `size` values of the state and a new one
                classes[index] = .affine
                let m = int(1...size)
                lines.append("  \(name) <- [\(name), \(inputExpression(size: m, inputs: inputs))][\(m):\(m + size)]")
            }
        }
        func updateMatrix(_ name: String, _ rows: Int, _ cols: Int) {
            let index = Int(name.dropFirst())!
            let written = "outer(\(inputExpression(size: rows, inputs: inputs)), \(inputExpression(size: cols, inputs: inputs)))"
            // A state read only by queries mostly gets a decay along its keys (a chunked scan).
            let chunkable = [1: [1, 3], 2: [2, 3]][queryOnly[name] ?? 0].map { $0[int(0...1)] }
            switch chunkable != nil && int(0...3) > 0 ? chunkable! : int(0...4) {
            case 0:
                classes[index] = .nonlinear
                lines.append("  \(name) <- tanh(\(name) + outer(\(expression(size: rows, depth: 1)), \(expression(size: cols, depth: 1))))")
            case 1:  // rows decayed by a gate
                classes[index] = .diagonal
                lines.append("  \(name) <- transpose(sigmoid(\(inputExpression(size: rows, inputs: inputs)))) * \(name) + \(written)")
            case 2:  // columns decayed by a gate
                classes[index] = .diagonal
                lines.append("  \(name) <- sigmoid(\(inputExpression(size: cols, inputs: inputs))) * \(name) + \(written)")
            case 3:
                classes[index] = .affine
                lines.append("  \(name) <- 0.9 * \(name) + \(written)")
            default:  // the delta rule: a transition I - beta k k^T that depends on the input
                classes[index] = .linear
                // |k| <= 1 and beta = 1/2 keep the transition a contraction.
                let key = "(tanh(\(inputExpression(size: rows, inputs: inputs))) * \(1 / Double(rows).squareRoot()))"
                lines.append("  \(name) <- \(name) + outer(\(key), 0.5 * (\(inputExpression(size: cols, inputs: inputs)) - \(key) @ \(name)))")
            }
        }
        for _ in 0..<int(1...6) {
            if !pendingUpdates.isEmpty, int(0...2) == 0 {
                let (name, size) = pendingUpdates.removeLast()
                update(name, size)
            }
            if !pendingMatrixUpdates.isEmpty, int(0...2) == 0 {
                let (name, rows, cols) = pendingMatrixUpdates.removeLast()
                updateMatrix(name, rows, cols)
            }
            let m = int(1...maxDim)
            let name = fresh()
            lines.append("  \(name) = \(expression(size: m, depth: 3))")
            values.append((name, m))
        }
        for (name, size) in pendingUpdates { update(name, size) }
        for (name, rows, cols) in pendingMatrixUpdates { updateMatrix(name, rows, cols) }
        var outs = (0..<int(1...2)).map { _ in values[int(0...(values.count - 1))].name }
        if let (name, _, _) = matrices.first, queryOnly[name] == nil, int(0...1) == 0 { outs.append("flatten(\(name))") }
        for (name, rows, cols) in matrices {
            switch queryOnly[name] {
            case 1: outs.append("(\(inputExpression(size: rows, inputs: inputs))) @ \(name)")
            case 2: outs.append("\(name) @ (\(inputExpression(size: cols, inputs: inputs)))")
            default: break
            }
        }
        lines.append("  output [\(outs.joined(separator: ", "))]")
        return ("model Random {\n" + lines.joined(separator: "\n") + "\n}\n", inputs.reduce(0) { $0 + $1.1 }, classes)
    }
}


@Suite struct RandomProgramTests {
    /// Step programs (Float64 and Float32) agree with the reference interpreter.
    @Test func stepProgramMatchesInterpreter() throws {
        let base = UInt64(ProcessInfo.processInfo.environment["RNNC_TEST_SEED"] ?? "") ?? 20261121
        var classesSeen = Set<String>()
        var matrixClassesSeen: [RecurrenceClass: Int] = [:]
        var planKinds = Set<ScanPlan.Recurrence.Kind>()
        var opsSeen = Set<ElementwiseKind>()
        var outputOnlyPrograms = 0
        var gathers = 0
        var sequentialRuns = 0
        var splitOps = 0
        var chunkedPlans = 0
        // Every sequential recurrence split over two cores, whatever its size.
        let split = ScanRunner<Double>.Workspace(threads: 2)
        split.minimumSplitWork = 0
        split.waitsForTeam = true
        for k in 0..<1000 {
            let seed = base &+ UInt64(k)
            var gen = RandomProgramGenerator(seed: seed)
            let (source, _, classes) = gen.model()
            let r = compile(source)
            let ir = try #require(r.ir, "seed \(seed): generated program does not compile:\n\(source)\n\(r.diagnostics)")
            // A state written to be scan-able must be classified so (others may be coupled or
            // simplified into a scan-able class too).
            let analysis = RecurrenceAnalysis.analyze(ir)
            for (k, want) in classes where want != .nonlinear {
                if let group = analysis.first(where: { $0.states.contains(k) }), group.states.count == 1 {
                    // A delta rule over one row is diagonal: (1 - k^2 / 2) s.
                    let simpler: [RecurrenceClass] = want == .linear ? [.diagonal, .affine] : [.affine]
                    #expect(group.kind == want || simpler.contains(group.kind), "seed \(seed): state s\(k) is \(group.kind.rawValue), expected \(want.rawValue)")
                }
            }
            for g in analysis { classesSeen.insert(g.kind.rawValue) }
            for g in analysis where g.states.contains(where: { ir.states[$0].matrixShape != nil }) { matrixClassesSeen[g.kind, default: 0] += 1 }
            for case .elementwise(let op, _) in ir.nodes.map(\.op) { opsSeen.insert(op.kind) }
            gathers += ir.nodes.filter { if case .gather = $0.op { true } else { false } }.count
            let steps = gen.maxDim > 6 ? gen.int(1...300) : gen.int(0...40)
            let tokens = (0..<steps).map { _ in gen.token() }
            let want = interpret(ir, tokens)
            let program = StepLowering.lower(ir)
            let got64 = try StepSession<Double>(program: program).run(tokens)
            #expect(close(got64, want, tolerance: 1e-12), "seed \(seed) (replay: RNNC_TEST_SEED=\(seed)):\n\(source)")
            let got32 = try StepSession<Float>(program: program).run(doubles: tokens)
            #expect(close(got32, want, tolerance: 1e-4), "seed \(seed) float32:\n\(source)")
            // Every element-wise op and sparse product split over the cores (a step session
            // splits those of 16k values and more).
            let splitSession = try StepSession<Double>(program: program)
            (splitSession.minimumSplitValues, splitSession.waitsForTeam) = (0, true)
            #expect(close(try splitSession.run(tokens), want, tolerance: 1e-12), "seed \(seed) split step:\n\(source)")
            splitOps += splitSession.splitRuns
            for optimized in [ir, try Optimizer.optimize(ir, verifyEach: true)] {
                let (scanProgram, plan) = ScanLowering.lower(optimized)
                for case .recurrence(let r) in plan.stages {
                    planKinds.insert(r.kind)
                    if r.kind == .sequential { sequentialRuns += 2 }  // alone and in lockstep, split
                }
                var probe = SplitMix64(seed: seed)
                #expect(throws: Never.self, "seed \(seed): a compiled plan fails the agreement check") {
                    try plan.checkAgreement(with: scanProgram, using: &probe)
                }
                let scan64 = try ScanRunner<Double>(program: scanProgram, plan: plan).run(tokens)
                #expect(close(scan64, want, tolerance: 1e-9), "seed \(seed) scan (replay: RNNC_TEST_SEED=\(seed)):\n\(source)")
                if plan.stages.contains(where: { if case .recurrence(let r) = $0 { r.kind == .chunked } else { false } }) {
                    chunkedPlans += 1
                    try checkSmallChunks(plan, scanProgram, tokens, want: want, seed: seed, source: source)
                }
                let scan32 = try ScanRunner<Float>(program: scanProgram, plan: plan).run(doubles: tokens)
                #expect(close(scan32, want, tolerance: 1e-3), "seed \(seed) scan float32:\n\(source)")
                let runner = try ScanRunner<Double>(program: scanProgram, plan: plan)
                #expect(close(try runner.run(tokens, workspace: split), scan64, tolerance: 1e-12), "seed \(seed) split steps")
                // In lockstep with two other sequences (and split), each sequence gives what it gives alone.
                let others = (0..<2).map { _ in (0..<steps).map { _ in gen.token() } }
                let together = try runner.run(batch: [tokens] + others, workspace: split)
                #expect(close(together[0], scan64, tolerance: 1e-12), "seed \(seed) lockstep")
                for (k, other) in others.enumerated() {
                    #expect(close(together[k + 1], try runner.run(other), tolerance: 1e-12), "seed \(seed) lockstep \(k)")
                }
                // From other states, the scan program hands back the states the step program reaches.
                let starts = (0..<2).map { _ in scanProgram.states.map { s in (0..<scanProgram.slotSizes[s.slot]).map { _ in gen.rng.nextGaussian() } } }
                let kept = try runner.runKeepingStates(batch: [tokens, others[0]], from: starts, workspace: split)
                for (k, sequence) in [tokens, others[0]].enumerated() {
                    let session = try StepSession<Double>(program: scanProgram)
                    try session.setStates(starts[k])
                    let stepped = try sequence.map { try session.step($0) }
                    #expect(close(kept.outputs[k], stepped, tolerance: 1e-9), "seed \(seed): outputs from given states (replay: RNNC_TEST_SEED=\(seed))")
                    #expect(close(kept.states[k], session.stateValues(), tolerance: 1e-9), "seed \(seed): final states (replay: RNNC_TEST_SEED=\(seed))\n\(source)")
                }
                // Run to the end (the instructions feeding only outputs skipped), the last
                // outputs and the final states are those of the full run.
                if scanProgram.feedsStates.contains(false) { outputOnlyPrograms += 1 }
                let end = steps > 0 ? try runner.runToEnd(batch: [tokens, others[0]], from: starts, workspace: split) : nil
                for k in 0..<2 where steps > 0 {
                    let end = end!
                    #expect(close([end.lastOutputs[k]], [kept.outputs[k].last!], tolerance: 1e-12), "seed \(seed): last outputs of a run to the end")
                    #expect(close(end.states[k], kept.states[k], tolerance: 1e-12), "seed \(seed): states after a run to the end")
                }
            }
            // The artifact round trip runs the same program.
            let model = ScanLowering.lowerModel(ir)
            let loaded = try Artifact.decode(Artifact.encode(model), path: "mem.rnnc")
            #expect(loaded == model, "seed \(seed)")
        }
        #expect(classesSeen == Set(RecurrenceClass.allCases.map(\.rawValue)))
        for kind in RecurrenceClass.allCases {
            #expect(matrixClassesSeen[kind, default: 0] > 20, "matrix states of each class: \(matrixClassesSeen)")
        }
        #expect(outputOnlyPrograms > 100, "only \(outputOnlyPrograms) programs with instructions that feed only outputs")
        #expect(gathers > 100, "only \(gathers) table lookups drawn")
        #expect(opsSeen == Set(ElementwiseKind.allCases), "ops never drawn: \(Set(ElementwiseKind.allCases).subtracting(opsSeen))")
        #expect(planKinds.isSuperset(of: [.diagonal, .modal, .sequential, .delay, .chunked]), "\(planKinds)")
        #expect(chunkedPlans > 20, "only \(chunkedPlans) plans with a chunked recurrence")
        // Cycles without a product, or whose schedule cannot be split, run whole.
        #expect(Parallel.cores < 2 || split.splitRecurrences * 2 > sequentialRuns, "\(split.splitRecurrences) of \(sequentialRuns) sequential recurrences ran split")
        #expect(Parallel.cores < 2 || splitOps > 0, "no step ran an op split over the cores")
    }

    /// A plan's chunked recurrences with chunks of 1 to 5 tokens (several chunks even in a
    /// short sequence) compute the reference's outputs and final states.
    func checkSmallChunks(_ plan: ScanPlan, _ program: StepProgram, _ tokens: [[Double]], want: [[Double]], seed: UInt64, source: String) throws {
        var small = plan
        let size = 1 + Int(seed % 5)
        small.stages = plan.stages.map { stage in
            guard case .recurrence(var r) = stage, r.chunked != nil else { return stage }
            r.chunked!.chunkSize = size
            return .recurrence(r)
        }
        let runner = try ScanRunner<Double>(program: program, plan: small)
        #expect(close(try runner.run(tokens), want, tolerance: 1e-9), "seed \(seed): chunks of \(size) (replay: RNNC_TEST_SEED=\(seed)):\n\(source)")
        guard !tokens.isEmpty else { return }
        let kept = try runner.runKeepingStates(batch: [tokens])
        let session = try StepSession<Double>(program: program)
        _ = try tokens.map { try session.step($0) }
        #expect(close(kept.states[0], session.stateValues(), tolerance: 1e-9), "seed \(seed): final states with chunks of \(size)")
    }

    /// Mutated versions of the examples never crash the compiler, and every rejection is located.
    @Test func mutatedSourcesGetLocatedDiagnostics() throws {
        var rng = SplitMix64(seed: 99)
        let sources = try ExamplesTests.names.map { try String(contentsOfFile: "\(repoRoot)/examples/\($0).rnn", encoding: .utf8) }
        let tokens = ["(", ")", "[", "]", "{", "}", ",", "=", "<-", "@", "*", "state", "x", "0", "1e400", "..<", ":", "#", "\"", "-"]
        for k in 0..<400 {
            var bytes = Array(sources[k % sources.count].utf8)
            for _ in 0..<Int(1 + rng.next() % 4) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(contentsOf: Array(tokens[Int(rng.next() % UInt64(tokens.count))].utf8), at: at)
                default: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            let compiler = Compiler(stdlibPath: stdlibPath)
            let ir = compiler.compileToIR(SourceFile(path: "mutant.rnn", bytes: bytes))
            if ir == nil {
                #expect(compiler.diagnostics.hasErrors)
                for d in compiler.diagnostics.diagnostics where d.code != .modelSelection && d.code != .extraWeight {
                    #expect(d.range != nil, "unlocated: \(d)")
                }
            }
        }
    }
}
