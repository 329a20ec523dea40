/// How serious a diagnostic is.
public enum Severity: String, Sendable {
    case error, warning, note
}

/// One message from the compiler, with a stable code and a source location.
public struct Diagnostic: Error, Sendable, CustomStringConvertible {
    /// Its stable code (docs/diagnostics.md).
    public let code: DiagnosticCode
    /// Error or warning.
    public let severity: Severity
    /// What is wrong, in one sentence.
    public let message: String
    /// Where in the source, when it has a place (a weights file's problem has none).
    public let range: SourceRange?
    /// Extra located notes, e.g. "previous definition is here".
    public var notes: [(message: String, range: SourceRange)] = []

    package init(_ code: DiagnosticCode, _ message: String, at range: SourceRange?, severity: Severity = .error) {
        self.code = code
        self.severity = severity
        self.message = message
        self.range = range
    }

    /// `path:line:col: error[E0102]: message`, then the source line with a caret.
    public var description: String { render(color: false) }

    /// The text of `description`; with `color`, ANSI colours as rustc and swiftc use them on a
    /// terminal (the severity in red, yellow or cyan, the location and message in bold).
    public func render(color: Bool) -> String {
        let style = Style(color: color)
        var out = ""
        out += Self.header(code: code, severity: severity, message: message, range: range, style)
        if let range { out += Self.snippet(range, severity: severity, style) }
        for note in notes {
            out += "\n" + Self.header(code: nil, severity: .note, message: note.message, range: note.range, style)
            out += Self.snippet(note.range, severity: .note, style)
        }
        return out
    }

    /// ANSI escapes, or nothing when colour is off.
    struct Style {
        let color: Bool

        func paint(_ text: String, _ codes: String) -> String { color ? "\u{1B}[\(codes)m\(text)\u{1B}[0m" : text }
        func bold(_ text: String) -> String { paint(text, "1") }
        func severity(_ text: String, _ severity: Severity) -> String {
            switch severity {
            case .error: return paint(text, "1;31")
            case .warning: return paint(text, "1;33")
            case .note: return paint(text, "1;36")
            }
        }
    }

    static func header(code: DiagnosticCode?, severity: Severity, message: String, range: SourceRange?, _ style: Style = Style(color: false)) -> String {
        var loc = ""
        if let range {
            let (line, col) = range.file.lineColumn(of: range.start)
            loc = style.bold("\(range.file.path):\(line):\(col):") + " "
        }
        let tag = code.map { "\(severity.rawValue)[\($0.rawValue)]" } ?? severity.rawValue
        return "\(loc)\(style.severity(tag, severity))\(style.bold(": " + message))"
    }

    static func snippet(_ range: SourceRange, severity: Severity = .error, _ style: Style = Style(color: false)) -> String {
        let (line, col) = range.file.lineColumn(of: range.start)
        let (excerpt, at) = range.file.lineExcerpt(line, column: col)
        let text = excerpt.replacingTabs()
        let (endLine, endCol) = range.file.lineColumn(of: max(range.start, range.end - 1))
        let width = endLine == line ? max(1, endCol - col + 1) : 1
        let gutter = String(line)
        let pad = String(repeating: " ", count: gutter.count)
        let indent = String(repeating: " ", count: at - 1)
        let caret = "^" + String(repeating: "~", count: max(0, min(width, 120) - 1))
        let bar = style.paint("|", "1;34")
        return "\n\(pad) \(bar)\n\(style.paint(gutter, "1;34")) \(bar) \(text)\n\(pad) \(bar) \(indent)\(style.severity(caret, severity))"
    }
}

extension String {
    fileprivate func replacingTabs() -> String {
        String(map { $0 == "\t" ? " " : $0 })
    }
}

/// Collects diagnostics for one compilation; checks never stop at the first error.
public final class DiagnosticEngine {
    /// Every diagnostic kept, in the order reported (at most `limit`).
    public private(set) var diagnostics: [Diagnostic] = []
    /// Stop collecting after this many errors (the rest are counted, not kept).
    package let limit: Int
    /// Diagnostics past the limit: counted, not kept (errors and warnings apart).
    package private(set) var dropped = 0
    package private(set) var droppedErrors = 0

    package init(limit: Int = 100) { self.limit = limit }

    /// Whether any error was reported, kept or dropped.
    public var hasErrors: Bool { droppedErrors > 0 || diagnostics.contains { $0.severity == .error } }
    /// Errors reported, kept or dropped.
    public var errorCount: Int { diagnostics.filter { $0.severity == .error }.count + droppedErrors }

    package func emit(_ d: Diagnostic) {
        if diagnostics.count >= limit {
            dropped += 1
            if d.severity == .error { droppedErrors += 1 }
            return
        }
        diagnostics.append(d)
    }

    package func error(_ code: DiagnosticCode, _ message: String, at range: SourceRange?) {
        emit(Diagnostic(code, message, at: range))
    }

    package func warning(_ code: DiagnosticCode, _ message: String, at range: SourceRange?) {
        emit(Diagnostic(code, message, at: range, severity: .warning))
    }

    /// Drops the warnings whose codes are `allowed`, and makes the rest errors when
    /// `warningsAsErrors` (`--allow CODE`, `--warnings-as-errors`).
    package func apply(allowed: Set<DiagnosticCode>, warningsAsErrors: Bool) {
        diagnostics = diagnostics.compactMap { d in
            guard d.severity == .warning else { return d }
            if allowed.contains(d.code) { return nil }
            guard warningsAsErrors else { return d }
            var error = Diagnostic(d.code, d.message + " (an error with --warnings-as-errors)", at: d.range, severity: .error)
            error.notes = d.notes
            return error
        }
    }

    /// Every diagnostic as `rnnc` prints them, with the source line and a caret; `color`
    /// adds ANSI colours.
    public func render(color: Bool = false) -> String {
        var parts = diagnostics.map { $0.render(color: color) }
        if dropped > 0 { parts.append("note: \(dropped) more diagnostics not shown (\(droppedErrors) of them errors)") }
        return parts.joined(separator: "\n\n")
    }
}
