import Foundation
import RNNCompiler
import RNNRuntime
import Testing

/// The Swift API as a library user sees it (no `@testable`, no package access): compiling
/// from a path or a string, saving and loading artifacts, batches, sessions in the
/// scalar they are generic over, and states by name.
@Suite struct LibraryAPITests {
    static let source = """
        model Counter(d = 3) {
          input x: [d]
          state total: [d] = 0
          state count: [1] = 0
          total <- 0.5 * total + x
          count <- count + 1
          output [total, count]
        }
        """

    static func tokens(_ n: Int, seed: UInt64) -> [[Float]] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in (0..<3).map { _ in Float(rng.nextGaussian()) } }
    }

    @Test func compileFromAStringWithSettings() throws {
        let compiled = try Compiler.compile(source: Self.source, options: CompileOptions(settings: ["d": "2"]))
        #expect(compiled.model.program.inputWidth == 2 && compiled.model.program.outputWidth == 3)
    }

    @Test func compileErrorsCarryTheirDiagnostics() throws {
        do {
            _ = try Compiler.compile(source: "model M {\n  input x: [2]\n  output y\n}", path: "bad.rnn")
            Issue.record("an undefined name compiled")
        } catch let error as CompileError {
            let first = try #require(error.diagnostics.first)
            #expect(first.severity == .error && first.range?.line == 3)
            #expect(error.description.contains("bad.rnn:3:"))
        }
        #expect(throws: RuntimeError.self) { try Compiler.compile(path: "/nonexistent/model.rnn") }
    }

    @Test func artifactRoundTrip() throws {
        let model = try Compiler.compile(source: Self.source).model
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("api-\(UUID().uuidString).rnnc").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.write(to: path)
        #expect(try Artifact.Model(contentsOf: path) == model)
    }

    @Test func sessionsTakeAndReturnTheirScalar() throws {
        let model = try Compiler.compile(source: Self.source).model
        let xs = Self.tokens(5, seed: 3)
        let float = try StepSession<Float>(model)
        let double = try StepSession<Double>(model)
        for x in xs {
            let y: [Float] = try float.step(x)
            let z: [Double] = try double.step(x.map(Double.init))
            #expect(zip(y, z).allSatisfy { abs(Double($0) - $1) <= 1e-5 })
        }
        // The buffer-pointer variant writes what the array one returns.
        let a = try StepSession<Float>(model), b = try StepSession<Float>(model)
        var out = [Float](repeating: .nan, count: 4)
        for x in xs {
            try x.withUnsafeBufferPointer { x in try out.withUnsafeMutableBufferPointer { try a.step(x, into: $0) } }
            #expect(try b.step(x) == out)
        }
        #expect(throws: RuntimeError.self) { try a.step([1, 2]) }
    }

    @Test func statesByName() throws {
        let model = try Compiler.compile(source: Self.source).model
        let xs = Self.tokens(4, seed: 5)
        let original = try StepSession<Double>(model)
        #expect(original.stateNames.sorted() == ["count", "total"])
        for x in xs.prefix(3) { _ = try original.step(x.map(Double.init)) }
        #expect(try original.state("count") == [3])
        // A fresh session given the states continues as the original does.
        let resumed = try StepSession<Double>(model)
        for name in original.stateNames { try resumed.setState(name, to: try original.state(name)) }
        let last = xs[3].map(Double.init)
        #expect(try resumed.step(last) == (try original.step(last)))
        #expect(throws: RuntimeError.self) { try resumed.state("nope") }
        #expect(throws: RuntimeError.self) { try resumed.setState("count", to: [1, 2]) }
    }

    @Test func batchesRunLikeSessions() throws {
        let model = try Compiler.compile(source: Self.source).model
        let batch = [Self.tokens(9, seed: 1), Self.tokens(2, seed: 2), []]
        for mode in ExecutionMode.allCases {
            let outputs = try model.run(batch: batch, as: Float.self, mode: mode)
            for (sequence, got) in zip(batch, outputs) {
                let want = try StepSession<Float>(model).run(sequence)
                #expect(got.count == want.count)
                #expect(zip(got, want).allSatisfy { zip($0, $1).allSatisfy { abs($0 - $1) <= 1e-5 } }, "\(mode)")
            }
        }
        #expect(throws: RuntimeError.self) { try model.run([[1.0]]) }
    }
}
