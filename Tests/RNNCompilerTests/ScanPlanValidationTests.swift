import Testing
@testable import RNNCompiler
@testable import RNNRuntime

/// The compiler writes into the plan which rows each recurrence fills; the runtime trusts
/// none of it. Each fact broken in a compiled plan would make the runner read rows nothing
/// wrote (its buffers are not zeroed), so `ScanPlan.validate` must reject every one.
@Suite struct ScanPlanValidationTests {
    /// Ways to break one recurrence so that some row read later is never written.
    static func breakages(_ r: ScanPlan.Recurrence, _ program: StepProgram) -> [(String, ScanPlan.Recurrence)] {
        var result: [(String, ScanPlan.Recurrence)] = []
        func broken(_ name: String, _ change: (inout ScanPlan.Recurrence) -> Void) {
            var copy = r
            change(&copy)
            result.append((name, copy))
        }
        if let c = r.chunked {
            // A chunked stage runs none of its cycle's instructions: it must name what it reads.
            broken("no outer-product form") { $0.chunked = nil }
            broken("a key read from the cycle") { $0.chunked!.keys = [.init(slot: r.nextSlots[0])] }
            broken("a readout into an input") { $0.chunked!.readouts[0].output = program.inputSlots[0] }
            broken("no readouts") { $0.chunked!.readouts = [] }
            broken("chunks of no tokens") { $0.chunked!.chunkSize = 0 }
            broken("a constant decay that does not exist") { $0.chunked!.constantDecay = program.vectors.count }
            if c.readouts.count == 1 { broken("one readout twice") { $0.chunked!.readouts.append(c.readouts[0]) } }
            if c.delta != nil {
                broken("a gain that is a vector") { $0.chunked!.delta!.gain = [.init(slot: c.keys[0].slot)] }
                broken("a decay per key") { $0.chunked!.decay = [.init(slot: c.keys[0].slot)] }
            }
            return result
        }
        broken("a cycle instruction left out") { $0.instructions.removeFirst() }
        if !r.recompute.isEmpty { broken("no recompute") { $0.recompute = [] } }
        if r.kind == .delay {
            broken("no powers") { $0.powers = [] }
            broken("too many powers (the agreement check's probe grows with them)") {
                $0.powers = Array(repeating: $0.powers[0], count: ScanPlan.Recurrence.maxPowers + 1)
            }
        }
        if let d = r.direct {
            if d.writesState { broken("state rows unwritten") { $0.direct!.writesState = false } }
            if d.writesNext { broken("next rows unwritten") { $0.direct!.writesNext = false } }
            if d.product != nil { broken("product unwritten") { $0.direct!.product = nil } }
        }
        let stateSlots = Set(r.states.map { program.states[$0].slot })
        if r.kind != .sequential, r.direct == nil, !Set(r.nextSlots).isSubset(of: stateSlots) {
            broken("no offset pass") { $0.offsets = [] }
        }
        let cycleSlots = r.instructions.map { program.instructions[$0].destination }
        for (k, step) in r.coefficients.enumerated() {
            if case .scale(let d, let c, _) = step, let inside = cycleSlots.first {
                broken("scale by a cycle value") { $0.coefficients[k] = .scale(dst: d, coefficient: c, by: inside) }
            }
        }
        let cycleOutputs = cycleSlots.filter(program.outputSlots.contains)
        if r.kind == .sequential, !cycleOutputs.isEmpty { broken("an output local") { $0.localSlots += cycleOutputs } }
        return result
    }

    /// Matrix states the scan program runs chunkwise: a decay per row read after the update;
    /// a constant decay, keys along columns, read before the update.
    static let chunkedPrograms = [
        "model M {\n  input x: [7]\n  state S: [2, 3] = 0.5\n  S <- transpose(sigmoid(x[0:2])) * S + outer(x[2:4], x[4:7])\n  output x[0:2] @ S\n}",
        "model M {\n  input x: [5]\n  state S: [3, 2] = 0.5\n  y = S @ x[0:2]\n  S <- 0.9 * S + outer(x[2:5], x[0:2])\n  output y\n}",
        // The gated delta rule.
        "model M {\n  input x: [6]\n  state S: [3, 2] = 0.5\n  k = tanh(x[0:3]) * 0.5\n  D = sigmoid(x[5]) * S\n  S <- D + outer(k, sigmoid(x[4]) * (x[3:5] - k @ D))\n  output x[1:4] @ S\n}",
    ]

    @Test(arguments: ScanLayoutTests.programs + chunkedPrograms + [
        "model M {\n  input x: [2]\n  state w: [6] = [1, 2, 3, 4, 5, 6]\n  w <- [w, x][2:8]\n  output w\n}",
        // A sequential cycle's gate is an output, so it must keep every row.
        "model M {\n  input x: [2]\n  state h: [2] = 0\n  g = sigmoid([[0.5, -0.2], [0.1, 0.3]] @ h + x)\n  h <- tanh(g * h + x)\n  output g\n}",
        // A general diagonal recurrence whose gate scales a sum that reaches the state.
        "model M {\n  input x: [2]\n  state h: [2] = 1\n  u = x * (h + x)\n  h <- u + x\n  output [u, h]\n}",
    ])
    func brokenFactsAreRejected(_ source: String) throws {
        let model = ScanLowering.lowerModel(try Optimizer.optimize(try #require(compileOK(source))))
        try model.plan.validate(against: model.program)
        var tried = 0
        for (k, stage) in model.plan.stages.enumerated() {
            guard case .recurrence(let r) = stage else { continue }
            for (name, broken) in Self.breakages(r, model.program) {
                var plan = model.plan
                plan.stages[k] = .recurrence(broken)
                #expect(throws: RuntimeError.self, "\(name) in \(r.kind) recurrence") { try plan.validate(against: model.program) }
                tried += 1
            }
        }
        #expect(tried > 0, "each program has a fact to break")
    }

    /// Ways to make one recurrence's terms wrong while every structural fact still holds:
    /// what `validate` cannot see and `checkAgreement` must.
    static func wrongTerms(_ r: ScanPlan.Recurrence, _ program: inout StepProgram) -> [(String, ScanPlan.Recurrence)] {
        var result: [(String, ScanPlan.Recurrence)] = []
        func wrong(_ name: String, _ change: (inout ScanPlan.Recurrence) -> Void) {
            var copy = r
            change(&copy)
            result.append((name, copy))
        }
        switch r.kind {
        case .affine:
            wrong("a matrix recurrence labelled diagonal") { $0.kind = .diagonal; $0.transition = nil }
            let width = program.matrices[r.transition!].rows
            program.matrices.append(WeightMatrix(rows: width, cols: width, storage: .dense((0..<width * width).map { $0 % (width + 1) == 0 ? 0.5 : 0 })))
            let other = program.matrices.count - 1
            wrong("another transition") { $0.transition = other }
        case .modal:
            wrong("shifted eigenvalues") { $0.modes!.real = $0.modes!.real.map { $0 + 0.25 } }
            wrong("modes in another basis") { $0.modes!.inverse = $0.modes!.basis; $0.modes!.real = $0.modes!.real.map { -$0 } }
        case .diagonal:
            for k in r.coefficients.indices { wrong("coefficient step \(k) left out") { $0.coefficients.remove(at: k) } }
            for (k, step) in r.offsets.enumerated() {
                if case .instruction(let i) = step { wrong("offset step \(k) zeroed") { $0.offsets[k] = .fill(slot: program.instructions[i].destination, vector: nil) } }
            }
            if let d = r.direct, let c = d.coefficient { wrong("coefficient and offset swapped") { ($0.direct!.coefficient, $0.direct!.offset) = (d.offset, c) } }
        case .delay:
            wrong("the first power left out") { $0.powers.removeFirst() }
            if r.powers.count > 1 { wrong("powers swapped") { $0.powers.swapAt(0, 1) } }
        case .chunked:
            wrong("a readout of the state before the update") { $0.chunked!.readouts[0].afterUpdate.toggle() }
            if !r.chunked!.decay.isEmpty { wrong("the decay left out") { $0.chunked!.decay = [] } }
            if r.chunked!.constantDecay != nil { wrong("the constant decay left out") { $0.chunked!.constantDecay = nil } }
            if r.chunked!.delta != nil { wrong("the correction's sign flipped") { $0.chunked!.delta!.scale.negate() } }
        case .sequential:
            break
        }
        return result
    }

    @Test(arguments: chunkedPrograms + [
        "model M {\n  input ab: [6]\n  state h: [3] = [1, 2, 3]\n  h <- ab[0:3] * h + ab[3:6]\n  output h\n}",
        "model M {\n  input x: [2]\n  state h: [2] = 1\n  u = x * (h + x)\n  h <- u + x\n  output [u, h]\n}",
        "model M {\n  input x: [2]\n  state b: [2] = [1, 1]\n  b <- [[0.9, 0.1], [-0.2, 0.8]] @ b + x\n  output b\n}",
        "model M {\n  input x: [2]\n  state b: [2] = [1, 1]\n  b <- [[0.6, -0.8], [0.8, 0.6]] @ b + x\n  output b\n}",
        "model M {\n  input x: [2]\n  state b: [2] = [1, 1]\n  b <- [[0, -1], [1, 0]] @ b + x\n  output b\n}",
        "model M {\n  input x: [2]\n  state w: [6] = [1, 2, 3, 4, 5, 6]\n  w <- [w, x][2:8]\n  output w\n}",
    ])
    func wrongTermsAreRejected(_ source: String) throws {
        let model = ScanLowering.lowerModel(try Optimizer.optimize(try #require(compileOK(source))))
        var random = SplitMix64(seed: 11)
        try model.plan.checkAgreement(with: model.program, using: &random)
        var tried = 0
        for (k, stage) in model.plan.stages.enumerated() {
            guard case .recurrence(let r) = stage else { continue }
            var program = model.program
            for (name, wrong) in Self.wrongTerms(r, &program) {
                var plan = model.plan
                plan.stages[k] = .recurrence(wrong)
                try plan.validate(against: program)
                #expect(throws: RuntimeError.self, "\(name) in \(r.kind) recurrence") { try plan.checkAgreement(with: program, using: &random) }
                tried += 1
            }
        }
        #expect(tried > 0, "each program has a term to get wrong")
    }

    /// Through the artifact, as a user loads it: the relabelled rotation is refused.
    @Test func anArtifactWithAWrongPlanIsRefused() throws {
        let source = "model M {\n  input x: [2]\n  state b: [2] = [1, 1]\n  b <- [[0, -1], [1, 0]] @ b + x\n  output b\n}"
        var model = try #require(try Compiler(stdlibPath: nil).compile(SourceFile(path: "m.rnn", text: source))?.model)
        let k = try #require(model.plan.stages.firstIndex { if case .recurrence = $0 { true } else { false } })
        guard case .recurrence(var r) = model.plan.stages[k] else { return }
        (r.kind, r.transition) = (.diagonal, nil)
        model.plan.stages[k] = .recurrence(r)
        #expect(throws: RuntimeError.self) { try Artifact.decode(Artifact.encode(model), path: "crafted.rnnc") }
    }
}
