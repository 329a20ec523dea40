import RNNOps
@testable import RNNRuntime
import Testing

/// A hand-built program: out = relu(W x + b) with a counter state s <- s + x.
func sampleProgram() -> StepProgram {
    StepProgram(
        modelName: "Sample", inputs: [Port(name: "x", size: 2)], inputSlots: [0], outputSlots: [2, 1],
        slotSizes: [2, 2, 2, 2],
        states: [StateSlot(name: "s", slot: 1, update: 3, initial: 1)],
        constants: [],
        instructions: [
            .affine(dst: 2, src: 0, matrix: 0, bias: 0, epilogue: nil),
            .elementwise(ElementwiseOp(.relu), dst: 2, lhs: 2, rhs: nil),
            .elementwise(.add, dst: 3, lhs: 1, rhs: 0),
        ],
        matrices: [WeightMatrix(rows: 2, cols: 2, dense: [1, -1, 2, 0.5]), .diagonal([1, 1])],
        vectors: [[0, -1], [10, 20]])
}

/// `sampleProgram`'s scan plan: the relu layer batched, the counter step by step.
func samplePlan() -> ScanPlan {
    ScanPlan(stages: [.batched([0, 1]), .recurrence(ScanPlan.Recurrence(kind: .sequential, states: [0], nextSlots: [3], instructions: [2]))])
}

@Suite struct ArtifactTests {
    @Test func runsAndRoundTrips() throws {
        let program = sampleProgram()
        let session = try StepSession<Double>(program: program)
        #expect(try session.step([1, 2]) == [0, 2, 10, 20])
        #expect(try session.step([1, 0]) == [1, 1, 11, 22])
        session.reset()
        #expect(try session.step([0, 0]) == [0, 0, 10, 20])
        let back = try Artifact.decode(Artifact.encode(Artifact.Model(program: program, plan: samplePlan())), path: "mem.rnnc")
        #expect(back.program == program)
        #expect(back.plan == samplePlan())
        let scan = try ScanRunner<Double>(program: back.program, plan: back.plan)
        #expect(try scan.run([[1, 2], [1, 0]]) == [[0, 2, 10, 20], [1, 1, 11, 22]])
    }

    /// Plans that would read rows nothing wrote, or write the caller's inputs, never run.
    @Test func unsafePlansAreRejected() {
        let program = sampleProgram()
        var writesInput = program
        writesInput.instructions.append(.elementwise(.add, dst: 0, lhs: 0, rhs: 0))
        let cases: [(StepProgram, ScanPlan)] = [
            (program, ScanPlan(stages: [.batched([0, 1, 2])])),  // reads the counter before it is solved
            (program, ScanPlan(stages: [.batched([1, 0])])),  // relu before the product fills its slot
            (program, ScanPlan(stages: [.batched([0, 1])])),  // never computes the counter's output rows
            (writesInput, ScanPlan(stages: [.batched([0, 1, 3])] + samplePlan().stages.dropFirst())),
        ]
        for (program, plan) in cases {
            #expect(throws: RuntimeError.self) { try ScanRunner<Double>(program: program, plan: plan) }
        }
    }

    /// Sizes from a file are checked before any arithmetic on them could overflow or narrow.
    @Test func extremeSizesAreRejectedNotTrapped() {
        var bad: [StepProgram] = []
        var p = sampleProgram(); p.slotSizes[1] = Int.max; bad.append(p)
        p = sampleProgram(); p.slotSizes = [2, 2, 2, 2, 1 << 28]; bad.append(p)
        p = sampleProgram(); p.matrices.append(WeightMatrix(rows: Int.max, cols: 0, storage: .dense([]))); bad.append(p)
        p = sampleProgram(); p.matrices.append(WeightMatrix(rows: 1 << 40, cols: 0, storage: .dense([]))); bad.append(p)
        p = sampleProgram(); p.matrices.append(WeightMatrix(rows: Int.max, cols: 2, storage: .sparse(rowOffsets: [0], columns: [], values: []))); bad.append(p)
        p = sampleProgram(); p.matrices.append(WeightMatrix(rows: 3, cols: Int.max, storage: .dense([1, 2, 3]))); bad.append(p)
        for program in bad {
            #expect(throws: RuntimeError.self) { try StepSession<Float>(program: program) }
            #expect(throws: RuntimeError.self) { try Artifact.decode(Artifact.encode(Artifact.Model(program: program, plan: samplePlan())), path: "big.rnnc") }
        }
    }

    @Test func rejectsWrongTokenWidth() throws {
        #expect(throws: RuntimeError.self) { try StepSession<Float>(program: sampleProgram()).step([1]) }
    }

    @Test func invalidProgramsAreRejectedBeforeRunning() {
        var bad: [StepProgram] = []
        var p = sampleProgram(); p.instructions.append(.elementwise(.add, dst: 9, lhs: 0, rhs: 0)); bad.append(p)
        p = sampleProgram(); p.instructions.append(.slice(dst: 2, src: 0, start: 1)); bad.append(p)
        p = sampleProgram(); p.instructions.append(.affine(dst: 2, src: 0, matrix: 5, bias: nil, epilogue: nil)); bad.append(p)
        p = sampleProgram(); p.states[0].initial = 7; bad.append(p)
        p = sampleProgram(); p.slotSizes[0] = -1; bad.append(p)
        p = sampleProgram(); p.matrices[0] = WeightMatrix(rows: 2, cols: 2, storage: .sparse(rowOffsets: [0, 1, 2], columns: [0, 9], values: [1, 1])); bad.append(p)
        for program in bad {
            #expect(throws: RuntimeError.self) { try StepSession<Double>(program: program) }
            #expect(throws: RuntimeError.self) { try Artifact.decode(Artifact.encode(Artifact.Model(program: program, plan: ScanPlan(stages: []))), path: "bad.rnnc") }
        }
    }

    @Test func rejectsForeignAndFutureFiles() {
        let plain = SafeTensors.encode(SafeTensors.File(tensors: [], metadata: ["format": "other"]))
        #expect(throws: RuntimeError.self) { try Artifact.decode(plain, path: "x.rnnc") }
        var meta = SafeTensors.File(tensors: [], metadata: ["format": "rnnc", "format_version": "999", "program": "{}"])
        #expect(throws: RuntimeError.self) { try Artifact.decode(SafeTensors.encode(meta), path: "x.rnnc") }
        meta.metadata["format_version"] = "2"
        #expect(throws: RuntimeError.self) { try Artifact.decode(SafeTensors.encode(meta), path: "x.rnnc") }
    }

    @Test func corruptedArtifactsNeverCrash() {
        let bytes = Artifact.encode(Artifact.Model(program: sampleProgram(), plan: samplePlan()))
        var state: UInt64 = 42
        for _ in 0..<2000 {
            var b = bytes
            for _ in 0..<2 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                b[Int(state >> 33) % b.count] = UInt8(truncatingIfNeeded: state >> 13)
            }
            if let m = try? Artifact.decode(b, path: "fuzz.rnnc"), let s = try? StepSession<Double>(program: m.program) {
                _ = try? s.step([Double](repeating: 1, count: m.program.inputWidth))
                _ = try? ScanRunner<Double>(program: m.program, plan: m.plan).run([[Double]](repeating: [Double](repeating: 1, count: m.program.inputWidth), count: 3))
            }
        }
    }
}
