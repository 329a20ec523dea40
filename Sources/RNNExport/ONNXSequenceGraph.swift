import RNNRuntime

/// The sequence form: whole sequences `[B, T, n]`, following the scan plan. Values are
/// time-major, `[T, B, size]`: a batched stage runs its instructions over every time step at
/// once, and a recurrence becomes a `Loop` over the time axis whose body runs its cycle for
/// one step, carrying its states, and returns the rows that later stages read.
struct SequenceGraph {
    let lowering: ONNXLowering
    let plan: ScanPlan

    init(_ lowering: ONNXLowering, plan: ScanPlan) {
        self.lowering = lowering
        self.plan = plan
    }

    func build() throws(ExportError) -> Onnx_GraphProto {
        let (graph, program) = (lowering.graph, lowering.program)
        let names = PublicNames(program, graph, resultSuffix: ".final")
        let xt = graph.node("Transpose", [names.x], attributes: [.ints("perm", [1, 0, 2])], hint: "x_time_major")
        var values: [Int: String] = [:]
        lowering.bindInputs(xt, &values)
        let lead = lowering.leadingDimensions(of: xt)
        let batch = graph.node("Slice", [lead, graph.int64s([1]), graph.int64s([2])], hint: "batch")
        for c in program.constants { values[c.slot] = lowering.constant(c, lead: lead) }
        let states = lowering.stateInputs(names, batch: batch)
        var finals: [Int: String] = [:]
        for stage in plan.stages {
            switch stage {
            case .batched(let list):
                for i in list { try lowering.emit(i, &values) }
            case .recurrence(let r):
                try loop(r, &values, initial: states.values, finals: &finals, lead: lead)
            }
        }
        var results: [String] = []
        for (k, state) in program.states.enumerated() {
            guard let final = finals[k] else { throw ExportError("the scan plan never solves state '\(state.name)'") }
            results.append(final)
        }
        let y = graph.node("Transpose", [try lowering.outputs(values, lead: lead)], attributes: [.ints("perm", [1, 0, 2])], hint: "y")
        return lowering.graphProto(names, x: [.symbol("B"), .symbol("T"), .size(program.inputWidth)], y: y,
                                   yDims: [.symbol("B"), .symbol("T"), .size(program.outputWidth)], results: results, states: states)
    }

    /// One recurrence as a `Loop` over the time steps (a `Scan` would do, but onnxruntime's
    /// fails on sequences of no tokens). The body carries the group's states, reads the
    /// values its cycle needs from outside at step `i` (`Gather` on the outer `[T, B, size]`
    /// tensors), and returns the rows of its states and cycle values that something outside
    /// the cycle reads; those come out as `[T, B, size]`.
    private func loop(_ r: ScanPlan.Recurrence, _ values: inout [Int: String], initial states: [String],
                      finals: inout [Int: String], lead: String) throws(ExportError) {
        let (graph, program) = (lowering.graph, lowering.program)
        let instructions = bodyInstructions(r)
        let cycle = Set(instructions)
        let stateSlots = r.states.map { program.states[$0].slot }
        let written = Set(instructions.map { program.instructions[$0].destination })
        var readOutside = Set(program.outputSlots)
        for (i, ins) in program.instructions.enumerated() where !cycle.contains(i) { readOutside.formUnion(ins.operands) }
        for (k, state) in program.states.enumerated() where !r.states.contains(k) { readOutside.insert(state.update) }
        var rowSlots: [Int] = []
        for slot in stateSlots + instructions.map({ program.instructions[$0].destination })
        where readOutside.contains(slot) && !rowSlots.contains(slot) {
            rowSlots.append(slot)
        }

        let step = graph.reserve("step"), condition = graph.reserve("condition")
        var inner: [Int: String] = [:]
        var stateVars: [String] = []
        for k in r.states {
            let v = graph.reserve("\(program.states[k].name).t")
            stateVars.append(v)
            inner[program.states[k].slot] = v
        }
        var nextNames: [String] = [], rowNames: [String] = []
        let body = try graph.nested { () throws(ExportError) in
            for slot in instructions.flatMap({ program.instructions[$0].operands }) + r.nextSlots
            where !written.contains(slot) && inner[slot] == nil {
                guard let outer = values[slot] else { throw ExportError("a recurrence reads slot \(slot) before it is computed") }
                inner[slot] = graph.node("Gather", [outer, step], attributes: [.int("axis", 0)], hint: "s\(slot).t")
            }
            for i in instructions { try lowering.emit(i, &inner) }
            for next in r.nextSlots {
                guard let v = inner[next] else { throw ExportError("a recurrence's next value \(next) is never computed") }
                nextNames.append(graph.node("Identity", [v], hint: "next"))
            }
            for slot in rowSlots { rowNames.append(graph.node("Identity", [inner[slot]!], hint: "row")) }
        }
        let keepGoing = graph.reserve("condition.out")
        let sizes = r.states.map { program.slotSizes[program.states[$0].slot] }
        let bodyGraph = Onnx_GraphProto.with {
            $0.name = graph.reserve("loop_body")
            $0.node = body + [Onnx_NodeProto.with { $0.opType = "Identity"; $0.input = [condition]; $0.output = [keepGoing] }]
            $0.input = [graph.valueInfo(step, [], type: .int64), graph.valueInfo(condition, [], type: .bool)]
                + zip(stateVars, sizes).map { graph.valueInfo($0, [.symbol("B"), .size($1)]) }
            $0.output = [graph.valueInfo(keepGoing, [], type: .bool)]
                + zip(nextNames, sizes).map { graph.valueInfo($0, [.symbol("B"), .size($1)]) }
                + zip(rowNames, rowSlots).map { graph.valueInfo($0, [.symbol("B"), .size(program.slotSizes[$1])]) }
        }
        let finalNames = r.states.map { graph.reserve("\(program.states[$0].name).last") }
        let rowsOut = rowSlots.map { graph.reserve("s\($0).loop_rows") }
        let initial = r.states.map { states[$0] }
        let steps = graph.node("Gather", [lead, graph.int64Scalar(0)], attributes: [.int("axis", 0)], hint: "steps")
        graph.node("Loop", [steps, ""] + initial, outputs: finalNames + rowsOut, attributes: [.graph("body", bodyGraph)])
        for (k, name) in zip(r.states, finalNames) { finals[k] = name }
        // Over no steps a loop's rows lose the batch dimension: give them their shape back.
        for (slot, name) in zip(rowSlots, rowsOut) {
            values[slot] = graph.node("Reshape", [name, lowering.shape(lead: lead, program.slotSizes[slot])], hint: "s\(slot).rows")
        }
    }

    /// The instructions a recurrence's loop body runs: its own and, for a chunked one, the
    /// expansions its cycle reads through, which no stage of the plan computes (the body is
    /// the recurrence token by token, as the step program runs it).
    private func bodyInstructions(_ r: ScanPlan.Recurrence) -> [Int] {
        guard r.chunked != nil else { return r.instructions }
        let program = lowering.program
        var claimed = Set<Int>()
        for stage in plan.stages {
            switch stage {
            case .batched(let list): claimed.formUnion(list)
            case .recurrence(let other): claimed.formUnion(other.instructions)
            }
        }
        var writer: [Int: Int] = [:]
        for (i, ins) in program.instructions.enumerated() where !claimed.contains(i) { writer[ins.destination] = i }
        var body = Set(r.instructions), work = r.instructions
        while let i = work.popLast() {
            for slot in program.instructions[i].operands {
                if let w = writer[slot], body.insert(w).inserted { work.append(w) }
            }
        }
        return body.sorted()
    }
}
