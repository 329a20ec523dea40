import RNNCompiler

/// Byte offsets of a document's text to LSP positions (0-based line, UTF-16 character) and
/// back.
struct LineIndex {
    let bytes: [UInt8]
    private let starts: [Int]

    init(_ text: String) {
        bytes = Array(text.utf8)
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        self.starts = starts
    }

    func position(_ offset: Int) -> [String: Any] {
        let offset = max(0, min(offset, bytes.count))
        var line = 0, high = starts.count - 1
        while line < high {  // the last line start at or before `offset`
            let mid = (line + high + 1) / 2
            if starts[mid] <= offset { line = mid } else { high = mid - 1 }
        }
        let character = String(decoding: bytes[starts[line]..<offset], as: UTF8.self).utf16.count
        return ["line": line, "character": character]
    }

    func range(_ range: SourceRange) -> [String: Any] {
        ["start": position(range.start), "end": position(max(range.start, range.end))]
    }

    /// The byte offset of an LSP position (clamped to the line and the document).
    func offset(line: Int, character: Int) -> Int {
        guard line >= 0 else { return 0 }
        guard line < starts.count else { return bytes.count }
        let start = starts[line]
        let end = line + 1 < starts.count ? starts[line + 1] - 1 : bytes.count
        var units = 0, offset = start
        for scalar in String(decoding: bytes[start..<end], as: UTF8.self).unicodeScalars {
            guard units < character else { break }
            units += scalar.utf16.count
            offset += scalar.utf8.count
        }
        return offset
    }

    /// The empty range at the start of a document.
    static var start: [String: Any] { ["start": ["line": 0, "character": 0], "end": ["line": 0, "character": 0]] }

    /// The whole document as an LSP range.
    var all: [String: Any] { ["start": ["line": 0, "character": 0], "end": position(bytes.count)] }
}
