import Foundation

/// Element types of the safetensors format.
public enum DType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    /// Whether the elements are floating-point numbers.
    public var isFloatingPoint: Bool { self == .f64 || self == .f32 || self == .f16 || self == .bf16 }
}

/// One tensor read from or written to a safetensors file; raw little-endian bytes.
public struct NamedTensor: Sendable, Equatable {
    /// The tensor's name in the file.
    public var name: String
    /// Its element type.
    public var dtype: DType
    /// Its shape, outermost dimension first.
    public var shape: [Int]
    /// Its elements, row-major and little-endian, as stored.
    public var bytes: [UInt8]

    /// A tensor from its stored bytes.
    public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// An F64 tensor of `values`, row-major.
    public init(name: String, shape: [Int], float64 values: [Double]) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 8)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        self.init(name: name, dtype: .f64, shape: shape, bytes: bytes)
    }

    /// Values rounded to Float32.
    public init(name: String, shape: [Int], float32 values: [Double]) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        self.init(name: name, dtype: .f32, shape: shape, bytes: bytes)
    }

    /// An I64 tensor of `values`, row-major.
    public init(name: String, shape: [Int], int64 values: [Int]) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 8)
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { bytes.append(contentsOf: $0) } }
        self.init(name: name, dtype: .i64, shape: shape, bytes: bytes)
    }

    /// The number of elements (the product of the shape).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The values as Float64 (any dtype; integers convert exactly up to 2^53).
    public func doubles() -> [Double] {
        let n = elementCount
        var out = [Double](repeating: 0, count: n)
        bytes.withUnsafeBytes { raw in
            for i in 0..<n {
                let o = i * dtype.byteSize
                switch dtype {
                case .f64: out[i] = Double(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self).littleEndian)
                case .f32: out[i] = Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian))
                case .f16: out[i] = Double(Self.halfToFloat(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian))
                case .bf16: out[i] = Double(Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian) << 16))
                case .i64: out[i] = Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int64.self)))
                case .i32: out[i] = Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int32.self)))
                case .i16: out[i] = Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int16.self)))
                case .i8: out[i] = Double(raw.load(fromByteOffset: o, as: Int8.self))
                case .u8, .bool: out[i] = Double(raw[o])
                }
            }
        }
        return out
    }

    /// The values as integers (integer dtypes only; floats are truncated).
    public func integers() -> [Int] {
        if dtype == .i64 {
            return bytes.withUnsafeBytes { raw in
                (0..<elementCount).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
            }
        }
        return doubles().map { $0.isFinite && abs($0) < 9e18 ? Int($0) : -1 }
    }

    /// IEEE half to single, written out so it works on every platform.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exp = Int((h >> 10) & 0x1F)
        let frac = UInt32(h & 0x3FF)
        if exp == 0 {
            let v = Float(frac) * Float(sign == 0 ? 1 : -1) / Float(1 << 24)
            return v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (frac << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (frac << 13))
    }
}

/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, then the raw tensor bytes.
public enum SafeTensors {
    /// Headers larger than this are rejected (the format's own reference limit).
    public static let maxHeaderBytes = 100_000_000

    /// A whole safetensors file: its tensors, in order, and its `__metadata__` strings.
    public struct File: Sendable {
        /// The tensors, in the order they are stored.
        public var tensors: [NamedTensor]
        /// The header's `__metadata__` entries.
        public var metadata: [String: String]

        /// A file of these tensors and metadata.
        public init(tensors: [NamedTensor], metadata: [String: String] = [:]) {
            self.tensors = tensors
            self.metadata = metadata
        }

        package subscript(name: String) -> NamedTensor? { tensors.first { $0.name == name } }
    }

    /// Reads and checks a safetensors file (untrusted: sizes, offsets and names are checked
    /// before use).
    public static func read(path: String) throws(RuntimeError) -> File {
        try decode(try InputFile.read(path), path: path)
    }

    /// Decodes a safetensors file's bytes; `path` names it in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws(RuntimeError) -> File {
        func bad(_ m: String) -> RuntimeError {
            .badFile(path: path, line: nil, column: nil, message: "not a valid safetensors file: \(m)", lineText: nil)
        }
        guard bytes.count >= 8 else { throw bad("\(bytes.count) bytes is shorter than the 8-byte header length") }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(maxHeaderBytes), Int(n) <= bytes.count - 8 else {
            throw bad("header length \(n) exceeds the file size (\(bytes.count) bytes)")
        }
        let headerEnd = 8 + Int(n)
        let header: JSONValue
        do {
            header = try JSONValue.parse(Array(bytes[8..<headerEnd]), path: path)
        } catch {
            throw bad("header is not valid JSON (\(error))")
        }
        guard case .object(let members, _) = header else { throw bad("header is not a JSON object") }
        let dataSize = bytes.count - headerEnd
        var file = File(tensors: [])
        var seen = Set<String>()
        var spans: [(name: String, range: Range<Int>)] = []
        for (key, entry) in members {
            guard seen.insert(key).inserted else { throw bad("tensor '\(key)' appears twice") }
            if key == "__metadata__" {
                guard case .object(let meta, _) = entry else { throw bad("__metadata__ is not an object") }
                for (k, v) in meta {
                    guard case .string(let s, _) = v else { throw bad("__metadata__ value '\(k)' is not a string") }
                    file.metadata[k] = s
                }
                continue
            }
            let (t, span) = try tensor(key, entry, bytes: bytes, base: headerEnd, dataSize: dataSize, bad: bad)
            file.tensors.append(t)
            spans.append((key, span))
        }
        // The format requires the data to be indexed entirely: no overlaps, no holes, no
        // trailing bytes (which could hide data no tensor claims).
        var at = 0
        for (name, span) in spans.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            guard span.lowerBound == at else {
                throw bad(span.lowerBound < at ? "tensor '\(name)' overlaps another tensor's bytes" : "bytes \(at)..<\(span.lowerBound) of the data belong to no tensor")
            }
            at = span.upperBound
        }
        guard at == dataSize else { throw bad("bytes \(at)..<\(dataSize) of the data belong to no tensor") }
        return file
    }

    private static func tensor(_ name: String, _ entry: JSONValue, bytes: [UInt8], base: Int, dataSize: Int,
                               bad: (String) -> RuntimeError) throws(RuntimeError) -> (NamedTensor, Range<Int>) {
        guard case .object(let info, _) = entry else { throw bad("tensor '\(name)' is not an object") }
        func field(_ k: String) -> JSONValue? { info.first { $0.key == k }?.value }
        guard case .string(let dtypeName, _)? = field("dtype"),
              case .array(let shapeValues, _)? = field("shape"),
              case .array(let offsets, _)? = field("data_offsets"), offsets.count == 2
        else { throw bad("tensor '\(name)' lacks dtype, shape or data_offsets") }
        guard let dtype = DType(rawValue: dtypeName) else { throw bad("tensor '\(name)' has unsupported dtype \(dtypeName)") }
        var shape: [Int] = []
        var count = 1
        for d in shapeValues {
            guard let v = exactInt(d), v >= 0 else { throw bad("tensor '\(name)' has an invalid shape") }
            let (p, overflow) = count.multipliedReportingOverflow(by: v)
            guard !overflow, p <= dataSize else { throw bad("tensor '\(name)' has a shape larger than the file") }
            count = p
            shape.append(v)
        }
        guard let begin = exactInt(offsets[0]), let end = exactInt(offsets[1]),
              begin >= 0, begin <= end, end <= dataSize
        else { throw bad("tensor '\(name)' data_offsets lie outside the data (\(dataSize) bytes)") }
        guard end - begin == count * dtype.byteSize else {
            throw bad("tensor '\(name)' has \(end - begin) bytes but shape \(shape) of \(dtypeName) needs \(count * dtype.byteSize)")
        }
        return (NamedTensor(name: name, dtype: dtype, shape: shape, bytes: Array(bytes[(base + begin)..<(base + end)])), begin..<end)
    }

    private static func exactInt(_ v: JSONValue) -> Int? {
        guard case .number(let d, _) = v, d.rounded() == d, abs(d) < 1e15 else { return nil }
        return Int(d)
    }

    /// Serializes tensors (in the given order) and string metadata.
    public static func encode(_ file: File) -> [UInt8] {
        var entries: [String] = []
        if !file.metadata.isEmpty {
            let meta = file.metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(file.metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(meta.joined(separator: ","))}")
        }
        var offset = 0
        for t in file.tensors {
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}")
            offset += t.bytes.count
        }
        var header = Array("{\(entries.joined(separator: ","))}".utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var out = [UInt8]()
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for t in file.tensors { out.append(contentsOf: t.bytes) }
        return out
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}
