/// A JSON value with the byte offset where it starts, for located error messages.
///
/// A small strict parser (RFC 8259 plus `NaN`, `Infinity` and `-Infinity`, which Python's
/// json module writes). Nesting is limited so hostile input cannot overflow the stack.
package indirect enum JSONValue: Sendable {
    case number(Double, offset: Int)
    case string(String, offset: Int)
    case bool(Bool, offset: Int)
    case null(offset: Int)
    case array([JSONValue], offset: Int)
    case object([(key: String, value: JSONValue)], offset: Int)

    package static let maxDepth = 64

    package var offset: Int {
        switch self {
        case .number(_, let o), .string(_, let o), .bool(_, let o), .null(let o), .array(_, let o), .object(_, let o): return o
        }
    }

    package var typeName: String {
        switch self {
        case .number: return "a number"
        case .string: return "a string"
        case .bool: return "a boolean"
        case .null: return "null"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    package static func parse(_ bytes: [UInt8], path: String) throws(RuntimeError) -> JSONValue {
        var p = JSONParser(bytes: bytes, path: path)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.pos == bytes.count else { throw p.error("unexpected text after the JSON value") }
        return v
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    let path: String
    var pos = 0

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    func error(_ m: String, at offset: Int? = nil) -> RuntimeError {
        RuntimeError.at(path, bytes: bytes, offset: offset ?? pos, m)
    }

    mutating func skipSpace() {
        while pos < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[pos]) { pos += 1 }
    }

    func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    mutating func literal(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w else { return false }
        pos += w.count
        return true
    }

    mutating func value(depth: Int) throws(RuntimeError) -> JSONValue {
        guard depth < JSONValue.maxDepth else { throw error("JSON nested more than \(JSONValue.maxDepth) levels deep") }
        let start = pos
        guard let c = peek() else { throw error("unexpected end of file, expected a JSON value") }
        switch c {
        case UInt8(ascii: "["):
            pos += 1
            var items: [JSONValue] = []
            skipSpace()
            if peek() == UInt8(ascii: "]") { pos += 1; return .array(items, offset: start) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                if peek() == UInt8(ascii: ",") { pos += 1; continue }
                if peek() == UInt8(ascii: "]") { pos += 1; return .array(items, offset: start) }
                throw error("expected ',' or ']' in array")
            }
        case UInt8(ascii: "{"):
            pos += 1
            var members: [(key: String, value: JSONValue)] = []
            skipSpace()
            if peek() == UInt8(ascii: "}") { pos += 1; return .object(members, offset: start) }
            while true {
                skipSpace()
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key in object") }
                let key = try string()
                skipSpace()
                guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after object key") }
                pos += 1
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                if peek() == UInt8(ascii: ",") { pos += 1; continue }
                if peek() == UInt8(ascii: "}") { pos += 1; return .object(members, offset: start) }
                throw error("expected ',' or '}' in object")
            }
        case UInt8(ascii: "\""):
            return .string(try string(), offset: start)
        case UInt8(ascii: "t"):
            if literal("true") { return .bool(true, offset: start) }
        case UInt8(ascii: "f"):
            if literal("false") { return .bool(false, offset: start) }
        case UInt8(ascii: "n"):
            if literal("null") { return .null(offset: start) }
        case UInt8(ascii: "N"):
            if literal("NaN") { return .number(.nan, offset: start) }
        case UInt8(ascii: "I"):
            if literal("Infinity") { return .number(.infinity, offset: start) }
        default:
            if c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) { return try number() }
        }
        throw error("expected a JSON value")
    }

    mutating func number() throws(RuntimeError) -> JSONValue {
        let start = pos
        if peek() == UInt8(ascii: "-") {
            pos += 1
            if literal("Infinity") { return .number(-.infinity, offset: start) }
        }
        func digits() -> Int {
            let s = pos
            while let d = peek(), d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") { pos += 1 }
            return pos - s
        }
        guard digits() > 0 else { throw error("invalid number", at: start) }
        if peek() == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw error("invalid number: digits expected after '.'", at: start) }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            pos += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw error("invalid number: digits expected in exponent", at: start) }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard let v = parseNumber(text) else { throw error("invalid number '\(text)'", at: start) }
        return .number(v, offset: start)
    }

    mutating func string() throws(RuntimeError) -> String {
        let start = pos
        pos += 1
        var out = [UInt8]()
        while let c = peek() {
            pos += 1
            if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if c < 0x20 { throw error("control character in string", at: pos - 1) }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard let e = peek() else { break }
            pos += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                guard pos + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[pos..<(pos + 4)], as: UTF8.self), radix: 16) else {
                    throw error("invalid \\u escape", at: pos - 2)
                }
                pos += 4
                out.append(contentsOf: Array(String(UnicodeScalar(code).map { Character($0) } ?? "\u{FFFD}").utf8))
            default: throw error("invalid escape in string", at: pos - 2)
            }
        }
        throw error("unterminated string", at: start)
    }
}
