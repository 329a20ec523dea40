import Testing
@testable import RNNRuntime

/// A token input and an embedding lookup: `h <- E[token] + h`, output `[E[token], h]`, with
/// a 3 x 2 table (its rows 10 apart, so a wrong row shows).
func tokenProgram(vocabulary: Int = 3) -> StepProgram {
    StepProgram(
        modelName: "Tokens", inputs: [Port(name: "token", size: 1, vocabulary: vocabulary)], inputSlots: [0], outputSlots: [2, 1],
        slotSizes: [1, 2, 2, 2],
        states: [StateSlot(name: "h", slot: 1, update: 3, initial: 0)],
        constants: [],
        instructions: [.gather(dst: 2, src: 0, matrix: 0), .elementwise(.add, dst: 3, lhs: 2, rhs: 1)],
        matrices: [WeightMatrix(rows: 3, cols: 2, storage: .dense([1, 2, 11, 12, 21, 22]), name: "E")],
        vectors: [[0, 0]])
}

func tokenPlan() -> ScanPlan {
    ScanPlan(stages: [.batched([0]), .recurrence(ScanPlan.Recurrence(kind: .sequential, states: [0], nextSlots: [3], instructions: [1]))])
}

@Suite struct TokenInputTests {
    let ids: [[Double]] = [[2], [0], [1]]
    let want: [[Double]] = [[21, 22, 0, 0], [1, 2, 21, 22], [11, 12, 22, 24]]

    @Test func stepAndScanLookUpRows() throws {
        #expect(try StepSession<Double>(program: tokenProgram()).run(ids) == want)
        #expect(try StepSession<Float>(program: tokenProgram()).run(doubles: ids) == want)
        #expect(try ScanRunner<Double>(program: tokenProgram(), plan: tokenPlan()).run(ids) == want)
        #expect(try ScanRunner<Float>(program: tokenProgram(), plan: tokenPlan()).run(batchOfDoubles: [ids, ids])[1] == want)
        let back = try Artifact.decode(Artifact.encode(Artifact.Model(program: tokenProgram(), plan: tokenPlan())), path: "mem.rnnc")
        #expect(back.program == tokenProgram())
    }

    /// An id outside `0..<V`, or not an integer, is refused before the run, with its position.
    @Test func badIDsAreRefusedWithTheirPosition() throws {
        let session = try StepSession<Double>(program: tokenProgram())
        for bad in [3.0, -1, 0.5, .nan, .infinity, 1e300] {
            #expect(throws: RuntimeError.self) { try session.step([bad]) }
        }
        #expect {
            try runModel(Artifact.Model(program: tokenProgram(), plan: tokenPlan()),
                         on: SequenceData(sequences: [[[0]], [[1], [7]]], width: 1, isBatch: true), mode: .scan, float32: false)
        } throws: { "\($0)".contains("token id 7 of input 'token' is not an integer in 0..<3 (token 1 of sequence 1)") }
        let runner = try ScanRunner<Double>(program: tokenProgram(), plan: tokenPlan())
        #expect(throws: RuntimeError.self) { try runner.run([[1], [2.5]]) }
        // The unchecked flat entry point gives NaNs for a bad id, never a read outside the table.
        let out = runner.run(flat: [1, 9, -4], steps: 3)
        #expect(Array(out[0..<2]) == [11, 12] && out[4...5].allSatisfy(\.isNaN) && out[8...9].allSatisfy(\.isNaN))
    }

    /// A gather must read a token input whose ids the table covers, and stay off recurrence cycles.
    @Test func validationRefusesUnsafeGathers() throws {
        var small = tokenProgram(vocabulary: 4)  // ids up to 3, a table of 3 rows
        #expect(throws: RuntimeError.self) { try StepSession<Double>(program: small) }
        small = tokenProgram()
        small.inputs[0].vocabulary = nil  // reads a plain input
        #expect(throws: RuntimeError.self) { try StepSession<Double>(program: small) }
        var wide = tokenProgram()
        wide.inputs[0].size = 2
        wide.slotSizes[0] = 2
        #expect(throws: RuntimeError.self) { try StepSession<Double>(program: wide) }
        let onCycle = ScanPlan(stages: [.recurrence(ScanPlan.Recurrence(kind: .sequential, states: [0], nextSlots: [3], instructions: [0, 1]))])
        #expect(throws: RuntimeError.self) { try ScanRunner<Double>(program: tokenProgram(), plan: onCycle) }
    }

    /// A version-3 artifact (before token inputs) still reads.
    @Test func readsVersionThree() throws {
        var file = try SafeTensors.decode(Artifact.encode(Artifact.Model(program: sampleProgram(), plan: samplePlan())), path: "mem.rnnc")
        file.metadata["format_version"] = "3"
        #expect(try Artifact.decode(SafeTensors.encode(file), path: "v3.rnnc").program == sampleProgram())
        file.metadata["format_version"] = "03"
        #expect(throws: RuntimeError.self) { try Artifact.decode(SafeTensors.encode(file), path: "v3.rnnc") }
    }
}
