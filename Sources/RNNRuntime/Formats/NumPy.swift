import Foundation

/// The NumPy .npy format (versions 1-3): magic, a header dict, then the raw array.
///
/// Reads little-endian float16/32/64, int8/16/32/64, uint8 and bool arrays in C order;
/// writes float32 or float64.
package enum NumPy {
    package struct Array: Sendable {
        package var shape: [Int]
        package var values: [Double]
    }

    static let magic: [UInt8] = [0x93] + Swift.Array("NUMPY".utf8)

    package static func decode(_ bytes: [UInt8], path: String) throws(RuntimeError) -> Array {
        func bad(_ m: String) -> RuntimeError { .badFile(path: path, line: nil, column: nil, message: "not a valid .npy file: \(m)", lineText: nil) }
        guard bytes.count >= 10, Swift.Array(bytes[0..<6]) == magic else { throw bad("missing the \\x93NUMPY magic") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default: throw bad("unsupported format version \(major)")
        }
        guard headerStart + headerLength <= bytes.count else { throw bad("header is longer than the file") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = field("descr", in: header).flatMap(quoted) else { throw bad("header lacks 'descr'") }
        guard let fortran = field("fortran_order", in: header) else { throw bad("header lacks 'fortran_order'") }
        guard fortran.hasPrefix("False") else { throw bad("Fortran-ordered arrays are not supported; save with np.ascontiguousarray") }
        guard let shapeText = field("shape", in: header), let shape = parseShape(shapeText) else { throw bad("header has no valid 'shape'") }
        guard let (size, convert) = decoder(for: descr) else {
            throw bad("dtype '\(descr)' is not supported (use little-endian float32 or float64)")
        }
        let dataStart = headerStart + headerLength
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= bytes.count else { throw bad("shape \(shape) is larger than the file") }
            count = p
        }
        guard bytes.count - dataStart == count * size else {
            throw bad("shape \(shape) of '\(descr)' needs \(count * size) bytes of data, the file has \(bytes.count - dataStart)")
        }
        var values = [Double](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count { values[i] = convert(raw, dataStart + i * size) }
        }
        return Array(shape: shape, values: values)
    }

    private static func field(_ key: String, in header: String) -> Substring? {
        guard let r = header.range(of: "'\(key)'") else { return nil }
        var rest = header[r.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " }
        return rest
    }

    private static func quoted(_ s: Substring) -> String? {
        guard let q = s.first, q == "'" || q == "\"" else { return nil }
        let body = s.dropFirst()
        guard let end = body.firstIndex(of: q) else { return nil }
        return String(body[..<end])
    }

    private static func parseShape(_ s: Substring) -> [Int]? {
        guard s.first == "(", let close = s.firstIndex(of: ")") else { return nil }
        let inner = s[s.index(after: s.startIndex)..<close]
        var dims: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let d = Int(t), d >= 0 else { return nil }
            dims.append(d)
        }
        return dims
    }

    private typealias Convert = @Sendable (UnsafeRawBufferPointer, Int) -> Double

    private static func decoder(for descr: String) -> (Int, Convert)? {
        switch descr {
        case "<f8", "f8": return (8, { Double(bitPattern: UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt64.self))) })
        case "<f4", "f4": return (4, { Double(Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt32.self)))) })
        case "<f2", "f2": return (2, { Double(NamedTensor.halfToFloat(UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: UInt16.self)))) })
        case "<i8", "i8": return (8, { Double(Int64(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int64.self))) })
        case "<i4", "i4": return (4, { Double(Int32(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int32.self))) })
        case "<i2", "i2": return (2, { Double(Int16(littleEndian: $0.loadUnaligned(fromByteOffset: $1, as: Int16.self))) })
        case "|i1", "i1": return (1, { Double(Int8(bitPattern: $0[$1])) })
        case "|u1", "u1", "|b1", "b1": return (1, { Double($0[$1]) })
        default: return nil
        }
    }

    package static func encode(shape: [Int], values: [Double], float32: Bool) -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(float32 ? "<f4" : "<f8")', 'fortran_order': False, 'shape': (\(dims)), }"
        // Pad so that the data starts on a 64-byte boundary; the header ends with '\n'.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = magic + [1, 0]
        let n = header.utf8.count
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Swift.Array(header.utf8)
        out.reserveCapacity(out.count + values.count * (float32 ? 4 : 8))
        for v in values {
            if float32 {
                withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { out.append(contentsOf: $0) }
            } else {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            }
        }
        return out
    }
}

extension NumPy.Array {
    /// `[T, n]` is one sequence, `[B, T, n]` a batch; `[T]` is a sequence of one-value tokens.
    func sequenceData(path: String) throws(RuntimeError) -> SequenceData {
        switch shape.count {
        case 1:
            return SequenceData(sequence: values.map { [$0] }, width: 1)
        case 2:
            let (t, n) = (shape[0], shape[1])
            return SequenceData(sequence: (0..<t).map { Swift.Array(values[($0 * n)..<(($0 + 1) * n)]) }, width: n)
        case 3:
            let (b, t, n) = (shape[0], shape[1], shape[2])
            let seqs = (0..<b).map { bi in
                (0..<t).map { ti in Swift.Array(values[((bi * t + ti) * n)..<((bi * t + ti + 1) * n)]) }
            }
            return SequenceData(sequences: seqs, width: n, isBatch: true)
        default:
            throw .badFile(path: path, line: nil, column: nil, message: "expected a [T, n] or [B, T, n] array, found shape \(shape)", lineText: nil)
        }
    }
}
