import Foundation

/// LSP's base protocol: JSON-RPC messages, each after a `Content-Length: N` header and a
/// blank line. Reads from a file handle as bytes arrive; refuses headers without a length,
/// and bodies over `maxBytes`, rather than allocate what a broken client claims.
struct MessageReader {
    static let maxBytes = 64 << 20
    static let maxHeaderBytes = 8 << 10

    enum Failure: Error, CustomStringConvertible {
        case badHeader(String)
        case tooLarge(Int)
        var description: String {
            switch self {
            case .badHeader(let h): return "malformed LSP header: \(h.prefix(200))"
            case .tooLarge(let n): return "LSP message of \(n) bytes (the limit is \(MessageReader.maxBytes))"
            }
        }
    }

    let input: FileHandle
    private var buffer = Data()

    init(input: FileHandle) { self.input = input }

    /// The next message's body, or nil at the end of the input.
    mutating func next() throws(Failure) -> Data? {
        let separator = Data("\r\n\r\n".utf8)
        while true {
            if let end = buffer.range(of: separator) {
                let header = String(decoding: buffer[buffer.startIndex..<end.lowerBound], as: UTF8.self)
                let length = try Self.contentLength(header)
                guard length <= Self.maxBytes else { throw .tooLarge(length) }
                while buffer.count - (end.upperBound - buffer.startIndex) < length {
                    guard fill() else { return nil }
                }
                let start = buffer.index(buffer.startIndex, offsetBy: end.upperBound - buffer.startIndex)
                let body = buffer[start..<buffer.index(start, offsetBy: length)]
                buffer = Data(buffer[body.endIndex...])
                return Data(body)
            }
            guard buffer.count <= Self.maxHeaderBytes else { throw .badHeader(String(decoding: buffer.prefix(200), as: UTF8.self)) }
            guard fill() else { return nil }
        }
    }

    private mutating func fill() -> Bool {
        let chunk = input.availableData
        buffer.append(chunk)
        return !chunk.isEmpty
    }

    static func contentLength(_ header: String) throws(Failure) -> Int {
        for line in header.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { throw .badHeader(String(line)) }
            if parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "content-length" {
                guard let n = Int(parts[1].trimmingCharacters(in: .whitespaces)), n >= 0 else { throw .badHeader(String(line)) }
                return n
            }
        }
        throw .badHeader(header)
    }
}

/// A JSON-RPC message framed for LSP.
func framed(_ message: [String: Any]) -> Data {
    let body = (try? JSONSerialization.data(withJSONObject: message, options: [.sortedKeys])) ?? Data("{}".utf8)
    return Data("Content-Length: \(body.count)\r\n\r\n".utf8) + body
}
