/// Errors from loading files and running programs. Each message says what is wrong and where.
public enum RuntimeError: Error, Equatable, CustomStringConvertible {
    /// A malformed file: path, optional 1-based line and column, message, and the line's text.
    case badFile(path: String, line: Int?, column: Int?, message: String, lineText: String?)
    case invalidProgram(String)
    case inputMismatch(String)
    case io(String)

    /// The error as the command line prints it, with the file, line and column where known.
    public var description: String {
        switch self {
        case .badFile(let path, let line, let column, let message, let lineText):
            guard let line, let column else { return "\(path): error: \(message)" }
            var s = "\(path):\(line):\(column): error: \(message)"
            if let lineText {
                let (shown, caret) = Self.excerpt(lineText, column: column)
                let gutter = String(line)
                let pad = String(repeating: " ", count: gutter.count)
                s += "\n\(pad) |\n\(gutter) | \(shown)\n\(pad) | \(String(repeating: " ", count: caret - 1))^"
            }
            return s
        case .invalidProgram(let m): return "error: invalid program: \(m)"
        case .inputMismatch(let m): return "error: \(m)"
        case .io(let m): return "error: \(m)"
        }
    }

    /// At most 120 characters of a long line around the column (a data file's line may be
    /// megabytes), with `...` where it is cut, and the caret's column in the excerpt.
    static func excerpt(_ text: String, column: Int) -> (String, Int) {
        let count = text.count
        let at = max(0, min(column - 1, count))
        guard count > 120 else { return (text, at + 1) }
        let start = max(0, at - 60), end = min(count, start + 120)
        let from = text.index(text.startIndex, offsetBy: start), to = text.index(from, offsetBy: end - start)
        let head = start > 0 ? "..." : "", tail = end < count ? "..." : ""
        return (head + String(text[from..<to]) + tail, at - start + head.count + 1)
    }

    /// An error at a byte offset of a text file; computes line, column and the line's text.
    static func at(_ path: String, bytes: [UInt8], offset: Int, _ message: String) -> RuntimeError {
        let offset = max(0, min(offset, bytes.count))
        var line = 1, lineStart = 0
        for i in 0..<offset where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        var end = lineStart
        while end < bytes.count, bytes[end] != UInt8(ascii: "\n"), bytes[end] != UInt8(ascii: "\r") { end += 1 }
        let text = String(decoding: bytes[lineStart..<end], as: UTF8.self)
        return .badFile(path: path, line: line, column: offset - lineStart + 1, message: message, lineText: text)
    }
}
