import Foundation
import RNNExport
import RNNRuntime
@testable import RNNCompiler

/// Writes cases for Tests/Python/check_onnx.py: each model exported in both ONNX forms and
/// both precisions, a batch of inputs, and the outputs rnnc expects. Float64 exports are
/// held to the reference interpreter (from the initial states) and to the Float64 step
/// program (from given states, which the interpreter cannot start from once the optimizer
/// has merged states; the step program is itself checked against the interpreter). Float32
/// exports are held to rnnc's Float32 step program: both round the same operations, while a
/// Float64 reference would measure the model's own sensitivity to Float32 (an LSRL counter
/// amplifies it past 1e-5).
struct ExportCases {
    let directory: URL
    private var manifest: [[String: Any]] = []

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var count: Int { manifest.count }

    /// Adds a case: `reference` runs one sequence from the initial states.
    mutating func add(_ name: String, model: Artifact.Model, batch: [[[Double]]], rng: inout SplitMix64,
                      reference: ([[Double]]) -> [[Double]]) throws {
        let program = model.program
        let file = name.map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
        var models: [[String: Any]] = []
        for form in ONNXExporter.Form.allCases {
            for precision in Precision.allCases {
                let path = "\(file).\(form.rawValue).\(precision.rawValue).onnx"
                try ONNXExporter.export(model, form: form, precision: precision).write(to: directory.appendingPathComponent(path))
                models.append(["file": path, "form": form.rawValue, "precision": precision.rawValue])
            }
        }
        let steps = batch.first?.count ?? 0
        try write("\(file).x.npy", [batch.count, steps, program.inputWidth], batch.flatMap { $0.flatMap { $0 } })
        let sizes = program.states.map { program.slotSizes[$0.slot] }
        let given = batch.map { _ in sizes.map { k in (0..<k).map { _ in 2 * rng.nextUnit() - 1 } } }
        var runs: [[String: Any]] = []
        for (label, initial) in [("initial states", nil), ("given states", given)] as [(String, [[[Double]]]?)] {
            let tag = initial == nil ? "default" : "given"
            var run: [String: Any] = ["name": label, "initial": NSNull()]
            for precision in Precision.allCases {
                var (ys, finals) = try Self.stepRun(program, batch, initial: initial, float32: precision == .float32)
                if initial == nil, precision == .float64 { ys = batch.map(reference) }
                let key = "\(file).\(tag).\(precision.rawValue)"
                try write("\(key).y.npy", [batch.count, steps, program.outputWidth], ys.flatMap { $0.flatMap { $0 } })
                run["y." + precision.rawValue] = "\(key).y.npy"
                run["finals." + precision.rawValue] = try sizes.indices.map { k in
                    try write("\(key).final\(k).npy", [batch.count, sizes[k]], finals.flatMap { $0[k] })
                    return "\(key).final\(k).npy"
                }
            }
            if let initial {
                run["initial"] = try sizes.indices.map { k in
                    let path = "\(file).\(tag).initial\(k).npy"
                    try write(path, [batch.count, sizes[k]], initial.flatMap { $0[k] })
                    return path
                }
            }
            runs.append(run)
        }
        manifest.append(["name": name, "models": models, "x": "\(file).x.npy", "states": ONNXExporter.stateNames(program), "runs": runs])
    }

    /// Each sequence's outputs and final states in rnnc's step program, from the initial
    /// states or from given ones.
    static func stepRun(_ program: StepProgram, _ batch: [[[Double]]], initial: [[[Double]]]?, float32: Bool) throws -> ([[[Double]]], [[[Double]]]) {
        func run<Scalar: BinaryFloatingPoint & Sendable>(_ session: StepSession<Scalar>) throws -> ([[[Double]]], [[[Double]]]) {
            var ys: [[[Double]]] = [], finals: [[[Double]]] = []
            for (b, sequence) in batch.enumerated() {
                session.reset()
                if let initial { try session.setStates(initial[b]) }
                ys.append(try sequence.map { try session.step($0) })
                finals.append(session.stateValues())
            }
            return (ys, finals)
        }
        return float32 ? try run(StepSession<Float>(program: program, threads: 1)) : try run(StepSession<Double>(program: program, threads: 1))
    }

    private func write(_ path: String, _ shape: [Int], _ values: [Double]) throws {
        try Data(NumPy.encode(shape: shape, values: values, float32: false)).write(to: directory.appendingPathComponent(path))
    }

    /// Writes the manifest and runs the checker; returns its exit status and output.
    func check() throws -> (status: Int32, output: String) {
        let json = try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted])
        try json.write(to: directory.appendingPathComponent("manifest.json"))
        return try python(["\(repoRoot)/Tests/Python/check_onnx.py", directory.path])
    }
}

/// Runs `python3` with arguments; returns the exit status and the combined output.
func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Whether python3 imports these modules. CI installs them and sets
/// `RNNC_REQUIRE_PYTHON_CHECKS=1`, which makes their absence a failure, not a skip.
func pythonHas(_ modules: [String]) -> Bool {
    (try? python(["-c", "import " + modules.joined(separator: ", ")]).status) == 0
}

var pythonChecksRequired: Bool { ProcessInfo.processInfo.environment["RNNC_REQUIRE_PYTHON_CHECKS"] == "1" }
