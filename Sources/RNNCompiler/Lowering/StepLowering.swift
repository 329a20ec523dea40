import RNNRuntime

/// Lowers an IR program to a step program: one slot per node, instructions in node order.
///
/// Inputs get their own slots; a state read reads the state's slot directly; constants are
/// loaded into their slots once per session. Fusion and slot reuse belong to the optimizer.
package enum StepLowering {
    package static func lower(_ ir: IRProgram) -> StepProgram { lowerWithMap(ir).program }

    /// The step program and where each IR node went.
    package struct Lowered {
        package var program: StepProgram
        /// The slot holding each node's value.
        package var slotOfNode: [Int]
        /// The instruction computing each node (nil for inputs, state reads and constants).
        package var instructionOfNode: [Int?]
    }

    package static func lowerWithMap(_ ir: IRProgram) -> Lowered {
        var slotSizes: [Int] = []
        var slotOf = [Int](repeating: -1, count: ir.nodes.count)
        var inputSlots: [Int] = []
        var stateSlots: [Int] = []
        for input in ir.inputs {
            inputSlots.append(slotSizes.count)
            slotSizes.append(input.size)
        }
        for state in ir.states {
            stateSlots.append(slotSizes.count)
            slotSizes.append(state.size)
        }
        var instructions: [Instruction] = []
        var matrices: [WeightMatrix] = []
        var vectors: [[Double]] = []
        var constants: [ConstantSlot] = []
        var instructionOf = [Int?](repeating: nil, count: ir.nodes.count)
        // An affine map whose only use is a unary element-wise op runs as one product with
        // that op as its epilogue, in the op's slot.
        let uses = ir.useCounts()
        var fusedInto: [Int: Int] = [:]  // affine node -> its epilogue's node
        for (i, node) in ir.nodes.enumerated() {
            if case .elementwise(let op, let xs) = node.op, op.arity == 1, case .affine = ir.nodes[xs[0].index].op, uses[xs[0].index] == 1 {
                fusedInto[xs[0].index] = i
            }
        }
        var pendingAffine: [Int: (src: Int, matrix: Int, bias: Int?)] = [:]
        // A weight used by several affine maps (`W @ x + W @ h`) is stored once.
        var matricesByShape: [MatrixShape: [Int]] = [:]
        func matrix(_ w: WeightMatrix) -> Int {
            let shape = MatrixShape(name: w.name, rows: w.rows, cols: w.cols, stored: w.storedCount, content: w.contentHash)
            if let same = matricesByShape[shape]?.first(where: { matrices[$0] == w }) { return same }
            matrices.append(w)
            matricesByShape[shape, default: []].append(matrices.count - 1)
            return matrices.count - 1
        }
        func vector(_ v: [Double]) -> Int {
            vectors.append(v)
            return vectors.count - 1
        }
        for (i, node) in ir.nodes.enumerated() {
            switch node.op {
            case .input(let k): slotOf[i] = inputSlots[k]; continue
            case .stateRead(let s): slotOf[i] = stateSlots[s]; continue
            default: break
            }
            if case .elementwise(let f, let xs) = node.op, xs.count == 1, let fused = pendingAffine[xs[0].index] {
                slotOf[i] = slotOf[xs[0].index]
                instructionOf[i] = instructions.count
                instructions.append(.affine(dst: slotOf[i], src: fused.src, matrix: fused.matrix, bias: fused.bias, epilogue: f))
                continue
            }
            let dst = slotSizes.count
            slotSizes.append(node.size)
            slotOf[i] = dst
            let s = { (id: ValueID) in slotOf[id.index] }
            if !node.op.isLeaf { instructionOf[i] = instructions.count }
            switch node.op {
            case .input, .stateRead: break
            case .constant(let v): constants.append(ConstantSlot(slot: dst, vector: vector(v)))
            case .affine(let w, let bias, let x):
                let m = matrix(w)
                if fusedInto[i] != nil {
                    instructionOf[i] = nil
                    pendingAffine[i] = (s(x), m, bias.map(vector))
                } else {
                    instructions.append(.affine(dst: dst, src: s(x), matrix: m, bias: bias.map(vector), epilogue: nil))
                }
            case .elementwise(let op, let xs): instructions.append(.elementwise(op, dst: dst, lhs: s(xs[0]), rhs: xs.count > 1 ? s(xs[1]) : nil))
            case .concat(let parts): instructions.append(.concat(dst: dst, parts: parts.map(s)))
            case .slice(let x, let start): instructions.append(.slice(dst: dst, src: s(x), start: start))
            case .gather(let w, let x): instructions.append(.gather(dst: dst, src: s(x), matrix: matrix(w)))
            }
        }
        // States copy their updates one after another at the end of a step; an update that is
        // itself a state's slot (`a <- b`) is copied aside first so every state sees old values.
        let stateSlotSet = Set(stateSlots)
        var states: [StateSlot] = []
        for (k, st) in ir.states.enumerated() {
            var update = slotOf[st.next.index]
            if stateSlotSet.contains(update) && update != stateSlots[k] {
                let copy = slotSizes.count
                slotSizes.append(st.size)
                instructions.append(.slice(dst: copy, src: update, start: 0))
                update = copy
            }
            states.append(StateSlot(name: st.name, slot: stateSlots[k], update: update, initial: vector(st.initial), parts: st.parts,
                                    matrixShape: st.parts == nil ? st.matrixShape : nil))
        }
        let program = StepProgram(
            modelName: ir.modelName, inputs: ir.inputPorts,
            inputSlots: inputSlots, outputSlots: ir.outputs.map { slotOf[$0.index] }, slotSizes: slotSizes,
            states: states, constants: constants, instructions: instructions, matrices: matrices, vectors: vectors)
        return Lowered(program: program, slotOfNode: slotOf, instructionOfNode: instructionOf)
    }
}

/// What a weight matrix is checked by before comparing its values, when lowering looks for
/// one stored already (with a hash of its entries, so thousands of small maps of one shape do
/// not make the search quadratic).
private struct MatrixShape: Hashable {
    var name: String?
    var rows: Int
    var cols: Int
    var stored: Int
    var content: Int
}
