import Foundation
@testable import RNNCompiler
import RNNOps
@testable import RNNRuntime
import Testing

/// The op table: each op's reference against its textbook values, its kernels against its
/// reference, each op through every back end, attribute errors, the artifact spelling and
/// the docs' list.
@Suite struct OpTableTests {
    /// Values computed independently of the table (by hand or with Python's math module).
    @Test func referencesMatchKnownValues() {
        func value(_ kind: ElementwiseKind, _ x: Double, _ y: Double = 0, _ attributes: [Double]? = nil) -> Double {
            ElementwiseOp(kind, attributes: attributes).apply(x, y)
        }
        #expect(abs(value(.gelu, 1) - 0.8413447460685429) < 1e-15)
        #expect(abs(value(.gelu, -2) - -0.04550026389635842) < 1e-15)
        #expect(abs(value(.geluTanh, 1) - 0.8411919906082768) < 1e-15)
        #expect(value(.softsign, 3) == 0.75 && value(.softsign, -1) == -0.5)
        #expect(value(.hardtanh, 2) == 1 && value(.hardtanh, -2) == -1 && value(.hardtanh, 0.5) == 0.5)
        #expect(value(.hardtanh, 7, 0, [0, 6]) == 6 && value(.hardtanh, -1, 0, [0, 6]) == 0)
        #expect(value(.leakyRelu, -2) == -0.02 && value(.leakyRelu, -2, 0, [0.2]) == -0.4 && value(.leakyRelu, 3) == 3)
        #expect(abs(value(.elu, -1) - (exp(-1) - 1)) < 1e-16 && value(.elu, -1, 0, [2]) == 2 * expm1(-1) && value(.elu, 2) == 2)
        #expect(value(.max, 1, 2) == 2 && value(.min, 1, 2) == 1)
        #expect(value(.max, .nan, 1).isNaN && value(.max, 1, .nan).isNaN && value(.min, .nan, 1).isNaN && value(.min, 1, .nan).isNaN)
        #expect(value(.hardtanh, .nan).isNaN && value(.relu, -0.5) == 0)
    }

    /// Float64 kernels give the reference exactly; Float32 ones within the bounds the
    /// vectorized kernels document (activations.c) or one rounding of the reference.
    @Test func kernelsMatchTheReference() {
        let xs = (0..<401).map { Double($0 - 200) / 25 }  // -8 ... 8
        let ys = xs.reversed().map { $0 * 0.7 }
        for kind in ElementwiseKind.allCases {
            let op = ElementwiseOp(kind)
            let want = zip(xs, ys).map { op.apply($0, $1) }
            var out = [Double](repeating: 0, count: xs.count)
            xs.withUnsafeBufferPointer { x in ys.withUnsafeBufferPointer { y in out.withUnsafeMutableBufferPointer { o in
                Kernels.apply(op, x.baseAddress!, kind.entry.arity == 2 ? y.baseAddress! : x.baseAddress!, o.baseAddress!, count: xs.count)
            } } }
            #expect(zip(out, want).allSatisfy { $0 == $1 || $0.isNaN && $1.isNaN }, "\(kind) Float64")
            let (xf, yf) = (xs.map { Float($0) }, ys.map { Float($0) })
            var outF = [Float](repeating: 0, count: xs.count)
            xf.withUnsafeBufferPointer { x in yf.withUnsafeBufferPointer { y in outF.withUnsafeMutableBufferPointer { o in
                Kernels.apply(op, x.baseAddress!, kind.entry.arity == 2 ? y.baseAddress! : x.baseAddress!, o.baseAddress!, count: xs.count)
            } } }
            let wantF = zip(xf, yf).map { op.apply(Double($0), Double($1)) }
            #expect(zip(outF, wantF).allSatisfy { Double($0) == $1 || $0.isNaN && $1.isNaN || abs(Double($0) - $1) <= 4e-7 * max(1, abs($1)) },
                    "\(kind) Float32")
        }
    }

    /// Each op, written in a source with non-default attributes where it has some, gives the
    /// same outputs in the interpreter, the step program and the scan program, optimized or
    /// not, in Float64 and Float32, and as a state update.
    @Test func everyOpRunsOnEveryBackEnd() throws {
        // `A` and `B` stand for the operands.
        let calls: [ElementwiseKind: String] = [
            .add: "A + B", .mul: "A * B", .log: "log(sigmoid(A) + 0.5)", .sqrt: "sqrt(sigmoid(A) + 0.5)",
            .reciprocal: "reciprocal(sigmoid(A) + 0.5)", .hardtanh: "hardtanh(A, min: -0.5, max: 0.25)",
            .leakyRelu: "leaky_relu(A, 0.2)", .elu: "elu(A, alpha: 1.5)", .max: "max(A, B)", .min: "min(A, 0.5 * B)",
        ]
        var rng = SplitMix64(seed: 7)
        let tokens = (0..<12).map { _ in (0..<6).map { _ in 2 * rng.nextGaussian() } }
        for kind in ElementwiseKind.allCases {
            let call = calls[kind] ?? "\(kind.name)(A)"
            func written(_ a: String, _ b: String) -> String { call.replacingOccurrences(of: "A", with: a).replacingOccurrences(of: "B", with: b) }
            let source = """
                model M {
                  input x: [3]
                  input y: [3]
                  state h: [3] = 0
                  z = normal(3, 3, seed: 2) @ x + 0.1
                  h <- 0.5 * h + \(written("x", "y"))
                  output [\(written("z", "h")), h]
                }
                """
            let ir = try #require(compileOK(source), "\(kind)")
            #expect(ir.nodes.contains { if case .elementwise(let op, _) = $0.op { return op.kind == kind } else { return false } }, "\(kind)")
            let want = interpret(ir, tokens)
            for optimized in [ir, try Optimizer.optimize(ir, verifyEach: true)] {
                let model = ScanLowering.lowerModel(optimized)
                #expect(close(try StepSession<Double>(program: model.program).run(tokens), want, tolerance: 1e-12), "\(kind) step")
                #expect(close(try StepSession<Float>(program: model.program).run(doubles: tokens), want, tolerance: 1e-4), "\(kind) step Float32")
                #expect(close(try ScanRunner<Double>(program: model.program, plan: model.plan).run(tokens), want, tolerance: 1e-9), "\(kind) scan")
                #expect(close(try ScanRunner<Float>(program: model.program, plan: model.plan).run(doubles: tokens), want, tolerance: 1e-3), "\(kind) scan Float32")
                let loaded = try Artifact.decode(Artifact.encode(model), path: "mem.rnnc")
                #expect(loaded == model, "\(kind) artifact")
            }
        }
    }

    @Test func attributesAreCheckedAtCompileTime() {
        let cases = [
            ("hardtanh(x, min: 1, max: 0)", DiagnosticCode.invalidValue),
            ("leaky_relu(x, x)", .notConstant),
            ("elu(x, beta: 2)", .badArguments),
            ("leaky_relu(x, 0.1, slope: 0.2)", .badArguments),
            ("max(x)", .badArguments),
            ("max(x, [1, 2])", .shapeMismatch),
        ]
        for (call, code) in cases {
            let r = compile("model M {\n  input x: [3]\n  output \(call)\n}\n")
            #expect(r.errors.map(\.code).contains(code), "\(call): \(r.diagnostics)")
        }
        // Constants fold through the reference.
        let r = compile("model M {\n  input x: [1]\n  output x + max([1, -2], 0) + hardtanh(3, min: 0, max: 2)\n}\n")
        #expect(r.ir.map { interpret($0, [[0]]) } == [[3, 2]])
    }

    /// The artifact's instruction spelling rejects what the table does not allow.
    @Test func artifactInstructionsAreChecked() throws {
        func decode(_ json: String) -> Instruction? { try? JSONDecoder().decode(Instruction.self, from: Data(json.utf8)) }
        #expect(decode(#"{"op": "leaky_relu", "dst": 1, "operands": [0], "attributes": {"slope": 0.2}}"#)
                == .elementwise(ElementwiseOp(.leakyRelu, attributes: [0.2]), dst: 1, lhs: 0, rhs: nil))
        #expect(decode(#"{"op": "max", "dst": 2, "operands": [0, 1]}"#) == .elementwise(ElementwiseOp(.max), dst: 2, lhs: 0, rhs: 1))
        #expect(decode(#"{"op": "affine", "dst": 1, "src": 0, "matrix": 0, "epilogue": {"op": "gelu"}}"#)
                == .affine(dst: 1, src: 0, matrix: 0, bias: nil, epilogue: ElementwiseOp(.gelu)))
        #expect(decode(#"{"op": "frobnicate", "dst": 1, "operands": [0]}"#) == nil)
        #expect(decode(#"{"op": "relu", "dst": 1, "operands": [0, 1]}"#) == nil)
        #expect(decode(#"{"op": "leaky_relu", "dst": 1, "operands": [0], "attributes": {"alpha": 1}}"#) == nil)
        #expect(decode(#"{"op": "hardtanh", "dst": 1, "operands": [0], "attributes": {"min": 2, "max": 1}}"#) == nil)
        #expect(decode(#"{"op": "affine", "dst": 1, "src": 0, "matrix": 0, "epilogue": {"op": "add"}}"#) == nil)
    }

    /// docs/language.md lists every op as the table describes it.
    @Test func docsListEveryOp() throws {
        let docs = try String(contentsOfFile: repoRoot + "/docs/language.md", encoding: .utf8)
        #expect(docs.contains(OpTableDocs.markdown()), "docs/language.md should contain:\n\(OpTableDocs.markdown())")
    }
}

@Suite struct ExportDocsTests {
    /// docs/export.md lists every op's ONNX and PyTorch spelling, as the op table has them.
    @Test func exportDocsListEveryOp() throws {
        let docs = try String(contentsOfFile: repoRoot + "/docs/export.md", encoding: .utf8)
        #expect(docs.contains(OpTableDocs.exportMarkdown()), "docs/export.md should contain:\n\(OpTableDocs.exportMarkdown())")
    }

    /// The guide's commands and Python program run as written (from a copy of the examples),
    /// with the rnnc this test suite built.
    @Test func exportGuideRunsAsWritten() throws {
        guard pythonHas(["numpy", "onnxruntime", "torch"]) else {
            #expect(!pythonChecksRequired, "python3 with numpy, onnxruntime and torch is required (RNNC_REQUIRE_PYTHON_CHECKS=1)")
            return
        }
        let rnnc = try builtRNNCFolder()
        let (status, output) = try python([repoRoot + "/Tests/Python/run_doc_blocks.py", repoRoot + "/docs/export.md", rnnc])
        #expect(status == 0, "\(output)")
        #expect(output.contains("onnxruntime agrees with rnnc"), "\(output)")
        #expect(output.contains("rnnc runs the tuned weights as torch does"), "\(output)")
        #expect(output.contains("two processes trained the module as one does"), "\(output)")
    }
}
