/// Diagnostics one per line in the form compilers share (`--diagnostics-format gnu`):
/// `path:line:col: error: message [E0202]`, each note as a `note:` line after it. SwiftPM,
/// Xcode and editors read this form to show a diagnostic at its place (RNNCPlugin passes it).
/// A diagnostic without a place (a weights file's) begins with `rnnc:`.
extension DiagnosticEngine {
    package func renderGNU() -> String {
        func line(_ severity: Severity, _ message: String, _ range: SourceRange?) -> String {
            let place = range.map { "\($0.file.path):\($0.line):\($0.column)" } ?? "rnnc"
            return "\(place): \(severity.rawValue): \(message)"
        }
        var lines: [String] = []
        for d in diagnostics {
            lines.append(line(d.severity, d.message + " [\(d.code.rawValue)]", d.range))
            for note in d.notes { lines.append(line(.note, note.message, note.range)) }
        }
        return lines.joined(separator: "\n")
    }
}
