import Foundation

/// A named vector port of a program: an input, or one part of a merged state.
public struct Port: Codable, Sendable, Equatable {
    /// Its name in the source.
    public var name: String
    /// Its width (1 for a token input).
    public var size: Int
    /// For a token input (`input token: 0..<V`): `V`. Its one value must be an integer id in
    /// `0 ..< V`; the runners check every id before a run.
    public var vocabulary: Int?
    /// For a matrix state (`state S: [m, n]`): `[m, n]`, its `size` values being the matrix
    /// row by row; nil otherwise.
    public var matrixShape: [Int]?

    private enum CodingKeys: String, CodingKey { case name, size, vocabulary, matrixShape = "matrix_shape" }

    /// An input of `size` values, or a token input of ids below `vocabulary`.
    public init(name: String, size: Int, vocabulary: Int? = nil) {
        self.name = name
        self.size = size
        self.vocabulary = vocabulary
    }

    /// A state of `size` values, a `matrixShape` matrix row by row when given.
    package init(name: String, size: Int, matrixShape: [Int]?) {
        self.init(name: name, size: size)
        self.matrixShape = matrixShape
    }

    /// The description `rnnc` prints: `x: [4]`, `token: 0..<50280`.
    public var signature: String {
        vocabulary.map { "\(name): 0..<\($0)" } ?? "\(name): [\(size)]"
    }
}

/// A state: its current value lives in `slot`; at the end of each step `update` is copied into it.
package struct StateSlot: Codable, Sendable, Equatable {
    package var name: String
    package var slot: Int
    package var update: Int
    /// Index into `StepProgram.vectors` of the initial value.
    package var initial: Int
    /// The source's states this slot holds one after another, when the compiler merged
    /// several (`name` is then theirs joined by `+`); nil for one state, `name`.
    package var parts: [Port]?
    /// `[m, n]` for one matrix state (its values row by row); nil otherwise.
    package var matrixShape: [Int]?

    private enum CodingKeys: String, CodingKey { case name, slot, update, initial, parts, matrixShape = "matrix_shape" }

    package init(name: String, slot: Int, update: Int, initial: Int, parts: [Port]? = nil, matrixShape: [Int]? = nil) {
        self.name = name
        self.slot = slot
        self.update = update
        self.initial = initial
        self.parts = parts
        self.matrixShape = matrixShape
    }
}

/// One of the source's states (`h`, `lstm#1.c`): its name and width. Where it lives in the
/// program is internal: state slot `state`'s values `offset ..< offset + size`.
public struct NamedState: Sendable, Equatable {
    /// The state's name as `rnnc check` prints it.
    public var name: String
    package var state: Int
    package var offset: Int
    /// Its width.
    public var size: Int
    /// For a matrix state, `[m, n]` (its `size` values row by row); nil for a vector.
    public var matrixShape: [Int]?

    /// `[size]`, or the matrix state's `[m, n]`.
    public var shape: [Int] { matrixShape ?? [size] }

    package init(name: String, state: Int, offset: Int, size: Int) {
        (self.name, self.state, self.offset, self.size) = (name, state, offset, size)
    }
}

/// A constant vector loaded into a slot once, when a session starts.
package struct ConstantSlot: Codable, Sendable, Equatable {
    package var slot: Int
    package var vector: Int

    private enum CodingKeys: String, CodingKey { case slot, vector }

    package init(slot: Int, vector: Int) {
        self.slot = slot
        self.vector = vector
    }
}

/// One time step of a model as a flat instruction list over preplanned slots.
///
/// Memory: every slot is a fixed-size vector; slots are laid out back to back in one buffer
/// (see `StepSession`). Inputs are copied into `inputSlots`, the instructions run in order,
/// the output is the concatenation of `outputSlots`, then every state copies its update.
public struct StepProgram: Codable, Sendable, Equatable {
    /// The source model's name.
    public var modelName: String
    /// The model's inputs in declaration order; a token holds their values concatenated.
    public var inputs: [Port]
    package var inputSlots: [Int]
    package var outputSlots: [Int]
    package var slotSizes: [Int]
    package var states: [StateSlot]
    package var constants: [ConstantSlot]
    package var instructions: [Instruction]
    /// Weight matrices referenced by `affine` (stored as tensors in an artifact).
    package var matrices: [WeightMatrix]
    /// Biases, constants and initial states (stored as tensors in an artifact).
    package var vectors: [[Double]]

    /// The artifact's field names (docs/artifact.md); matrices and vectors are tensors.
    enum CodingKeys: String, CodingKey {
        case modelName = "model_name", inputs, inputSlots = "input_slots", outputSlots = "output_slots"
        case slotSizes = "slot_sizes", states, constants, instructions
    }

    package init(modelName: String, inputs: [Port], inputSlots: [Int], outputSlots: [Int], slotSizes: [Int],
                states: [StateSlot], constants: [ConstantSlot], instructions: [Instruction],
                matrices: [WeightMatrix], vectors: [[Double]]) {
        self.modelName = modelName
        self.inputs = inputs
        self.inputSlots = inputSlots
        self.outputSlots = outputSlots
        self.slotSizes = slotSizes
        self.states = states
        self.constants = constants
        self.instructions = instructions
        self.matrices = matrices
        self.vectors = vectors
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelName = try c.decode(String.self, forKey: .modelName)
        inputs = try c.decode([Port].self, forKey: .inputs)
        inputSlots = try c.decode([Int].self, forKey: .inputSlots)
        outputSlots = try c.decode([Int].self, forKey: .outputSlots)
        slotSizes = try c.decode([Int].self, forKey: .slotSizes)
        states = try c.decode([StateSlot].self, forKey: .states)
        constants = try c.decode([ConstantSlot].self, forKey: .constants)
        instructions = try c.decode([Instruction].self, forKey: .instructions)
        matrices = []
        vectors = []
    }

    /// Values per token: the inputs' widths summed.
    public var inputWidth: Int { inputs.reduce(0) { $0 + $1.size } }

    /// The first token id of `token` that is not an integer in its input's range, as a message.
    package func idProblem<T: BinaryFloatingPoint>(in token: UnsafeBufferPointer<T>) -> String? { inputs.idProblem(in: token) }

    /// Checks every token id of a sequence (see `[Port].checkIDs`).
    package func checkIDs(_ tokens: [[Double]], sequence: Int? = nil) throws(RuntimeError) { try inputs.checkIDs(tokens, sequence: sequence) }

    /// Values per output vector: the outputs' widths summed.
    public var outputWidth: Int { outputSlots.reduce(0) { $0 + slotSizes[$1] } }

    /// The source's states by name (`h`, `lstm#1.c`), as `rnnc check` prints them, with
    /// where each lives; merged states are split into their parts.
    public var namedStates: [NamedState] {
        var out: [NamedState] = []
        for (k, s) in states.enumerated() {
            var offset = 0
            for part in s.parts ?? [Port(name: s.name, size: slotSizes[s.slot], matrixShape: s.matrixShape)] {
                var named = NamedState(name: part.name, state: k, offset: offset, size: part.size)
                named.matrixShape = part.matrixShape
                out.append(named)
                offset += part.size
            }
        }
        return out
    }
}

extension Array where Element == Port {
    /// The first token id of `token` (these inputs' values concatenated) that is not an
    /// integer in its input's range, as a message; nil when all are.
    package func idProblem<T: BinaryFloatingPoint>(in token: UnsafeBufferPointer<T>) -> String? {
        var at = 0
        for port in self {
            defer { at += port.size }
            guard let vocabulary = port.vocabulary, at < token.count else { continue }
            let id = Double(token[at])
            guard id >= 0, id < Double(vocabulary), id == id.rounded(.towardZero) else {
                let shown = id.isFinite && id == id.rounded() && abs(id) < 1e15 ? String(Int(id)) : String(id)
                return "token id \(shown) of input '\(port.name)' is not an integer in 0..<\(vocabulary)"
            }
        }
        return nil
    }

    /// Checks every token id of a sequence; the error names the token's position (0-based)
    /// and, given `sequence`, the sequence's.
    package func checkIDs<T: BinaryFloatingPoint>(_ tokens: [[T]], sequence: Int? = nil) throws(RuntimeError) {
        guard contains(where: { $0.vocabulary != nil }) else { return }
        for (t, token) in tokens.enumerated() {
            if let problem = token.withUnsafeBufferPointer({ idProblem(in: $0) }) {
                throw .inputMismatch(problem + " (token \(t)" + (sequence.map { " of sequence \($0)" } ?? "") + ")")
            }
        }
    }
}

extension StepProgram {
    /// Bytes the program's weight matrices take once a session has converted them to
    /// `Scalar`: a dense entry its scalar, a sparse one its scalar and its column index. One
    /// step reads all of them, so this over the memory bandwidth bounds a step's time.
    public func weightBytes<Scalar: BinaryFloatingPoint>(as scalar: Scalar.Type) -> Int {
        let size = MemoryLayout<Scalar>.size
        var bytes = 0
        for m in matrices { bytes += m.storedCount * (m.isSparse ? size + 8 : size) }
        return bytes
    }

    /// Values a step session keeps beside the weights: every input, intermediate value,
    /// state and output once. Times the scalar's size, its buffer's bytes.
    public var workingValueCount: Int { slotSizes.reduce(0, &+) }

    /// The same program with every sparse matrix stored dense, to compare the two storages.
    public func withDenseMatrices() -> StepProgram {
        var dense = self
        dense.matrices = matrices.map { m in
            var copy = WeightMatrix(rows: m.rows, cols: m.cols, storage: .dense(m.denseValues()))
            copy.name = m.name
            return copy
        }
        return dense
    }
}
