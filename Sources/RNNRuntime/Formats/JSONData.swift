/// Token sequences as JSON: `[x1, x2, ...]` (one-value tokens), `[[...], [...]]` (a sequence of
/// token vectors) or `[[[...]], [[...]]]` (a batch of sequences).
enum JSONData {
    static func decode(_ bytes: [UInt8], path: String) throws(RuntimeError) -> SequenceData {
        let root = try JSONValue.parse(bytes, path: path)
        func err(_ v: JSONValue, _ m: String) -> RuntimeError { RuntimeError.at(path, bytes: bytes, offset: v.offset, m) }
        guard case .array(let items, _) = root else { throw err(root, "expected an array of tokens, found \(root.typeName)") }
        switch depth(root) {
        case 3:
            var seqs: [[[Double]]] = []
            var width: Int?
            for item in items {
                guard case .array(let tokens, _) = item else { throw err(item, "expected a sequence (an array of token vectors), found \(item.typeName)") }
                seqs.append(try sequence(tokens, width: &width, err: err))
            }
            return SequenceData(sequences: seqs, width: width ?? 0, isBatch: true)
        case 2:
            var width: Int?
            return SequenceData(sequence: try sequence(items, width: &width, err: err), width: width ?? 0)
        default:
            var seq: [[Double]] = []
            for item in items { seq.append([try number(item, err: err)]) }
            return SequenceData(sequence: seq, width: items.isEmpty ? 0 : 1)
        }
    }

    /// Deepest array nesting found (1 for a flat array).
    private static func depth(_ v: JSONValue) -> Int {
        guard case .array(let items, _) = v else { return 0 }
        return 1 + (items.map(depth).max() ?? 0)
    }

    private static func sequence(_ tokens: [JSONValue], width: inout Int?, err: (JSONValue, String) -> RuntimeError) throws(RuntimeError) -> [[Double]] {
        var seq: [[Double]] = []
        for token in tokens {
            guard case .array(let xs, _) = token else { throw err(token, "expected a token vector (an array of numbers), found \(token.typeName)") }
            var vec: [Double] = []
            for x in xs { vec.append(try number(x, err: err)) }
            if let w = width, w != vec.count {
                throw err(token, "token has \(vec.count) values, but earlier tokens have \(w)")
            }
            width = vec.count
            seq.append(vec)
        }
        return seq
    }

    private static func number(_ v: JSONValue, err: (JSONValue, String) -> RuntimeError) throws(RuntimeError) -> Double {
        guard case .number(let x, _) = v else { throw err(v, "expected a number, found \(v.typeName)") }
        return x
    }

    /// Sequences of tokens of values already written as JSON, one token a line.
    static func encode(_ cells: [[[String]]], isBatch: Bool) -> String {
        func seq(_ s: [[String]], indent: String) -> String {
            if s.isEmpty { return "[]" }
            let rows = s.map { indent + "  [" + $0.joined(separator: ", ") + "]" }
            return "[\n" + rows.joined(separator: ",\n") + "\n\(indent)]"
        }
        if !isBatch { return seq(cells.first ?? [], indent: "") + "\n" }
        let parts = cells.map { "  " + seq($0, indent: "  ") }
        return "[\n" + parts.joined(separator: ",\n") + "\n]\n"
    }
}

/// One sequence as CSV: one token per row, comma-separated numbers. Blank lines and lines
/// starting with `#` are skipped; a first row that is not numeric is taken as a header.
enum CSVData {
    static func decode(_ bytes: [UInt8], path: String) throws(RuntimeError) -> SequenceData {
        var seq: [[Double]] = []
        var width: Int?
        var lineStart = 0
        var sawRow = false
        while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            defer { lineStart = lineEnd + 1 }
            var end = lineEnd
            if end > lineStart, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            let line = Array(bytes[lineStart..<end])
            let trimmed = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
            let isFirstRow = !sawRow
            sawRow = true
            var row: [Double] = []
            var fieldStart = lineStart
            var isHeader = false
            for (i, field) in line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).enumerated() {
                let text = String(decoding: field, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                if let v = parseNumber(text) {
                    row.append(v)
                } else if isFirstRow, i == 0, parseNumber(text) == nil, !text.isEmpty, text.first!.isLetter {
                    isHeader = true
                    break
                } else {
                    throw RuntimeError.at(path, bytes: bytes, offset: fieldStart, "expected a number, found '\(text)'")
                }
                fieldStart += field.count + 1
            }
            if isHeader { continue }
            if let w = width, w != row.count {
                throw RuntimeError.at(path, bytes: bytes, offset: lineStart, "row has \(row.count) values, but earlier rows have \(w)")
            }
            width = row.count
            seq.append(row)
        }
        return SequenceData(sequence: seq, width: width ?? 0)
    }
}
