import Foundation

/// A batch of equal-width token sequences: `values[b][t]` is one token vector of `width`.
///
/// `isBatch` remembers whether the data came as a batch (`[B, T, n]`) or a single
/// sequence (`[T, n]`), so outputs are written in the same shape.
public struct SequenceData: Sendable, Equatable {
    /// The sequences, each one vector of `width` values per token.
    public var sequences: [[[Double]]]
    /// Values per token.
    public var width: Int
    /// Whether the data is a batch of sequences (written as such) rather than one sequence.
    public var isBatch: Bool

    /// Data of several sequences (`isBatch`) or of one.
    public init(sequences: [[[Double]]], width: Int, isBatch: Bool) {
        self.sequences = sequences
        self.width = width
        self.isBatch = isBatch
    }

    /// The data of one sequence.
    public init(sequence: [[Double]], width: Int) {
        self.init(sequences: [sequence], width: width, isBatch: false)
    }
}

/// The file formats of input and output data.
public enum DataFormat: String, Sendable, CaseIterable {
    case json, csv, npy, text

    /// The format named by a path's extension, if any (`.txt` is text).
    public init?(path: String) {
        switch (path as NSString).pathExtension.lowercased() {
        case "json": self = .json
        case "csv": self = .csv
        case "npy": self = .npy
        case "txt": self = .text
        default: return nil
        }
    }
}

extension SequenceData {
    /// Reads a data file in the given format (text is write-only).
    public static func read(path: String, format: DataFormat) throws(RuntimeError) -> SequenceData {
        try decode(try InputFile.read(path), path: path, format: format)
    }

    /// Decodes data in `format` from its bytes; `path` names it in errors.
    public static func decode(_ bytes: [UInt8], path: String, format: DataFormat) throws(RuntimeError) -> SequenceData {
        switch format {
        case .json: return try JSONData.decode(bytes, path: path)
        case .csv: return try CSVData.decode(bytes, path: path)
        case .npy: return try NumPy.decode(bytes, path: path).sequenceData(path: path)
        case .text: throw .io("the text format is for output only; read inputs from .json, .csv or .npy")
        }
    }

    /// Serializes in the given format. `float32` selects `<f4` for .npy and Float32 printing.
    public func encode(format: DataFormat, float32: Bool = false, precision: Int? = nil) throws(RuntimeError) -> [UInt8] {
        switch format {
        case .json, .csv, .text:
            let cells = sequences.map { $0.map { $0.map { formatNumber($0, float32: float32, precision: precision) } } }
            return try Self.encode(cells: cells, isBatch: isBatch, format: format)
        case .npy:
            let steps = sequences.first?.count ?? 0
            guard sequences.allSatisfy({ $0.count == steps }) else {
                throw .io("a .npy array needs equal-length sequences")
            }
            let shape = isBatch ? [sequences.count, steps, width] : [steps, width]
            return NumPy.encode(shape: shape, values: sequences.flatMap { $0.flatMap { $0 } }, float32: float32)
        }
    }

    /// Values already written as text (one string a value) in a text format: `json`, `csv`
    /// or `text`, laid out as `encode(format:)` lays out numbers.
    package static func encode(cells: [[[String]]], isBatch: Bool, format: DataFormat) throws(RuntimeError) -> [UInt8] {
        switch format {
        case .json: return Array(JSONData.encode(cells, isBatch: isBatch).utf8)
        case .csv:
            guard !isBatch || cells.count == 1 else {
                throw .io("CSV holds one sequence; write a batch of \(cells.count) as .json or .npy")
            }
            return Array((cells.first ?? []).map { $0.joined(separator: ",") + "\n" }.joined().utf8)
        case .text:
            let blocks = cells.map { seq in seq.map { $0.joined(separator: " ") + "\n" }.joined() }
            return Array(blocks.joined(separator: "\n").utf8)
        case .npy: throw .io("a .npy file holds numbers, not text")
        }
    }

    /// Writes to `path` as `OutputFile.write` does: atomically for a regular file, in place
    /// for a device or pipe, `-` for standard output.
    public func write(path: String, format: DataFormat, float32: Bool = false, precision: Int? = nil) throws(RuntimeError) {
        try writeAtomically(try encode(format: format, float32: float32, precision: precision), to: path)
    }
}

/// Shortest round-trip decimal (integers without ".0"), or `precision` significant digits.
package func formatNumber(_ x: Double, float32: Bool = false, precision: Int? = nil) -> String {
    if x.isNaN { return "NaN" }
    if x.isInfinite { return x > 0 ? "Infinity" : "-Infinity" }
    if let precision { return String(format: "%.\(max(1, precision))g", x) }
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    return float32 ? Float(x).description : x.description
}
