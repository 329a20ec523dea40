import Foundation
import RNNCompiler

/// What the server knows about one open document after compiling it: its diagnostics, and
/// for hover, definition and completion the symbols of every model it declares and the
/// recurrence class of every state.
struct DocumentAnalysis {
    let path: String
    let text: String
    let lines: LineIndex
    var diagnostics: [Diagnostic] = []
    var symbols = SymbolIndex()
    /// Top-level declarations (models and functions) by place, to scope completion.
    var declarations: [SourceRange] = []
    /// Per state declaration (`path:start`): one line per class its instances have.
    var recurrence: [String: [String]] = [:]
    /// Whether the text parsed (hover and completion keep the last analysis that did).
    var parsed = false
    /// Most instances of one state declaration a hover lists (a function called many times).
    static let statesShown = 4

    init(path: String, text: String, stdlib: String?) {
        self.path = path
        self.text = text
        lines = LineIndex(text)
        let file = SourceFile(path: path, text: text)
        let parser = Compiler(stdlibPath: stdlib)
        let ast = parser.parse(file)
        parsed = !parser.diagnostics.hasErrors
        declarations = ast.declarations.compactMap { decl in
            switch decl {
            case .model(let m): return m.range
            case .function(let f): return f.range
            case .use: return nil
            }
        }
        let models = ast.declarations.compactMap { decl -> String? in if case .model(let m) = decl { m.name.name } else { nil } }
        guard parsed, !models.isEmpty else {
            // A module of functions only: its syntax is all there is to check on its own.
            diagnostics = parser.diagnostics.diagnostics
            return
        }
        var seen = Set<String>()
        for model in models {
            var options = ElaborationOptions(modelName: model)
            options.symbols = symbols
            let compiler = Compiler(stdlibPath: stdlib, options: options)
            if let ir = compiler.compileToIR(file) { record(RecurrenceAnalysis.analyze(ir), ir) }
            // A diagnostic outside the model's own code shows once, not once per model.
            for d in compiler.diagnostics.diagnostics where seen.insert(d.description).inserted { diagnostics.append(d) }
        }
    }

    private mutating func record(_ groups: [StateRecurrence], _ ir: IRProgram) {
        for group in groups {
            for s in group.states {
                guard let range = ir.states[s].range else { continue }
                let key = "\(range.file.path):\(range.start)"
                let line = "\(ir.states[s].name): \(group.kind.rawValue) (\(group.reason))"
                if (recurrence[key]?.count ?? 0) < Self.statesShown { recurrence[key, default: []].append(line) }
            }
        }
    }

    /// LSP diagnostics for this document: one found in another file (an imported function's
    /// body) shows at the document's call that led there (its outermost call note), else at
    /// the start of the document, and names its place.
    func lspDiagnostics() -> [[String: Any]] {
        diagnostics.map { d in
            var message = d.message
            var range = LineIndex.start
            if let r = d.range {
                if r.file.path == path {
                    range = lines.range(r)
                } else {
                    message = "\(r.file.path):\(r.line):\(r.column): \(message)"
                    if let call = d.notes.last(where: { $0.range.file.path == path }) { range = lines.range(call.range) }
                }
            }
            var entry: [String: Any] = ["range": range, "severity": d.severity == .error ? 1 : 2, "code": d.code.rawValue,
                                        "source": "rnnc", "message": message]
            let related = d.notes.map { note -> [String: Any] in
                ["location": ["uri": URL(fileURLWithPath: note.range.file.path).absoluteString, "range": Self.lspRange(note.range, in: self)],
                 "message": note.message]
            }
            if !related.isEmpty { entry["relatedInformation"] = related }
            return entry
        }
    }

    /// A range of this document or of another file (read from the source it was compiled from).
    static func lspRange(_ range: SourceRange, in analysis: DocumentAnalysis) -> [String: Any] {
        range.file.path == analysis.path ? analysis.lines.range(range) : LineIndex(String(decoding: range.file.bytes, as: UTF8.self)).range(range)
    }

    /// The symbol at an LSP position of this document.
    func symbol(line: Int, character: Int) -> SymbolIndex.Symbol? {
        symbols.symbol(at: lines.offset(line: line, character: character), in: path)
    }

    /// Markdown for a hover: what the name is, and for a state its recurrence class.
    func hover(_ symbol: SymbolIndex.Symbol) -> String {
        var text = "```rnn\n" + symbol.details.joined(separator: "\n") + "\n```"
        if symbol.kind == .state, let d = symbol.definition, let classes = recurrence["\(d.file.path):\(d.start)"] {
            text += "\n\nrecurrence: " + classes.joined(separator: "; ")
        }
        return text
    }

    /// Names in scope at a byte offset: the values and states defined earlier in the same
    /// top-level declaration.
    func namesInScope(at offset: Int) -> [SymbolIndex.Symbol] {
        guard let declaration = declarations.first(where: { $0.start <= offset && offset <= $0.end }) else { return [] }
        var best: [String: SymbolIndex.Symbol] = [:]
        for s in symbols.symbols where s.kind != .function {
            guard let d = s.definition, d.file.path == path, d.start >= declaration.start, d.end <= offset, s.range.start == d.start else { continue }
            best[s.name] = s
        }
        return best.values.sorted { $0.name < $1.name }
    }
}
