import Foundation

/// Where commands write. Tests capture output by binding `Console.capture` for a task.
package final class CapturedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""

    package init() {}

    package var stdout: String { lock.withLock { outText } }
    package var stderr: String { lock.withLock { errText } }

    func append(out s: String) { lock.withLock { outText += s } }
    func append(err s: String) { lock.withLock { errText += s } }
}

/// Lines given to a command in place of standard input (for tests).
package final class ScriptedInput: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String]

    package init(_ lines: [String]) { self.lines = lines }

    func next() -> String? { lock.withLock { lines.isEmpty ? nil : lines.removeFirst() } }
}

package enum Console {
    @TaskLocal package static var capture: CapturedOutput?
    @TaskLocal package static var input: ScriptedInput?

    /// The next line of standard input (or of the scripted input), nil at its end.
    static func readLine() -> String? {
        if let input { return input.next() }
        return Swift.readLine()
    }

    /// Writes to standard output at once (FileHandle writes are unbuffered), or to the capture.
    static func out(_ s: String) {
        if let capture { capture.append(out: s); return }
        FileHandle.standardOutput.write(Data(s.utf8))
    }

    /// Writes raw bytes to standard output at once (text whose UTF-8 may be cut anywhere, such
    /// as a byte-level model's output); a capture gets them decoded.
    static func out(bytes: [UInt8]) {
        if let capture { capture.append(out: String(decoding: bytes, as: UTF8.self)); return }
        FileHandle.standardOutput.write(Data(bytes))
    }

    /// Whether diagnostics on standard error are coloured: on a terminal, unless `NO_COLOR` is
    /// set (no-color.org) or `TERM` is `dumb`; never when captured.
    static var colorsErrors: Bool {
        guard capture == nil, isatty(STDERR_FILENO) == 1 else { return false }
        let env = ProcessInfo.processInfo.environment
        return env["NO_COLOR"].map(\.isEmpty) ?? true && env["TERM"] != "dumb"
    }

    static func err(_ s: String) {
        if let capture { capture.append(err: s); return }
        FileHandle.standardError.write(Data(s.utf8))
    }
}
