import RNNRuntime

/// Lowers an IR program to a step program: one slot per node, instructions in node order.
///
/// Inputs get their own slots; a state read reads the state's slot directly; constants are
/// loaded into their slots once per session. Fusion and slot reuse belong to the optimizer.
public enum StepLowering {
    public static func lower(_ ir: IRProgram) -> StepProgram { lowerWithMap(ir).program }

    /// The step program and where each IR node went.
    public struct Lowered {
        public var program: StepProgram
        /// The slot holding each node's value.
        public var slotOfNode: [Int]
        /// The instruction computing each node (nil for inputs, state reads and constants).
        public var instructionOfNode: [Int?]
    }

    public static func lowerWithMap(_ ir: IRProgram) -> Lowered {
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
        // An affine map whose only use is an activation runs as one fused kernel, in the
        // activation's slot.
        let uses = ir.useCounts()
        var fusedInto: [Int: Int] = [:]  // affine node -> activation node
        for (i, node) in ir.nodes.enumerated() {
            if case .activation(_, let x) = node.op, case .affine = ir.nodes[x.index].op, uses[x.index] == 1 { fusedInto[x.index] = i }
        }
        var pendingAffine: [Int: (src: Int, matrix: Int, bias: Int?)] = [:]
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
            if case .activation(let f, let x) = node.op, let fused = pendingAffine[x.index] {
                slotOf[i] = slotOf[x.index]
                instructionOf[i] = instructions.count
                instructions.append(.affineActivation(f, dst: slotOf[i], src: fused.src, matrix: fused.matrix, bias: fused.bias))
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
                matrices.append(w)
                if fusedInto[i] != nil {
                    instructionOf[i] = nil
                    pendingAffine[i] = (s(x), matrices.count - 1, bias.map(vector))
                } else {
                    instructions.append(.affine(dst: dst, src: s(x), matrix: matrices.count - 1, bias: bias.map(vector)))
                }
            case .add(let a, let b): instructions.append(.add(dst: dst, lhs: s(a), rhs: s(b)))
            case .mul(let a, let b): instructions.append(.mul(dst: dst, lhs: s(a), rhs: s(b)))
            case .concat(let parts): instructions.append(.concat(dst: dst, parts: parts.map(s)))
            case .slice(let x, let start): instructions.append(.slice(dst: dst, src: s(x), start: start))
            case .activation(let f, let x): instructions.append(.activation(f, dst: dst, src: s(x)))
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
            states.append(StateSlot(name: st.name, slot: stateSlots[k], update: update, initial: vector(st.initial)))
        }
        let program = StepProgram(
            modelName: ir.modelName, inputs: ir.inputs.map { Port(name: $0.name, size: $0.size) },
            inputSlots: inputSlots, outputSlots: ir.outputs.map { slotOf[$0.index] }, slotSizes: slotSizes,
            states: states, constants: constants, instructions: instructions, matrices: matrices, vectors: vectors)
        return Lowered(program: program, slotOfNode: slotOf, instructionOfNode: instructionOf)
    }
}
