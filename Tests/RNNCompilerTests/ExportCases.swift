import Foundation
import Testing
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

    /// Adds a case: `reference` runs one sequence from the initial states. With `nativeCells`
    /// (the elaborated program `model` was lowered from, unoptimized), the exports use ONNX's
    /// own cell ops, in Float32 only (onnxruntime's GRU, LSTM and RNN have no Float64 kernels).
    mutating func add(_ name: String, model: Artifact.Model, batch: [[[Double]]], rng: inout SplitMix64, nativeCells: IRProgram? = nil,
                      reference: ([[Double]]) -> [[Double]]) throws {
        let program = model.program
        let file = name.map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
        var models: [[String: Any]] = []
        for form in ONNXExporter.Form.allCases {
            for precision in Precision.allCases where nativeCells == nil || precision == .float32 {
                let path = "\(file).\(form.rawValue).\(precision.rawValue).onnx"
                let bytes = try nativeCells.map { ir throws in try ONNXExporter.exportNativeCells(ir, form: form, precision: precision) }
                    ?? ONNXExporter.export(model, form: form, precision: precision)
                try bytes.write(to: directory.appendingPathComponent(path))
                models.append(["file": path, "form": form.rawValue, "precision": precision.rawValue])
            }
        }
        let steps = batch.first?.count ?? 0
        try write("\(file).x.npy", [batch.count, steps, program.inputWidth], batch.flatMap { $0.flatMap { $0 } })
        let sizes = program.states.map { program.slotSizes[$0.slot] }
        let shapes = program.states.enumerated().map { k, s in s.matrixShape ?? [sizes[k]] }  // a matrix state is [B, m, n]
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
                    try write("\(key).final\(k).npy", [batch.count] + shapes[k], finals.flatMap { $0[k] })
                    return "\(key).final\(k).npy"
                }
            }
            if let initial {
                run["initial"] = try sizes.indices.map { k in
                    let path = "\(file).\(tag).initial\(k).npy"
                    try write(path, [batch.count] + shapes[k], initial.flatMap { $0[k] })
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
                ys.append(try sequence.map { try session.step(doubles: $0) })
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

/// The folder of the rnnc binary built with the tests (for guides run as written).
func builtRNNCFolder() throws -> String {
    let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    return try #require([bin, repoRoot + "/.build/debug"].first { FileManager.default.isExecutableFile(atPath: $0 + "/rnnc") },
                        "the rnnc binary is built beside the tests")
}

var pythonChecksRequired: Bool { ProcessInfo.processInfo.environment["RNNC_REQUIRE_PYTHON_CHECKS"] == "1" }

/// Writes cases for Tests/Python/check_torch.py: each model exported as a PyTorch module, a
/// batch of inputs, and the reference interpreter's outputs and final states from the
/// initial states and from given ones. A case may ask for a fine-tuning round trip: Python
/// tunes the params and writes them, and `tunedAgree` runs them back through rnnc.
struct TorchCases {
    let directory: URL
    private var manifest: [[String: Any]] = []
    /// Cases whose tuned params come back: how to compile with a weights file, and the batch.
    private var tuned: [(name: String, weights: String, y: String, batch: [[[Double]]], compile: (String) throws -> IRProgram)] = []

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-torch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var count: Int { manifest.count }

    /// Adds a case. `float32`: also check the module in Float32 (models meant to run in it:
    /// LSRL programs' large constants amplify Float32 rounding past any useful tolerance, which
    /// is why rnnc runs them in Float64). `script`: also run under torch.jit.script.
    /// `recompile`: compiles the model with a weights file, for the tuning round trip.
    mutating func add(_ name: String, ir: IRProgram, batch: [[[Double]]], rng: inout SplitMix64, float32: Bool, script: Bool = false,
                      recompile: ((String) throws -> IRProgram)? = nil) throws {
        let file = "m_" + name.map { $0.isLetter || $0.isNumber ? $0 : "_" }.map(String.init).joined()
        let className = TorchExporter.className(ir.modelName)
        let exported = try TorchExporter.export(ir, className: className, weightsFile: file + ".safetensors", dtype: .float64)
        try Data(exported.python.utf8).write(to: directory.appendingPathComponent(file + ".py"))
        try Data(SafeTensors.encode(exported.tensors)).write(to: directory.appendingPathComponent(file + ".safetensors"))
        let steps = batch.first?.count ?? 0
        try write("\(file).x.npy", [batch.count, steps, ir.inputWidth], batch.flatMap { $0.flatMap { $0 } })
        let sizes = ir.states.map(\.size)
        let shapes = ir.states.map(\.shape)  // a matrix state is [B, m, n]
        let given = batch.map { _ in sizes.map { k in (0..<k).map { _ in 2 * rng.nextUnit() - 1 } } }
        var runs: [[String: Any]] = []
        for (tag, initial) in [("default", nil), ("given", given)] as [(String, [[[Double]]]?)] {
            var ys: [[[Double]]] = [], finals: [[[Double]]] = []
            for (b, sequence) in batch.enumerated() {
                var interpreter = Interpreter(program: ir)
                if let initial { interpreter.states = initial[b] }
                ys.append(sequence.map { interpreter.step($0) })
                finals.append(interpreter.states)
            }
            var run: [String: Any] = ["name": tag + " states", "y": "\(file).\(tag).y.npy", "initial": NSNull()]
            try write("\(file).\(tag).y.npy", [batch.count, steps, ir.outputWidth], ys.flatMap { $0.flatMap { $0 } })
            run["finals"] = try sizes.indices.map { k in
                try write("\(file).\(tag).final\(k).npy", [batch.count] + shapes[k], finals.flatMap { $0[k] })
                return "\(file).\(tag).final\(k).npy"
            }
            if let initial {
                run["initial"] = try sizes.indices.map { k in
                    try write("\(file).\(tag).initial\(k).npy", [batch.count] + shapes[k], initial.flatMap { $0[k] })
                    return "\(file).\(tag).initial\(k).npy"
                }
            }
            runs.append(run)
        }
        var entry: [String: Any] = ["name": name, "module": file + ".py", "class": className, "x": "\(file).x.npy", "runs": runs, "script": script, "float32": float32]
        if let recompile {
            entry["tune"] = ["weights": "\(file).tuned.safetensors", "y": "\(file).tuned.y.npy"]
            tuned.append((name, "\(file).tuned.safetensors", "\(file).tuned.y.npy", batch, recompile))
        }
        manifest.append(entry)
    }

    private func write(_ path: String, _ shape: [Int], _ values: [Double]) throws {
        try Data(NumPy.encode(shape: shape, values: values, float32: false)).write(to: directory.appendingPathComponent(path))
    }

    func check() throws -> (status: Int32, output: String) {
        try JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted]).write(to: directory.appendingPathComponent("manifest.json"))
        return try python(["\(repoRoot)/Tests/Python/check_torch.py", directory.path])
    }

    /// After `check`: each tuned model, compiled with the params torch wrote, gives torch's
    /// tuned outputs. Returns the disagreements.
    func tunedAgree() throws -> [String] {
        var problems: [String] = []
        for t in tuned {
            let ir = try t.compile(directory.appendingPathComponent(t.weights).path)
            let want = try NumPy.decode(Array(Data(contentsOf: directory.appendingPathComponent(t.y))), path: t.y).values
            let got = t.batch.flatMap { interpret(ir, $0).flatMap { $0 } }
            let worst = zip(got, want).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            if got.count != want.count || worst > 1e-10 { problems.append("\(t.name): tuned weights give outputs off by \(worst) in rnnc") }
        }
        return problems
    }
}
