import Foundation
import Testing
@testable import RNNRuntime

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path + "/Fixtures"

@Suite struct SafeTensorsTests {
    @Test func readsFilesWrittenByTheReferenceLibrary() throws {
        let file = try SafeTensors.read(path: fixtures + "/affine.safetensors")
        let w = try #require(file["W"])
        #expect(w.dtype == .f32 && w.shape == [2, 3])
        #expect(w.doubles() == [1, 2, 3, 4, 5, 6])
        #expect(file["b"]?.doubles() == [0.5, -0.5])
        let ints = try SafeTensors.read(path: fixtures + "/int_weights.safetensors")
        #expect(ints["W"]?.dtype == .i32)
        #expect(ints["W"]?.doubles() == [0, 1, 2, 3, 4, 5])
        #expect(ints.metadata["note"] == "W has an integer dtype")
        #expect(try SafeTensors.read(path: fixtures + "/half.safetensors")["h"]?.doubles() == [1.5, -2.25, 3])
    }

    @Test func roundTrips() throws {
        let file = SafeTensors.File(tensors: [
            NamedTensor(name: "a", shape: [2, 2], float64: [1, -2, 3.5, 1e-300]),
            NamedTensor(name: "idx", shape: [3], int64: [0, 5, -7]),
            NamedTensor(name: "empty", shape: [0], float64: []),
        ], metadata: ["k": "v \"quoted\"\n"])
        let back = try SafeTensors.decode(SafeTensors.encode(file), path: "mem")
        #expect(back.tensors.sorted { $0.name < $1.name } == file.tensors.sorted { $0.name < $1.name })
        #expect(back.metadata == file.metadata)
    }

    static let malformed: [(String, [UInt8])] = {
        let header: [UInt8] = [255, 255, 255, 255, 0, 0, 0, 0]
        let four: [UInt8] = [4, 0, 0, 0, 0, 0, 0, 0]
        let two: [UInt8] = [2, 0, 0, 0, 0, 0, 0, 0]
        return [
            ("short", [1, 2, 3]),
            ("huge header length", header + Array("{}".utf8)),
            ("not json", four + Array("{{{{".utf8)),
            ("not an object", two + Array("[]".utf8)),
        ]
    }()

    @Test(arguments: malformed)
    func rejectsMalformedFiles(_ name: String, _ bytes: [UInt8]) {
        #expect(throws: RuntimeError.self) { try SafeTensors.decode(bytes, path: name) }
    }

    @Test func rejectsBadTensorEntries() throws {
        func file(_ header: String, data: Int) -> [UInt8] {
            var h = Array(header.utf8)
            while h.count % 8 != 0 { h.append(32) }
            return withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + [UInt8](repeating: 0, count: data)
        }
        let bad = [
            #"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}"#,
            #"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,800]}}"#,
            #"{"a":{"dtype":"X9","shape":[1],"data_offsets":[0,8]}}"#,
            #"{"a":{"dtype":"F64","shape":[-1],"data_offsets":[0,8]}}"#,
            #"{"a":{"dtype":"F64","shape":[99999999999,99999999999],"data_offsets":[0,8]}}"#,
            #"{"a":{"dtype":"F64","shape":[1],"data_offsets":[8,0]}}"#,
            #"{"a":{"dtype":"F64","shape":[1]}}"#,
            #"{"__metadata__":{"k":1}}"#,
            #"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#,
        ]
        for header in bad {
            #expect(throws: RuntimeError.self, "\(header)") { try SafeTensors.decode(file(header, data: 8), path: "bad") }
        }
        // The data must be indexed entirely: overlaps, holes and trailing bytes are refused.
        let unindexed = [
            (#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, 8),
            (#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}"#, 16),
            (#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, 9),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, 12),
        ]
        for (header, data) in unindexed {
            #expect(throws: RuntimeError.self, "\(header)") { try SafeTensors.decode(file(header, data: data), path: "bad") }
        }
        let outOfOrder = #"{"b":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#
        #expect(try SafeTensors.decode(file(outOfOrder, data: 16), path: "ok").tensors.count == 2, "any order of entries is fine")
    }

    @Test func randomBytesNeverCrash() {
        var state: UInt64 = 1
        let valid = SafeTensors.encode(SafeTensors.File(tensors: [NamedTensor(name: "w", shape: [3], float64: [1, 2, 3])], metadata: ["m": "x"]))
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<3 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let at = Int(state >> 33) % bytes.count
                bytes[at] = UInt8(truncatingIfNeeded: state >> 17)
            }
            if let f = try? SafeTensors.decode(bytes, path: "fuzz") { for t in f.tensors { _ = t.doubles() } }
        }
    }
}

@Suite struct DataFormatTests {
    func decode(_ text: String, _ format: DataFormat = .json) throws -> SequenceData {
        try SequenceData.decode(Array(text.utf8), path: "in.\(format.rawValue)", format: format)
    }

    @Test func jsonShapes() throws {
        #expect(try decode("[0, 1, 1]") == SequenceData(sequence: [[0], [1], [1]], width: 1))
        #expect(try decode("[[1, 2], [3, 4]]") == SequenceData(sequence: [[1, 2], [3, 4]], width: 2))
        #expect(try decode("[[[1], [2]], [[3]]]") == SequenceData(sequences: [[[1], [2]], [[3]]], width: 1, isBatch: true))
        #expect(try decode("[]").sequences == [[]])
        #expect(try decode(" [1e3, -2.5E-1, NaN] ").sequences[0][0] == [1000])
    }

    @Test func jsonErrorsAreLocated() throws {
        func message(_ text: String) -> String {
            do { _ = try decode(text); return "no error" } catch { return "\(error)" }
        }
        #expect(message("[[1, 2],\n [3]]").hasPrefix("in.json:2:2: error: token has 1 values, but earlier tokens have 2"))
        #expect(message("[1, 2,, 3]").hasPrefix("in.json:1:7: error: expected a JSON value"))
        #expect(message("[1, \"a\"]").hasPrefix("in.json:1:5: error: expected a number, found a string"))
        #expect(message("{\"x\": 1}").hasPrefix("in.json:1:1: error: expected an array"))
        #expect(message("[1, 2").contains("in.json:1:6"))
        #expect(message(String(repeating: "[", count: 100_000)).contains("nested more than"))
        #expect(message("").contains("unexpected end of file"))
    }

    @Test func csv() throws {
        #expect(try decode("a,b\n1,2\n\n# comment\n3, 4\r\n", .csv) == SequenceData(sequence: [[1, 2], [3, 4]], width: 2))
        #expect(throws: RuntimeError.self) { try decode("1,2\n3\n", .csv) }
        do {
            _ = try decode("1,2\n3,x\n", .csv)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".hasPrefix("in.csv:2:3: error: expected a number, found 'x'"))
        }
    }

    @Test func npyFromNumPy() throws {
        let seq = try SequenceData.read(path: fixtures + "/seq_f4.npy", format: .npy)
        #expect(seq == SequenceData(sequence: [[0], [1], [1], [0]], width: 1))
        let batch = try SequenceData.read(path: fixtures + "/batch_f8.npy", format: .npy)
        #expect(batch == SequenceData(sequences: [[[1], [1], [0]], [[0], [0], [1]]], width: 1, isBatch: true))
    }

    @Test func npyRoundTripAndCorruption() throws {
        let data = SequenceData(sequences: [[[1.5, 2], [3, 4]], [[5, 6], [7, -8]]], width: 2, isBatch: true)
        for f32 in [false, true] {
            let bytes = try data.encode(format: .npy, float32: f32)
            #expect(try SequenceData.decode(bytes, path: "x.npy", format: .npy) == data)
            for cut in [0, 5, 9, 20, bytes.count - 1] {
                #expect(throws: RuntimeError.self) { try SequenceData.decode(Array(bytes[0..<cut]), path: "x.npy", format: .npy) }
            }
        }
    }

    @Test func encodings() throws {
        let data = SequenceData(sequence: [[0, 1.5], [-2, 1e-7]], width: 2)
        #expect(String(decoding: try data.encode(format: .text), as: UTF8.self) == "0 1.5\n-2 1e-07\n")
        #expect(String(decoding: try data.encode(format: .csv), as: UTF8.self) == "0,1.5\n-2,1e-07\n")
        #expect(try decode(String(decoding: try data.encode(format: .json), as: UTF8.self)) == data)
        #expect(String(decoding: try data.encode(format: .text, precision: 2), as: UTF8.self) == "0 1.5\n-2 1e-07\n")
        let batch = SequenceData(sequences: [[[1]], [[2]]], width: 1, isBatch: true)
        #expect(throws: RuntimeError.self) { try batch.encode(format: .csv) }
        #expect(try decode(String(decoding: try batch.encode(format: .json), as: UTF8.self)) == batch)
    }

    @Test func atomicWriteReplacesWholeFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-atomic-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try writeAtomically(Array("old contents that are longer".utf8), to: path)
        try SequenceData(sequence: [[1]], width: 1).write(path: path, format: .json)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "[\n  [1]\n]\n")
        #expect(throws: RuntimeError.self) { try writeAtomically([1], to: "/nonexistent-dir/x.json") }
    }
}
