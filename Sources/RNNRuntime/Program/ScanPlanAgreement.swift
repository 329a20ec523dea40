/// Checks what `validate` cannot: that a plan computes what its program computes. A crafted
/// artifact can pass every structural check and still be wrong (a rotation labelled
/// `diagonal`, a transition that is not the program's, a coefficient step left out); run in
/// scan mode it would print plausible but wrong numbers.
///
/// The check runs the plan and the step program side by side on a short random sequence from
/// random initial states and compares the outputs. Every term of a plan (kind, transition,
/// modes, offsets, coefficients, direct scans, recomputation) shows in the outputs within a
/// few steps, so a wrong term is caught with probability one; the seed is drawn afresh each
/// time, so a crafted plan cannot be tuned to the probe. It holds no rule about ops: it only
/// compares the two runners.
extension ScanPlan {
    /// Tokens in the probe: enough for a state written at step 0 to be read through its
    /// transition twice, and through every power of a delay plan's transition.
    var probeSteps: Int {
        stages.reduce(4) { steps, stage in
            if case .recurrence(let r) = stage { return max(steps, r.powers.count + 3) }
            return steps
        }
    }
    /// A compiler-made plan agrees with its program to rounding: modal forms are accepted
    /// with a residual of 1e-9 and a condition number up to 1e3 (`ModalDecomposition`).
    static let probeTolerance = 1e-5

    package func checkAgreement(with program: StepProgram) throws(RuntimeError) {
        var random = SplitMix64(seed: UInt64.random(in: .min ... .max))
        try checkAgreement(with: program, using: &random)
    }

    /// The check with a caller's generator (tests replay a seed).
    func checkAgreement(with program: StepProgram, using random: inout SplitMix64) throws(RuntimeError) {
        func draw() -> Double { 2 * random.nextUnit() - 1 }
        var probe = program
        for k in probe.states.indices {
            probe.states[k].initial = probe.vectors.count
            probe.vectors.append((0..<probe.slotSizes[probe.states[k].slot]).map { _ in draw() })
        }
        let tokens = (0..<probeSteps).map { _ in
            probe.inputs.flatMap { port in
                port.vocabulary.map { [Double(random.next() % UInt64($0))] } ?? (0..<port.size).map { _ in draw() }
            }
        }
        let scanned = try ScanRunner<Double>(program: probe, plan: self).run(tokens)
        let stepped = try StepSession<Double>(program: probe, threads: 1).run(tokens)
        let finite = stepped.joined().filter(\.isFinite)
        let scale = max(1, finite.map(abs).max() ?? 1)
        for (t, (got, want)) in zip(scanned, stepped).enumerated() {
            for (i, (g, w)) in zip(got, want).enumerated() where w.isFinite && !(abs(g - w) <= Self.probeTolerance * scale) {
                throw .invalidProgram("the scan plan does not compute what the program computes: output \(i) at step \(t) is \(g) by the plan and \(w) by the program")
            }
        }
    }
}
