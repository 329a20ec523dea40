import Foundation

/// The compiled artifact (`.rnnc`): a safetensors file.
///
/// `__metadata__` holds `format` = "rnnc", `format_version`, and `program`: the step program
/// (slots, instructions, states) and its scan plan, as JSON. Weights are ordinary tensors: dense matrices as
/// `matrix.N` (F64, [rows, cols]); sparse ones as `matrix.N.row_offsets` (I64, [rows+1]),
/// `matrix.N.columns` (I64, [nnz]) and `matrix.N.values` (F64, [nnz]); vectors (biases,
/// constants, initial states) as `vector.N` (F64, [n]). See docs/artifact.md.
/// The arithmetic a model runs in.
public enum Precision: String, Sendable, Codable, CaseIterable {
    case float32, float64
}

public enum Artifact {
    public static let formatName = "rnnc"
    public static let formatVersion = 3

    private struct MatrixInfo: Codable {
        var rows: Int
        var cols: Int
        var sparse: Bool
    }

    private struct Header: Codable {
        var program: StepProgram
        var scanPlan: ScanPlan
        var matrices: [MatrixInfo]
        var vectorCount: Int
    }

    /// A compiled model: its step program, the plan for running whole sequences, and the
    /// precision it runs in unless the caller asks for another (metadata `precision`).
    public struct Model: Sendable, Equatable {
        public var program: StepProgram
        public var plan: ScanPlan
        public var precision: Precision

        public init(program: StepProgram, plan: ScanPlan, precision: Precision = .float64) {
            self.program = program
            self.plan = plan
            self.precision = precision
        }
    }

    public static func encode(_ model: Model, metadata extra: [String: String] = [:]) -> [UInt8] {
        let program = model.program
        var tensors: [NamedTensor] = []
        for (i, m) in program.matrices.enumerated() {
            switch m.storage {
            case .dense(let v):
                tensors.append(NamedTensor(name: "matrix.\(i)", shape: [m.rows, m.cols], float64: v))
            case .sparse(let offsets, let columns, let values):
                tensors.append(NamedTensor(name: "matrix.\(i).row_offsets", shape: [offsets.count], int64: offsets))
                tensors.append(NamedTensor(name: "matrix.\(i).columns", shape: [columns.count], int64: columns))
                tensors.append(NamedTensor(name: "matrix.\(i).values", shape: [values.count], float64: values))
            }
        }
        for (i, v) in program.vectors.enumerated() {
            tensors.append(NamedTensor(name: "vector.\(i)", shape: [v.count], float64: v))
        }
        let header = Header(program: program, scanPlan: model.plan,
                            matrices: program.matrices.map { MatrixInfo(rows: $0.rows, cols: $0.cols, sparse: $0.isSparse) },
                            vectorCount: program.vectors.count)
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

    public static func load(path: String) throws(RuntimeError) -> Model {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .io("cannot read '\(path)': no such file or not readable")
        }
        return try decode([UInt8](data), path: path)
    }

    public static func decode(_ bytes: [UInt8], path: String) throws(RuntimeError) -> Model {
        func bad(_ m: String) -> RuntimeError { .badFile(path: path, line: nil, column: nil, message: "not a valid rnnc artifact: \(m)", lineText: nil) }
        let file = try SafeTensors.decode(bytes, path: path)
        guard file.metadata["format"] == formatName else { throw bad("its metadata does not say format \"rnnc\"") }
        guard file.metadata["format_version"] == String(formatVersion) else {
            let version = file.metadata["format_version"] ?? "none"
            if let old = Int(version), old < formatVersion {
                throw bad("format version \(old) was written by an earlier rnnc; this rnnc reads version \(formatVersion): compile the source again")
            }
            throw bad("format version \(version) is not supported (this rnnc reads version \(formatVersion))")
        }
        guard let json = file.metadata["program"] else { throw bad("the program is missing from the metadata") }
        let precision = try file.metadata["precision"].map { (name: String) throws(RuntimeError) -> Precision in
            guard let p = Precision(rawValue: name) else { throw bad("unknown precision \"\(name)\" (float32 or float64)") }
            return p
        } ?? .float64
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(json.utf8))
        } catch {
            throw bad("the program metadata cannot be decoded (\(error))")
        }
        var program = header.program
        guard header.vectorCount >= 0, header.vectorCount <= file.tensors.count else { throw bad("vector count \(header.vectorCount) is wrong") }
        program.matrices = try header.matrices.enumerated().map { (i, info) throws(RuntimeError) in
            try matrix(i, info, file, bad)
        }
        program.vectors = try (0..<header.vectorCount).map { i throws(RuntimeError) in
            try tensor("vector.\(i)", file, bad, dtype: .f64, rank: 1).doubles()
        }
        let expected = Set(program.matrices.indices.flatMap { i in
            program.matrices[i].isSparse ? ["matrix.\(i).row_offsets", "matrix.\(i).columns", "matrix.\(i).values"] : ["matrix.\(i)"]
        } + (0..<header.vectorCount).map { "vector.\($0)" })
        if let extra = file.tensors.first(where: { !expected.contains($0.name) }) { throw bad("unexpected tensor '\(extra.name)'") }
        do {
            try program.validate()
            try header.scanPlan.validate(against: program)
        } catch {
            throw bad("\(error)")
        }
        return Model(program: program, plan: header.scanPlan, precision: precision)
    }

    private static func tensor(_ name: String, _ file: SafeTensors.File, _ bad: (String) -> RuntimeError,
                               dtype: DType, rank: Int) throws(RuntimeError) -> NamedTensor {
        guard let t = file[name] else { throw bad("tensor '\(name)' is missing") }
        guard t.dtype == dtype, t.shape.count == rank else { throw bad("tensor '\(name)' should be \(dtype.rawValue) of rank \(rank)") }
        return t
    }

    private static func matrix(_ i: Int, _ info: MatrixInfo, _ file: SafeTensors.File, _ bad: (String) -> RuntimeError) throws(RuntimeError) -> WeightMatrix {
        guard info.rows >= 0, info.cols >= 0 else { throw bad("matrix \(i) has a negative size") }
        if !info.sparse {
            let t = try tensor("matrix.\(i)", file, bad, dtype: .f64, rank: 2)
            guard t.shape == [info.rows, info.cols] else { throw bad("matrix.\(i) has shape \(t.shape), expected [\(info.rows), \(info.cols)]") }
            return WeightMatrix(rows: info.rows, cols: info.cols, storage: .dense(t.doubles()))
        }
        let offsets = try tensor("matrix.\(i).row_offsets", file, bad, dtype: .i64, rank: 1).integers()
        let columns = try tensor("matrix.\(i).columns", file, bad, dtype: .i64, rank: 1).integers()
        let values = try tensor("matrix.\(i).values", file, bad, dtype: .f64, rank: 1).doubles()
        let m = WeightMatrix(rows: info.rows, cols: info.cols, storage: .sparse(rowOffsets: offsets, columns: columns, values: values))
        if let problem = m.validate() { throw bad("matrix \(i): \(problem)") }
        return m
    }
}
