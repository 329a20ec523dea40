/// Runs that start from given states and hand back the states after the last token (a
/// prompt's prefill, whose states seed a step session; `rnnc run --final-state`).
///
/// The final states come from the state rows: row `T - 1` holds each state before the last
/// token (every recurrence writes its state rows; a direct scan is told to even where the
/// plan says nothing reads them), and one step of the program from there, on the last token,
/// gives the states after it.
extension ScanRunner {
    /// Runs sequences of equal length in lockstep, each from its own states (`states[q]`:
    /// every state's values in the order of `program.states`; nil: the initial values), and
    /// returns the outputs and each sequence's states after its last token.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package func runKeepingStates(batch sequences: [[[Double]]], from states: [[[Double]]]? = nil,
                                 workspace: Workspace = Workspace()) throws(RuntimeError) -> (outputs: [[[Double]]], states: [[[Double]]]) {
        let (flats, initial) = try prepare(sequences, from: states)
        let (steps, batch, n) = (sequences.first?.count ?? 0, sequences.count, program.outputWidth)
        guard steps > 0, batch > 0 else { return (sequences.map { _ in [] }, initial) }
        let b = stateKeepingBuffers(steps: steps, batch: batch, workspace: workspace)
        var out = [Scalar](repeating: 0, count: batch * steps * n)
        out.withUnsafeMutableBufferPointer { y in
            execute(b, copyingInputs: flats, placedOutputs: [], into: (0..<batch).map { y.baseAddress! + $0 * steps * n },
                    initialStates: initial.map { $0.map { $0.map { Scalar($0) } } })
        }
        let finals = lastStep(b, flats).states
        let outputs = (0..<batch).map { q in (0..<steps).map { t in (0..<n).map { Double(out[(q * steps + t) * n + $0]) } } }
        return (outputs, finals.map { $0.map { $0.map { Double($0) } } })
    }

    /// Like `runKeepingStates`, for a caller that needs only each sequence's last outputs
    /// (a language model's prompt, whose last logits pick the first new token): the scan
    /// runs only the instructions that feed some state (`feedsStates`), and one step of the
    /// whole program on the last token gives its outputs and the states after it.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    package func runToEnd(batch sequences: [[[Double]]], from states: [[[Double]]]? = nil,
                         workspace: Workspace = Workspace()) throws(RuntimeError) -> (lastOutputs: [[Double]], states: [[[Double]]]) {
        let (flats, initial) = try prepare(sequences, from: states)
        let (steps, batch) = (sequences.first?.count ?? 0, sequences.count)
        guard steps > 0, batch > 0 else {
            throw .inputMismatch("a run to the end of a sequence needs at least one token and one sequence")
        }
        let b = stateKeepingBuffers(steps: steps, batch: batch, workspace: workspace)
        execute(b, copyingInputs: flats, placedOutputs: [], into: [], initialStates: initial.map { $0.map { $0.map { Scalar($0) } } },
                onlyFeedingStates: true)
        let last = lastStep(b, flats)
        return (last.outputs.map { $0.map { Double($0) } }, last.states.map { $0.map { $0.map { Double($0) } } })
    }

    /// Checks sequences and starting states; returns the sequences as flat rows and the
    /// starting states (the initial values where none are given).
    private func prepare(_ sequences: [[[Double]]], from states: [[[Double]]]?) throws(RuntimeError) -> (flats: [[Scalar]], initial: [[[Double]]]) {
        let width = program.inputWidth
        let steps = sequences.first?.count ?? 0
        guard sequences.allSatisfy({ $0.count == steps }) else { throw .inputMismatch("sequences run in lockstep must have equal lengths") }
        if let states {
            guard states.count == sequences.count else { throw .inputMismatch("\(states.count) sets of states given for \(sequences.count) sequences") }
            for s in states { try program.checkStateValues(s) }
        }
        var flats: [[Scalar]] = []
        for (q, sequence) in sequences.enumerated() {
            for token in sequence where token.count != width {
                throw .inputMismatch("token has \(token.count) values, the model's input has \(width)")
            }
            try program.checkIDs(sequence, sequence: sequences.count > 1 ? q : nil)
            flats.append(sequence.flatMap { $0.map { Scalar($0) } })
        }
        return (flats, states ?? Array(repeating: program.states.map { program.vectors[$0.initial] }, count: sequences.count))
    }

    private func stateKeepingBuffers(steps: Int, batch: Int, workspace: Workspace) -> Buffers {
        var b = buffers(steps: steps, batch: batch, workspace: workspace)
        b.keepsStateRows = true
        return b
    }

    /// One step of the whole program on each sequence's last token, from the states the run
    /// left in row `T - 1`.
    private func lastStep(_ b: Buffers, _ flats: [[Scalar]]) -> (outputs: [[Scalar]], states: [[[Scalar]]]) {
        let (steps, width) = (b.steps, program.inputWidth)
        let before = (0..<b.batch).map { q in
            program.states.map { s in Array(UnsafeBufferPointer(start: b.stateRow(s.slot, sequence: q, step: steps - 1), count: program.slotSizes[s.slot])) }
        }
        let last = flats.map { Array($0[((steps - 1) * width)...]) }
        return step(tokens: last, states: before, workspace: Workspace(threads: b.workspace.threads))
    }

    /// One step of the program for each sequence (`tokens[q]` from `states[q]`): every
    /// instruction in program order over one row per sequence. Returns the outputs and the
    /// next states.
    func step(tokens: [[Scalar]], states: [[[Scalar]]], workspace: Workspace) -> (outputs: [[Scalar]], states: [[[Scalar]]]) {
        let batch = tokens.count
        var b = Buffers(slots: workspace.owned(sizes: program.slotSizes, rows: batch), ld: program.slotSizes, steps: 1, batch: batch, workspace: workspace)
        resolveSliceViews(&b)
        for q in 0..<batch {
            var at = 0
            for slot in program.inputSlots {
                let size = program.slotSizes[slot]
                tokens[q].withUnsafeBufferPointer { b.row(slot, q).update(from: $0.baseAddress! + at, count: size) }
                at += size
            }
            for c in program.constants { b.row(c.slot, q).update(from: vectors[c.vector].baseAddress!, count: program.slotSizes[c.slot]) }
            for (k, s) in program.states.enumerated() {
                states[q][k].withUnsafeBufferPointer { b.row(s.slot, q).update(from: $0.baseAddress!, count: program.slotSizes[s.slot]) }
            }
        }
        for ins in program.instructions { execute(ins, b, rows: 0..<batch) }
        let outputs = (0..<batch).map { q in
            program.outputSlots.flatMap { s in UnsafeBufferPointer(start: b.row(s, q), count: program.slotSizes[s]) }
        }
        let next = (0..<batch).map { q in
            program.states.map { s in Array(UnsafeBufferPointer(start: b.row(s.update, q), count: program.slotSizes[s.slot])) }
        }
        return (outputs, next)
    }
}

extension StepProgram {
    /// Checks one sequence's state values: one vector per state, of the state's size, in the
    /// order of `states`.
    package func checkStateValues(_ values: [[Double]]) throws(RuntimeError) {
        guard values.count == states.count else {
            throw .inputMismatch("\(values.count) state values given, the model has \(states.count) states")
        }
        for (s, v) in zip(states, values) where v.count != slotSizes[s.slot] {
            throw .inputMismatch("state '\(s.name)' has \(slotSizes[s.slot]) values, \(v.count) given")
        }
    }
}
