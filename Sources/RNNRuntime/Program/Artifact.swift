import Foundation
import RNNOps

/// The arithmetic a model runs in.
public enum Precision: String, Sendable, Codable, CaseIterable {
    case float32, float64
}

/// The compiled artifact (`.rnnc`): a safetensors file (docs/artifact.md).
///
/// `__metadata__` holds `format` = "rnnc", `format_version`, `precision`, and `program`: the
/// step program, its scan plan and the list of its tensors, as JSON with explicit field
/// names (`ArtifactHeader`). Weight matrices are tensors named after the params they were
/// made from (`weight_ih_l0`, a block `weight_ih_l0[0:4]`, fused ones `a|b`; `matrix.N` for
/// matrices written in the source), dense as one `[rows, cols]` tensor, sparse (CSR) as
/// `NAME.row_offsets`, `NAME.columns` and `NAME.values`; vectors (biases, constants,
/// initial states) named after what uses them (`tensorNames`). Values are F32 when the model runs in Float32, else F64.
public enum Artifact {
    /// The metadata `format` of every rnnc artifact.
    public static let formatName = "rnnc"
    /// The format version this rnnc writes (docs/artifact.md).
    public static let formatVersion = 4
    /// Versions this rnnc reads: version 4 only added token inputs and `gather`, so a
    /// version-3 file reads as it is.
    public static let readableVersions = 3...formatVersion

    /// A compiled model: its step program, the plan for running whole sequences, and the
    /// precision it runs in unless the caller asks for another (metadata `precision`).
    public struct Model: Sendable, Equatable {
        /// The step program: one token at a time.
        public var program: StepProgram
        /// The scan plan: how whole sequences run.
        public var plan: ScanPlan
        /// The precision it runs in unless the caller asks for another.
        public var precision: Precision

        /// A model of a step program and its plan.
        public init(program: StepProgram, plan: ScanPlan, precision: Precision = .float64) {
            self.program = program
            self.plan = plan
            self.precision = precision
        }
    }

    /// The artifact's bytes (`Model.write(to:)` writes them); `metadata` adds header entries.
    public static func encode(_ model: Model, metadata extra: [String: String] = [:]) -> [UInt8] {
        let program = model.program
        let (names, vectorNames) = tensorNames(program)
        func floats(_ name: String, _ shape: [Int], _ values: [Double]) -> NamedTensor {
            model.precision == .float32 ? NamedTensor(name: name, shape: shape, float32: values) : NamedTensor(name: name, shape: shape, float64: values)
        }
        var tensors: [NamedTensor] = []
        for (m, name) in zip(program.matrices, names) {
            switch m.storage {
            case .dense(let v):
                tensors.append(floats(name, [m.rows, m.cols], v))
            case .sparse(let offsets, let columns, let values):
                tensors.append(NamedTensor(name: name + ".row_offsets", shape: [offsets.count], int64: offsets))
                tensors.append(NamedTensor(name: name + ".columns", shape: [columns.count], int64: columns))
                tensors.append(floats(name + ".values", [values.count], values))
            }
        }
        for (v, name) in zip(program.vectors, vectorNames) { tensors.append(floats(name, [v.count], v)) }
        let header = ArtifactHeader(
            program: program, scanPlan: model.plan,
            matrices: zip(program.matrices, names).map { ArtifactHeader.MatrixInfo(tensor: $1, name: $0.name, rows: $0.rows, cols: $0.cols, sparse: $0.isSparse) },
            vectors: vectorNames)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: (try? encoder.encode(header)) ?? Data(), as: UTF8.self)
        var metadata = extra
        metadata["format"] = formatName
        metadata["format_version"] = String(formatVersion)
        metadata["program"] = json
        metadata["precision"] = model.precision.rawValue
        return SafeTensors.encode(SafeTensors.File(tensors: tensors, metadata: metadata))
    }

    /// The tensor names of the matrices and of the vectors. A matrix is named after its own
    /// name (`matrix.N` when it has none); a vector after what uses it: `STATE.initial`, `M.bias`
    /// (the bias of matrix `M`'s product), `constant`; `vector.N` when nothing does. A name
    /// taken already gets `#2`, `#3`, ... The exporters name their weights the same way.
    package static func tensorNames(_ program: StepProgram) -> (matrices: [String], vectors: [String]) {
        var used = Set<String>()
        func unique(_ base: String, sparse: Bool = false) -> String {
            var name = base, k = 1
            func parts(_ n: String) -> [String] { sparse ? [n, n + ".row_offsets", n + ".columns", n + ".values"] : [n] }
            while !parts(name).allSatisfy({ !used.contains($0) }) {
                k += 1
                name = "\(base)#\(k)"
            }
            used.formUnion(parts(name))
            return name
        }
        let matrices = program.matrices.enumerated().map { i, m in unique(m.name.map(sanitized) ?? "matrix.\(i)", sparse: m.isSparse) }
        var uses = [String?](repeating: nil, count: program.vectors.count)
        func use(_ v: Int, _ name: String) { if v >= 0, v < uses.count, uses[v] == nil { uses[v] = name } }
        for state in program.states { use(state.initial, sanitized(state.name) + ".initial") }
        for ins in program.instructions {
            if case .affine(_, _, let m, let bias?, _) = ins, m >= 0, m < matrices.count { use(bias, matrices[m] + ".bias") }
        }
        for c in program.constants { use(c.vector, "constant") }
        return (matrices, uses.enumerated().map { i, name in unique(name ?? "vector.\(i)") })
    }

    /// A name safe in a safetensors header and as a prefix of `.row_offsets`: printable
    /// ASCII, and short.
    private static func sanitized(_ name: String) -> String {
        let kept = name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? Character($0) : "_" }
        let s = String(kept)
        return s.count > 200 ? String(s.prefix(200)) + "..." : s
    }

    /// Reads and checks an artifact (`Model.init(contentsOf:)` is the same).
    public static func load(path: String) throws(RuntimeError) -> Model {
        try decode(try InputFile.read(path), path: path)
    }

    /// Decodes and checks an artifact's bytes; `path` names it in errors. The bytes are
    /// untrusted: every size, index and plan is checked before the model can run.
    public static func decode(_ bytes: [UInt8], path: String) throws(RuntimeError) -> Model {
        func bad(_ m: String) -> RuntimeError { .badFile(path: path, line: nil, column: nil, message: "not a valid rnnc artifact: \(m)", lineText: nil) }
        let file = try SafeTensors.decode(bytes, path: path)
        guard file.metadata["format"] == formatName else { throw bad("its metadata does not say format \"rnnc\"") }
        let version = file.metadata["format_version"] ?? "none"
        guard let number = Int(version), readableVersions.contains(number), String(number) == version else {
            if let old = Int(version), old < readableVersions.lowerBound {
                throw bad("format version \(old) was written by an earlier rnnc; this rnnc reads versions \(readableVersions.lowerBound) to \(formatVersion): compile the source again")
            }
            throw bad("format version \(version) is not supported (this rnnc reads versions \(readableVersions.lowerBound) to \(formatVersion))")
        }
        guard let json = file.metadata["program"] else { throw bad("the program is missing from the metadata") }
        let precision = try file.metadata["precision"].map { (name: String) throws(RuntimeError) -> Precision in
            guard let p = Precision(rawValue: name) else { throw bad("unknown precision \"\(name)\" (float32 or float64)") }
            return p
        } ?? .float64
        let header: ArtifactHeader
        do {
            header = try JSONDecoder().decode(ArtifactHeader.self, from: Data(json.utf8))
        } catch {
            throw bad("the program metadata cannot be decoded (\(error))")
        }
        var program = header.program
        guard header.vectors.count <= file.tensors.count, header.matrices.count <= file.tensors.count else {
            throw bad("the tensor counts are wrong")
        }
        let named = header.matrices.map(\.tensor) + header.vectors
        guard Set(named).count == named.count else { throw bad("two matrices or vectors name the same tensor") }
        program.matrices = try header.matrices.map { info throws(RuntimeError) in try matrix(info, file, bad) }
        program.vectors = try header.vectors.map { name throws(RuntimeError) in try floats(name, file, bad, rank: 1).doubles() }
        let expected = Set(header.matrices.flatMap { info in
            info.sparse ? [info.tensor + ".row_offsets", info.tensor + ".columns", info.tensor + ".values"] : [info.tensor]
        } + header.vectors)
        if let extra = file.tensors.first(where: { !expected.contains($0.name) }) { throw bad("unexpected tensor '\(extra.name)'") }
        do {
            try program.validate()
            try header.scanPlan.validate(against: program)
            try header.scanPlan.checkAgreement(with: program)
        } catch {
            throw bad("\(error)")
        }
        return Model(program: program, plan: header.scanPlan, precision: precision)
    }

    private static func tensor(_ name: String, _ file: SafeTensors.File, _ bad: (String) -> RuntimeError,
                               dtypes: Set<DType>, rank: Int) throws(RuntimeError) -> NamedTensor {
        guard let t = file[name] else { throw bad("tensor '\(name)' is missing") }
        guard dtypes.contains(t.dtype), t.shape.count == rank else {
            throw bad("tensor '\(name)' should be \(dtypes.map(\.rawValue).sorted().joined(separator: " or ")) of rank \(rank)")
        }
        return t
    }

    private static func floats(_ name: String, _ file: SafeTensors.File, _ bad: (String) -> RuntimeError, rank: Int) throws(RuntimeError) -> NamedTensor {
        try tensor(name, file, bad, dtypes: [.f64, .f32], rank: rank)
    }

    private static func matrix(_ info: ArtifactHeader.MatrixInfo, _ file: SafeTensors.File, _ bad: (String) -> RuntimeError) throws(RuntimeError) -> WeightMatrix {
        let name = info.tensor
        guard info.rows >= 0, info.cols >= 0, !name.isEmpty else { throw bad("matrix '\(name)' has a negative size or no name") }
        // The matrix's own name is stored beside its tensor's (which may carry `#2` to be unique,
        // while a state's name may itself contain `#`).
        let given = info.name
        if !info.sparse {
            let t = try floats(name, file, bad, rank: 2)
            guard t.shape == [info.rows, info.cols] else { throw bad("\(name) has shape \(t.shape), expected [\(info.rows), \(info.cols)]") }
            return WeightMatrix(rows: info.rows, cols: info.cols, storage: .dense(t.doubles()), name: given)
        }
        let offsets = try tensor(name + ".row_offsets", file, bad, dtypes: [.i64], rank: 1).integers()
        let columns = try tensor(name + ".columns", file, bad, dtypes: [.i64], rank: 1).integers()
        let values = try floats(name + ".values", file, bad, rank: 1).doubles()
        let m = WeightMatrix(rows: info.rows, cols: info.cols, storage: .sparse(rowOffsets: offsets, columns: columns, values: values), name: given)
        if let problem = m.validate() { throw bad("matrix '\(name)': \(problem)") }
        return m
    }
}

/// The JSON in an artifact's `program` metadata, with the field names docs/artifact.md gives.
struct ArtifactHeader: Codable {
    struct MatrixInfo: Codable {
        var tensor: String
        /// What the matrix was made from (`WeightMatrix.name`); absent for literal matrices.
        var name: String?
        var rows: Int
        var cols: Int
        var sparse: Bool

        private enum CodingKeys: String, CodingKey { case tensor, name, rows, cols, sparse }
    }

    var program: StepProgram
    var scanPlan: ScanPlan
    var matrices: [MatrixInfo]
    /// The vectors' tensor names, in index order.
    var vectors: [String]

    private enum CodingKeys: String, CodingKey {
        case program, scanPlan = "scan_plan", matrices, vectors
    }
}
