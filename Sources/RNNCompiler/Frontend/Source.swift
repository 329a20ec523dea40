/// A source file held in memory as UTF-8 bytes, with a table of line starts.
///
/// Tokens and AST nodes store byte offsets; line and column are computed only
/// when a diagnostic is printed.
public final class SourceFile: Sendable {
    /// The path diagnostics name.
    public let path: String
    /// The file's bytes (UTF-8).
    public let bytes: [UInt8]
    let lineStarts: [Int]

    /// A source from its bytes.
    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        self.lineStarts = starts
    }

    /// A source from its text.
    public convenience init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    /// 1-based line and column (in bytes) of an offset.
    public func lineColumn(of offset: Int) -> (line: Int, column: Int) {
        let clamped = max(0, min(offset, bytes.count))
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= clamped { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, clamped - lineStarts[lo] + 1)
    }

    /// The text of a 1-based line, without its newline; invalid UTF-8 is replaced.
    package func lineText(_ line: Int) -> String {
        String(decoding: lineBytes(line), as: UTF8.self)
    }

    /// The bytes of a 1-based line, without its newline.
    func lineBytes(_ line: Int) -> ArraySlice<UInt8> {
        guard line >= 1, line <= lineStarts.count else { return [] }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] : bytes.count
        while end > start, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return bytes[start..<end]
    }

    /// At most 120 bytes of a line around a 1-based byte column, with `...` where it is cut (a
    /// line may be megabytes long), and the column's place in the excerpt.
    func lineExcerpt(_ line: Int, column: Int) -> (text: String, column: Int) {
        let all = lineBytes(line)
        guard all.count > 120 else { return (String(decoding: all, as: UTF8.self), column) }
        let at = max(0, min(column - 1, all.count))
        let lo = max(0, at - 60), hi = min(all.count, lo + 120)
        let head = lo > 0 ? "..." : "", tail = hi < all.count ? "..." : ""
        let window = all[(all.startIndex + lo)..<(all.startIndex + hi)]
        return (head + String(decoding: window, as: UTF8.self) + tail, at - lo + head.count + 1)
    }

    package func text(_ range: SourceRange) -> String {
        let s = max(0, min(range.start, bytes.count)), e = max(s, min(range.end, bytes.count))
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }
}

/// A half-open byte range in one source file.
public struct SourceRange: Sendable, Equatable {
    /// The file the range is in.
    public let file: SourceFile
    /// The byte offset of its first character.
    public let start: Int
    /// The byte offset just past its last character.
    public let end: Int

    package init(file: SourceFile, start: Int, end: Int) {
        self.file = file
        self.start = start
        self.end = max(start, end)
    }

    /// Two ranges are equal when they cover the same bytes of the same file.
    public static func == (a: SourceRange, b: SourceRange) -> Bool {
        a.file === b.file && a.start == b.start && a.end == b.end
    }

    /// The range covering both `self` and `other` (same file).
    package func to(_ other: SourceRange) -> SourceRange {
        SourceRange(file: file, start: min(start, other.start), end: max(end, other.end))
    }

    /// The 1-based line of its start.
    public var line: Int { file.lineColumn(of: start).line }
    /// The 1-based column of its start, in characters.
    public var column: Int { file.lineColumn(of: start).column }
}
