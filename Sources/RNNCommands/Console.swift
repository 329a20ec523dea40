import Foundation

/// Where commands write. Tests capture output by binding `Console.capture` for a task.
public final class CapturedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""

    public init() {}

    public var stdout: String { lock.withLock { outText } }
    public var stderr: String { lock.withLock { errText } }

    func append(out s: String) { lock.withLock { outText += s } }
    func append(err s: String) { lock.withLock { errText += s } }
}

public enum Console {
    @TaskLocal public static var capture: CapturedOutput?

    static func out(_ s: String) {
        if let capture { capture.append(out: s); return }
        FileHandle.standardOutput.write(Data(s.utf8))
    }

    static func err(_ s: String) {
        if let capture { capture.append(err: s); return }
        FileHandle.standardError.write(Data(s.utf8))
    }
}
