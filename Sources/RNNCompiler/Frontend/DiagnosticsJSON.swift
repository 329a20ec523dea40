import Foundation

/// Diagnostics as JSON for tools (`--diagnostics-format json`): one object,
/// `{"diagnostics": [...], "errors": N, "warnings": N}`. Each diagnostic has `code`,
/// `severity` ("error" or "warning"), `message`, and, when located, `file` and `range`
/// (`start` and `end`, each a 1-based `line` and `column` counted in bytes, `end` exclusive),
/// and `notes` (each a `message` with its `file` and `range`). Field names are fixed here,
/// not derived from Swift names.
extension DiagnosticEngine {
    package func renderJSON() -> String {
        struct Position: Encodable { var line: Int, column: Int }
        struct Range: Encodable { var start: Position, end: Position }
        struct Note: Encodable { var message: String, file: String, range: Range }
        struct Entry: Encodable {
            var code: String, severity: String, message: String
            var file: String?, range: Range?
            var notes: [Note]
        }
        struct Report: Encodable { var diagnostics: [Entry], errors: Int, warnings: Int }

        func range(_ r: SourceRange) -> Range {
            let (a, b) = (r.file.lineColumn(of: r.start), r.file.lineColumn(of: r.end))
            return Range(start: Position(line: a.line, column: a.column), end: Position(line: b.line, column: b.column))
        }
        let entries = diagnostics.map { d in
            Entry(code: d.code.rawValue, severity: d.severity.rawValue, message: d.message,
                  file: d.range?.file.path, range: d.range.map(range),
                  notes: d.notes.map { Note(message: $0.message, file: $0.range.file.path, range: range($0.range)) })
        }
        let report = Report(diagnostics: entries, errors: errorCount, warnings: diagnostics.count { $0.severity == .warning })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(report)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
