/// States in a safetensors file (`rnnc run --initial-state` / `--final-state`): one tensor per
/// state of the source, named by its path as `rnnc check` prints it (`h`, `lstm#1.c`), shaped
/// `[k]` (the same for every sequence) or `[B, k]` (one row per sequence of a batch); a matrix
/// state `[m, n]` is written `[m, n]` or `[B, m, n]` and read in either layout. A
/// merged state of the compiled program reads and writes as its parts, so the file speaks
/// of the source's states whatever the optimizer did.
package enum StateFile {
    /// A program's states as the file names them: where each source state lives, and every
    /// program state's initial value.
    package struct Layout: Sendable {
        package var modelName: String
        package var named: [NamedState]
        package var initial: [[Double]]

        package init(modelName: String, named: [NamedState], initial: [[Double]]) {
            (self.modelName, self.named, self.initial) = (modelName, named, initial)
        }

        package init(_ program: StepProgram) {
            self.init(modelName: program.modelName, named: program.namedStates, initial: program.states.map { program.vectors[$0.initial] })
        }
    }

    /// Per sequence, every program state's values (in the layout's order) from the file at
    /// `path`; states the file has no tensor for keep their initial values.
    package static func read(path: String, layout: Layout, sequences: Int) throws(RuntimeError) -> [[[Double]]] {
        try decode(SafeTensors.read(path: path), path: path, layout: layout, sequences: sequences)
    }

    static func decode(_ file: SafeTensors.File, path: String, layout: Layout, sequences: Int) throws(RuntimeError) -> [[[Double]]] {
        let named = layout.named
        var states = Array(repeating: layout.initial, count: sequences)
        func bad(_ message: String) -> RuntimeError { .badFile(path: path, line: nil, column: nil, message: message, lineText: nil) }
        for tensor in file.tensors {
            guard let state = named.first(where: { $0.name == tensor.name }) else {
                let names = named.map(\.name).joined(separator: ", ")
                throw bad("tensor '\(tensor.name)' matches no state of model '\(layout.modelName)' (states: \(names.isEmpty ? "none" : names); the optimizer removes a state no output depends on: compile with --no-optimize to keep it)")
            }
            guard tensor.dtype.isFloatingPoint else { throw bad("state '\(tensor.name)' is \(tensor.dtype.rawValue); states are F64, F32, F16 or BF16") }
            let k = state.size
            let perSequence: Bool
            switch tensor.shape {
            case [k], state.shape: perSequence = false
            case [sequences, k], [sequences] + state.shape: perSequence = true
            default:
                let one = state.matrixShape == nil ? "[\(k)]" : "[\(k)] or \(state.shape)"
                let batch = state.matrixShape == nil ? "[\(sequences), \(k)]" : "[\(sequences), \(k)] or \([sequences] + state.shape)"
                throw bad("state '\(tensor.name)' has shape \(tensor.shape); expected \(one)" + (sequences > 0 ? " or \(batch) (one row per sequence)" : ""))
            }
            let values = tensor.doubles()
            for q in 0..<sequences {
                let row = perSequence ? q * k : 0
                for i in 0..<k { states[q][state.state][state.offset + i] = values[row + i] }
            }
        }
        return states
    }

    /// The file of each sequence's states (`states[q]` in the layout's order): `[B, k]`
    /// tensors when `batched`, else `[k]` (one sequence), a matrix state `[B, m, n]` or
    /// `[m, n]`. F32 or F64.
    package static func encode(_ states: [[[Double]]], layout: Layout, batched: Bool, float32: Bool) -> [UInt8] {
        precondition(batched || states.count == 1, "one sequence's states unless batched")
        let tensors = layout.named.map { s in
            let values = states.flatMap { $0[s.state][s.offset..<(s.offset + s.size)] }
            let shape = batched ? [states.count] + s.shape : s.shape
            return float32 ? NamedTensor(name: s.name, shape: shape, float32: values) : NamedTensor(name: s.name, shape: shape, float64: values)
        }
        return SafeTensors.encode(SafeTensors.File(tensors: tensors, metadata: ["format": "rnnc-states", "model": layout.modelName]))
    }
}
