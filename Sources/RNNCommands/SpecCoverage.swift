import Foundation
import RNNCompiler
import RNNGrammar

/// What a set of specs exercises: the grammar's coverage units (rules, alternatives and
/// terminals of grammar/rnn.ebnf, found by recognizing each spec's program) and the
/// diagnostic codes the specs expect.
package struct SpecCoverage {
    package let recognizer: Recognizer
    package private(set) var units: Set<CoverageUnit> = []
    package private(set) var codes: Set<String> = []

    package init(grammarPath: String) throws {
        let text: String
        do { text = try String(contentsOfFile: grammarPath, encoding: .utf8) } catch {
            throw SpecError(description: "\(grammarPath): cannot read the grammar")
        }
        recognizer = Recognizer(lexer: try GrammarLexer(grammar: Grammar(text: text, path: grammarPath)))
    }

    package mutating func add(_ spec: Spec) {
        if let used = recognizer.derivationUnits(of: Array(spec.source.utf8)) { units.formUnion(used) }
        codes.formUnion((spec.expectedDiagnostics ?? []).map(\.code))
    }

    package var missingUnits: [CoverageUnit] { recognizer.lexer.allCoverageUnits.subtracting(units).sorted() }
    package var missingCodes: [String] { DiagnosticCode.allCases.map(\.rawValue).filter { !codes.contains($0) } }
    package var isComplete: Bool { missingUnits.isEmpty && missingCodes.isEmpty }

    package var report: String {
        let allUnits = recognizer.lexer.allCoverageUnits.count
        var lines = ["grammar: \(allUnits - missingUnits.count) of \(allUnits) rules, alternatives and terminals exercised"]
        lines += missingUnits.map { "  never exercised: \(recognizer.lexer.explain($0))" }
        let allCodes = DiagnosticCode.allCases.count
        lines.append("diagnostics: \(allCodes - missingCodes.count) of \(allCodes) codes expected by some spec")
        lines += missingCodes.map { "  never expected: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `grammar/rnn.ebnf` in the current directory or above it, or above one of `paths`.
    package static func locateGrammar(near paths: [String]) -> String? {
        let cwd = FileManager.default.currentDirectoryPath
        for start in [cwd] + paths.map({ ($0 as NSString).isAbsolutePath ? $0 : cwd + "/" + $0 }) {
            var dir = URL(fileURLWithPath: start).standardizedFileURL
            while true {
                let candidate = dir.appendingPathComponent("grammar/rnn.ebnf").path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
                let parent = dir.deletingLastPathComponent()
                if parent.path == dir.path { break }
                dir = parent
            }
        }
        return nil
    }
}
