import Foundation

/// One instruction of a step program. Operands are slot numbers. Four structural kinds; what
/// an element-wise op computes is its entry in the op table (`RNNOps`).
public enum Instruction: Sendable, Equatable {
    /// `dst = epilogue(matrices[matrix] * src (+ vectors[bias]))`; the epilogue, when there
    /// is one, is a unary element-wise op applied while the product's rows are in cache.
    case affine(dst: Int, src: Int, matrix: Int, bias: Int?, epilogue: ElementwiseOp?)
    /// `dst = op(lhs, rhs)` element-wise; `rhs` is nil for a unary op.
    case elementwise(ElementwiseOp, dst: Int, lhs: Int, rhs: Int?)
    case concat(dst: Int, parts: [Int])
    /// `dst = src[start ..< start + size(dst)]`
    case slice(dst: Int, src: Int, start: Int)

    /// The slot this instruction writes.
    public var destination: Int {
        switch self {
        case .affine(let d, _, _, _, _), .elementwise(_, let d, _, _), .concat(let d, _), .slice(let d, _, _): return d
        }
    }

    /// The slots this instruction reads.
    public var operands: [Int] {
        switch self {
        case .affine(_, let s, _, _, _), .slice(_, let s, _): return [s]
        case .elementwise(_, _, let l, let r): return r.map { [l, $0] } ?? [l]
        case .concat(_, let parts): return parts
        }
    }
}

/// A named vector port of a program (an input or a state).
public struct Port: Codable, Sendable, Equatable {
    public var name: String
    public var size: Int

    private enum CodingKeys: String, CodingKey { case name, size }

    public init(name: String, size: Int) {
        self.name = name
        self.size = size
    }
}

/// A state: its current value lives in `slot`; at the end of each step `update` is copied into it.
public struct StateSlot: Codable, Sendable, Equatable {
    public var name: String
    public var slot: Int
    public var update: Int
    /// Index into `StepProgram.vectors` of the initial value.
    public var initial: Int

    private enum CodingKeys: String, CodingKey { case name, slot, update, initial }

    public init(name: String, slot: Int, update: Int, initial: Int) {
        self.name = name
        self.slot = slot
        self.update = update
        self.initial = initial
    }
}

/// A constant vector loaded into a slot once, when a session starts.
public struct ConstantSlot: Codable, Sendable, Equatable {
    public var slot: Int
    public var vector: Int

    private enum CodingKeys: String, CodingKey { case slot, vector }

    public init(slot: Int, vector: Int) {
        self.slot = slot
        self.vector = vector
    }
}

/// One time step of a model as a flat instruction list over preplanned slots.
///
/// Memory: every slot is a fixed-size vector; slots are laid out back to back in one buffer
/// (see `StepExecutor`). Inputs are copied into `inputSlots`, the instructions run in order,
/// the output is the concatenation of `outputSlots`, then every state copies its update.
public struct StepProgram: Codable, Sendable, Equatable {
    public var modelName: String
    public var inputs: [Port]
    public var inputSlots: [Int]
    public var outputSlots: [Int]
    public var slotSizes: [Int]
    public var states: [StateSlot]
    public var constants: [ConstantSlot]
    public var instructions: [Instruction]
    /// Weight matrices referenced by `affine` (stored as tensors in an artifact).
    public var matrices: [WeightMatrix]
    /// Biases, constants and initial states (stored as tensors in an artifact).
    public var vectors: [[Double]]

    /// The artifact's field names (docs/artifact.md); matrices and vectors are tensors.
    enum CodingKeys: String, CodingKey {
        case modelName = "model_name", inputs, inputSlots = "input_slots", outputSlots = "output_slots"
        case slotSizes = "slot_sizes", states, constants, instructions
    }

    public init(modelName: String, inputs: [Port], inputSlots: [Int], outputSlots: [Int], slotSizes: [Int],
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

    public var inputWidth: Int { inputs.reduce(0) { $0 + $1.size } }
    public var outputWidth: Int { outputSlots.reduce(0) { $0 + slotSizes[$1] } }
}

extension Instruction: CustomStringConvertible {
    /// `$2 = sigmoid(M0 $0 + v0)`: slots as `$n`, matrices as `Mn`, vectors as `vn`.
    public var description: String {
        func affine(_ src: Int, _ m: Int, _ bias: Int?) -> String { "M\(m) $\(src)" + (bias.map { " + v\($0)" } ?? "") }
        switch self {
        case .affine(let d, let s, let m, let b, nil): return "$\(d) = \(affine(s, m, b))"
        case .affine(let d, let s, let m, let b, let f?): return "$\(d) = " + f.call([affine(s, m, b)])
        case .elementwise(let op, let d, let l, let r?) where op.kind == .add: return "$\(d) = $\(l) + $\(r)"
        case .elementwise(let op, let d, let l, let r?) where op.kind == .mul: return "$\(d) = $\(l) * $\(r)"
        case .elementwise(let op, let d, let l, let r): return "$\(d) = " + op.call(([l] + (r.map { [$0] } ?? [])).map { "$\($0)" })
        case .concat(let d, let parts): return "$\(d) = concat(" + parts.map { "$\($0)" }.joined(separator: ", ") + ")"
        case .slice(let d, let s, let start): return "$\(d) = $\(s)[\(start)...]"
        }
    }
}

extension ScanPlan.Stage: CustomStringConvertible {
    public var description: String {
        switch self {
        case .batched(let list): return "batched over all steps: instructions " + list.map(String.init).joined(separator: ", ")
        case .recurrence(let r):
            return "\(r.kind.rawValue) recurrence of states \(r.states.map(String.init).joined(separator: ", ")): instructions "
                + r.instructions.map(String.init).joined(separator: ", ") + (r.transition.map { ", A = M\($0)" } ?? "")
        }
    }
}
