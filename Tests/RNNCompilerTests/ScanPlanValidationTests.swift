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
        broken("a cycle instruction left out") { $0.instructions.removeFirst() }
        if !r.recompute.isEmpty { broken("no recompute") { $0.recompute = [] } }
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

    @Test(arguments: ScanLayoutTests.programs + [
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
}
