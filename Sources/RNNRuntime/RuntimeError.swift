/// Errors from loading files and running programs. Each message says what is wrong and where.
public enum RuntimeError: Error, Equatable, CustomStringConvertible {
    /// A malformed file: path, optional 1-based line and column, message, and the line's text.
    case badFile(path: String, line: Int?, column: Int?, message: String, lineText: String?)
    case invalidProgram(String)
    case inputMismatch(String)
    case io(String)

    public var description: String {
        switch self {
        case .badFile(let path, let line, let column, let message, let lineText):
            guard let line, let column else { return "\(path): error: \(message)" }
            var s = "\(path):\(line):\(column): error: \(message)"
            if let lineText {
                let gutter = String(line)
                let pad = String(repeating: " ", count: gutter.count)
                s += "\n\(pad) |\n\(gutter) | \(lineText)\n\(pad) | \(String(repeating: " ", count: max(0, column - 1)))^"
            }
            return s
        case .invalidProgram(let m): return "error: invalid program: \(m)"
        case .inputMismatch(let m): return "error: \(m)"
        case .io(let m): return "error: \(m)"
        }
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
