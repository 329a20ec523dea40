import Foundation
import RNNCompiler

/// Completion and formatting.
extension LanguageServer {
    /// LSP's CompletionItemKind values used here.
    enum CompletionKind: Int { case function = 3, variable = 6, keyword = 14 }

    func completion(_ params: [String: Any]) -> Any {
        guard let uri = (params["textDocument"] as? [String: Any])?["uri"] as? String,
              let analysis = lastParsedAnalysis(uri), let position = params["position"] as? [String: Any],
              let line = position["line"] as? Int, let character = position["character"] as? Int else { return [] as [Any] }
        let offset = analysis.lines.offset(line: line, character: character)
        var items: [[String: Any]] = analysis.namesInScope(at: offset).map { s in
            ["label": s.name, "kind": CompletionKind.variable.rawValue, "detail": s.details.first ?? ""]
        }
        items += analysis.symbols.functions.map { f in
            ["label": f.name.name, "kind": CompletionKind.function.rawValue, "detail": SymbolIndex.signature(f)]
        }
        let userFunctions = Set(analysis.symbols.functions.map(\.name.name))
        items += Builtins.names.subtracting(userFunctions).sorted().map { name in
            ["label": name, "kind": CompletionKind.function.rawValue, "detail": "builtin function"]
        }
        items += Keyword.allCases.map { ["label": $0.rawValue, "kind": CompletionKind.keyword.rawValue] }
        return ["isIncomplete": false, "items": items]
    }

    /// The whole document in the canonical layout (`rnnc fmt`), or no edits when it does
    /// not parse.
    func formatting(_ params: [String: Any]) -> Any {
        guard let uri = (params["textDocument"] as? [String: Any])?["uri"] as? String, let analysis = currentAnalysis(uri) else { return [] as [Any] }
        let diagnostics = DiagnosticEngine()
        let ast = Parser.parse(SourceFile(path: analysis.path, text: analysis.text), diagnostics: diagnostics)
        guard !diagnostics.hasErrors else { return [] as [Any] }
        let formatted = Formatter.format(ast)
        guard formatted != analysis.text else { return [] as [Any] }
        return [["range": analysis.lines.all, "newText": formatted]]
    }
}
