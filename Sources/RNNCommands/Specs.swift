import Foundation
import RNNCompiler
import RNNRuntime
import Yams

/// One conformance spec (see specs/README.md for the format).
package struct Spec: Sendable, CustomStringConvertible {
    package var name: String
    package var file: String
    package var source: String
    package var sourcePath: String
    package var settings: [(name: String, value: String)]
    package var model: String?
    package var weights: String?
    package var inputs: [[[Double]]]
    package var expectedOutputs: [[[Double]]]?
    package var tolerance: Double
    package var expectedDiagnostics: [ExpectedDiagnostic]?
    package var modes: [String]
    /// Modes run only where the program allows them: `layers` for a spec that names no
    /// modes (a program with nonlinear states has no layer chain).
    package var optionalModes: [String] = []
    package var dtypes: [String]

    package struct ExpectedDiagnostic: Sendable, Equatable, CustomStringConvertible {
        package var code: String
        package var line: Int?
        package var column: Int?
        package var description: String { code + (line.map { " at \($0)" } ?? "") + (column.map { ":\($0)" } ?? "") }
    }

    package var description: String { "\((file as NSString).lastPathComponent): \(name)" }

    /// The engines: the reference interpreter, the step and scan programs, and the layer
    /// chain (`--target layers`, run by the step program).
    package static let allModes = ["interpreter", "step", "scan", "layers"]
}

package struct SpecError: Error, CustomStringConvertible {
    package var description: String
}

extension Spec {
    /// The most YAML nodes one spec file may expand to.
    static let maxNodes = 1_000_000

    /// Whether `node`, with its aliases expanded, has at most `budget` nodes; stops counting
    /// once over, so the walk is bounded however large the expansion is.
    static func fits(_ node: Node, budget: Int) -> Bool {
        var left = budget
        var work = [node]
        while let n = work.popLast() {
            left -= 1
            if left < 0 { return false }
            switch n {
            case .scalar, .alias: break
            case .mapping(let m): for (k, v) in m { work.append(k); work.append(v) }
            case .sequence(let items): work += items
            }
        }
        return true
    }

    /// Reads a spec file: one spec (a mapping) or several (`specs:` followed by a list).
    package static func load(path: String) throws -> [Spec] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw SpecError(description: "\(path): cannot read") }
        let node: Any?
        do {
            // Aliases share their anchor's node, so a few lines can stand for billions of
            // nodes ("billion laughs"); count the expanded nodes up to a budget before building them.
            if let composed = try Yams.compose(yaml: text), !Self.fits(composed, budget: Self.maxNodes) {
                throw SpecError(description: "\(path): the YAML expands (through aliases) to more than \(Self.maxNodes) nodes")
            }
            node = try Yams.load(yaml: text)
        } catch let error as SpecError {
            throw error
        } catch {
            throw SpecError(description: "\(path): not valid YAML: \(error)")
        }
        guard let root = node as? [String: Any] else { throw SpecError(description: "\(path): expected a mapping at the top") }
        let dir = (path as NSString).deletingLastPathComponent
        if let list = root["specs"] {
            guard let items = list as? [[String: Any]] else { throw SpecError(description: "\(path): 'specs' must be a list of mappings") }
            let shared = root.filter { $0.key != "specs" }
            return try items.enumerated().map { i, item in
                try Spec(shared.merging(item) { _, new in new }, file: path, dir: dir, index: i)
            }
        }
        return [try Spec(root, file: path, dir: dir, index: 0)]
    }

    init(_ m: [String: Any], file: String, dir: String, index: Int) throws {
        func fail(_ message: String) -> SpecError { SpecError(description: "\(file): spec \(index + 1): \(message)") }
        let known: Set<String> = ["name", "program", "program_file", "settings", "model", "weights", "inputs", "inputs_file", "expect", "modes", "dtypes"]
        if let unknown = m.keys.first(where: { !known.contains($0) }) { throw fail("unknown key '\(unknown)'") }
        name = (m["name"] as? String) ?? "spec \(index + 1)"
        self.file = file
        if let program = m["program"] as? String {
            source = program
            sourcePath = file
        } else if let path = m["program_file"] as? String {
            sourcePath = (dir as NSString).appendingPathComponent(path)
            guard let text = try? String(contentsOfFile: sourcePath, encoding: .utf8) else { throw fail("cannot read program_file \(path)") }
            source = text
        } else {
            throw fail("needs 'program' or 'program_file'")
        }
        settings = ((m["settings"] as? [String: Any]) ?? [:]).map { ($0.key, "\($0.value)") }.sorted { $0.name < $1.name }
        model = m["model"] as? String
        weights = (m["weights"] as? String).map { (dir as NSString).appendingPathComponent($0) }
        if let path = m["inputs_file"] as? String {
            let full = (dir as NSString).appendingPathComponent(path)
            guard let format = DataFormat(path: full) else { throw fail("inputs_file needs a .json, .csv or .npy extension") }
            let data = try SequenceData.read(path: full, format: format)
            inputs = data.sequences
        } else {
            inputs = try Self.sequences(m["inputs"] ?? [], fail)
        }
        guard let expect = m["expect"] as? [String: Any] else { throw fail("needs 'expect' with 'outputs' or 'diagnostics'") }
        tolerance = (expect["tolerance"] as? Double) ?? (expect["tolerance"] as? Int).map(Double.init) ?? 1e-9
        expectedOutputs = try expect["outputs"].map { try Self.sequences($0, fail) }
        expectedDiagnostics = try (expect["diagnostics"] as? [Any])?.map { item in
            guard let d = item as? [String: Any], let code = d["code"] as? String else { throw fail("each diagnostic needs a 'code'") }
            return ExpectedDiagnostic(code: code, line: d["line"] as? Int, column: d["column"] as? Int)
        }
        guard (expectedOutputs == nil) != (expectedDiagnostics == nil) else { throw fail("'expect' needs exactly one of 'outputs' and 'diagnostics'") }
        modes = (m["modes"] as? [String]) ?? ["interpreter", "step", "scan"]
        if m["modes"] == nil { optionalModes = ["layers"] }
        dtypes = (m["dtypes"] as? [String]) ?? ["float64"]
        if let bad = modes.first(where: { !Spec.allModes.contains($0) }) { throw fail("unknown mode '\(bad)'") }
        if let bad = dtypes.first(where: { $0 != "float32" && $0 != "float64" }) { throw fail("unknown dtype '\(bad)'") }
    }

    /// Inputs and outputs: a sequence (list of tokens; a token is a number or a list of
    /// numbers) or, under `batch:`, a list of sequences.
    static func sequences(_ value: Any, _ fail: (String) -> SpecError) throws -> [[[Double]]] {
        func number(_ v: Any) throws -> Double {
            if let d = v as? Double { return d }
            if let i = v as? Int { return Double(i) }
            throw fail("expected a number, found \(v)")
        }
        func sequence(_ v: Any) throws -> [[Double]] {
            guard let tokens = v as? [Any] else { throw fail("expected a list of tokens") }
            return try tokens.map { t in
                if let list = t as? [Any] { return try list.map(number) }
                return [try number(t)]
            }
        }
        if let m = value as? [String: Any], let batch = m["batch"] as? [Any] { return try batch.map(sequence) }
        return [try sequence(value)]
    }
}

/// Runs specs: compiles each program and checks its diagnostics, or runs it in every
/// requested mode and dtype and compares outputs.
package enum SpecRunner {
    package struct Failure: CustomStringConvertible {
        package var spec: String
        package var detail: String
        package var description: String { "FAIL \(spec)\n\(detail)" }
    }

    package static func run(_ spec: Spec, stdlib: String?) -> [Failure] {
        var compiler = Compiler(stdlibPath: stdlib, options: ElaborationOptions(modelName: spec.model, settings: spec.settings))
        func failure(_ detail: String) -> [Failure] { [Failure(spec: spec.description, detail: detail)] }
        if let weights = spec.weights {
            do {
                _ = try compiler.loadWeights(path: weights)
            } catch {
                return failure("cannot load weights: \(error)")
            }
        }
        let compiled: CompiledModel?
        do {
            compiled = compiler.diagnostics.hasErrors ? nil : try compiler.compile(SourceFile(path: spec.sourcePath, text: spec.source), options: PipelineOptions(verifyEach: true))
        } catch {
            return failure("internal error: \(error)")
        }
        // The layer chain, where a mode needs it: a spec that names `layers` expects it (its
        // absence is E0603 among the diagnostics); otherwise it runs where there is one.
        var chain: Artifact.Model?
        var chainDiagnostic: Diagnostic?
        if let compiled, spec.modes.contains("layers") || spec.optionalModes.contains("layers") {
            do {
                let program = try LayerChainBuilder.build(compiled.ir).asIR()
                let (steps, plan) = ScanLowering.lower(program)
                chain = Artifact.Model(program: steps, plan: plan, precision: compiled.model.precision)
            } catch {
                if spec.modes.contains("layers") { chainDiagnostic = error.diagnostic }
            }
        }
        let ir = chainDiagnostic == nil ? compiled?.ir : nil
        let got = compiler.diagnostics.diagnostics + [chainDiagnostic].compactMap { $0 }
        if let expected = spec.expectedDiagnostics {
            var problems: [String] = []
            for e in expected where !got.contains(where: { matches($0, e) }) {
                problems.append("  expected \(e)")
            }
            // A program expected to give only warnings compiles; one expected to give an error must not.
            let compiledWrongly = ir != nil && expected.contains { DiagnosticCode(rawValue: $0.code)?.isWarning != true }
            if !problems.isEmpty || compiledWrongly {
                problems.append(compiledWrongly ? "  but the program compiled" : "  got:\n" + got.map { "    " + $0.description.replacingOccurrences(of: "\n", with: "\n    ") }.joined(separator: "\n"))
                return failure(problems.joined(separator: "\n"))
            }
            return []
        }
        guard let compiled, chainDiagnostic == nil else {
            return failure("does not compile:\n" + (chainDiagnostic?.description ?? compiler.diagnostics.render()))
        }
        var failures: [Failure] = []
        let want = spec.expectedOutputs!
        for mode in spec.modes + spec.optionalModes.filter({ _ in chain != nil }) {
            for dtype in spec.dtypes where !(mode == "interpreter" && dtype == "float32") {
                let outputs: [[[Double]]]
                do {
                    outputs = try execute(compiled, spec.inputs, mode: mode, float32: dtype == "float32", chain: chain)
                } catch {
                    failures.append(Failure(spec: "\(spec) [\(mode), \(dtype)]", detail: "  \(error)"))
                    continue
                }
                let tolerance = dtype == "float32" ? max(spec.tolerance, 1e-4) : spec.tolerance
                if let diff = difference(outputs, want, tolerance: tolerance) {
                    failures.append(Failure(spec: "\(spec) [\(mode), \(dtype)]", detail: diff))
                }
            }
        }
        return failures
    }

    static func matches(_ d: Diagnostic, _ e: Spec.ExpectedDiagnostic) -> Bool {
        d.code.rawValue == e.code && (e.line == nil || d.range?.line == e.line) && (e.column == nil || d.range?.column == e.column)
    }

    static func execute(_ compiled: CompiledModel, _ inputs: [[[Double]]], mode: String, float32: Bool, chain: Artifact.Model?) throws -> [[[Double]]] {
        let ir = compiled.ir
        for seq in inputs { for token in seq where token.count != ir.inputWidth {
            throw SpecError(description: "a token has \(token.count) values, the model takes \(ir.inputWidth)")
        } }
        switch mode {
        case "interpreter":
            var interpreter = Interpreter(program: ir)
            return inputs.map { interpreter.run($0) }
        default:
            let data = SequenceData(sequences: inputs, width: ir.inputWidth, isBatch: true)
            let model = mode == "layers" ? chain! : compiled.model
            return try runModel(model, on: data, mode: mode == "scan" ? .scan : .step, float32: float32).sequences
        }
    }

    /// A readable diff of the first differing tokens, or nil when all agree.
    static func difference(_ got: [[[Double]]], _ want: [[[Double]]], tolerance: Double) -> String? {
        guard got.count == want.count else { return "  expected \(want.count) sequences, got \(got.count)" }
        var lines: [String] = []
        for (s, (g, w)) in zip(got, want).enumerated() {
            guard g.count == w.count else { lines.append("  sequence \(s): expected \(w.count) tokens, got \(g.count)"); continue }
            for (t, (a, b)) in zip(g, w).enumerated() {
                let ok = a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
                if !ok {
                    lines.append("  sequence \(s) token \(t): expected \(b.map { formatNumber($0) }), got \(a.map { formatNumber($0) })")
                }
                if lines.count >= 8 { break }
            }
        }
        return lines.isEmpty ? nil : lines.joined(separator: "\n")
    }

    /// Every `.yaml` / `.yml` file under the given paths (files or folders), sorted.
    package static func specFiles(_ paths: [String]) -> [String] {
        var files: [String] = []
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
            if !isDir.boolValue { files.append(path); continue }
            let names = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
            files += names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.map { (path as NSString).appendingPathComponent($0) }
        }
        return files.sorted()
    }
}
