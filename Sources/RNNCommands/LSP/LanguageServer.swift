import Foundation
import RNNCompiler

/// `rnnc lsp`: a Language Server Protocol (3.17) server. Documents are compiled as they
/// change, with the stdlib and their imports from disk; the server answers hover,
/// definition, completion and formatting from the last analysis that parsed.
final class LanguageServer {
    private let stdlib: String?
    private let send: (Data) -> Void
    private var documents: [String: DocumentAnalysis] = [:]
    /// The last analysis of each document whose text parsed.
    private var lastParsed: [String: DocumentAnalysis] = [:]
    private var shutdownRequested = false
    /// Set by `exit`: the status the process ends with (0 after `shutdown`).
    private(set) var exitStatus: Int32?

    init(stdlib: String?, send: @escaping (Data) -> Void) {
        self.stdlib = stdlib
        self.send = send
    }

    /// Reads messages until `exit` or the end of the input; returns the exit status.
    func serve(input: FileHandle) -> Int32 {
        var reader = MessageReader(input: input)
        while exitStatus == nil {
            do {
                guard let body = try reader.next() else { return shutdownRequested ? 0 : 1 }
                handle(body)
            } catch {
                FileHandle.standardError.write(Data("rnnc lsp: \(error)\n".utf8))
                return 1
            }
        }
        return exitStatus ?? 0
    }

    /// Handles one message's body.
    func handle(_ body: Data) {
        guard let message = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], let method = message["method"] as? String else {
            return reply(id: NSNull(), error: (-32700, "not a JSON-RPC request or notification"))
        }
        let params = message["params"] as? [String: Any] ?? [:]
        guard let id = message["id"] else { return notification(method, params) }
        if shutdownRequested && method != "exit" { return reply(id: id, error: (-32600, "the server is shutting down")) }
        switch method {
        case "initialize": reply(id: id, result: Self.capabilities)
        case "shutdown":
            shutdownRequested = true
            reply(id: id, result: NSNull())
        case "textDocument/hover": reply(id: id, result: hover(params))
        case "textDocument/definition": reply(id: id, result: definition(params))
        case "textDocument/completion": reply(id: id, result: completion(params))
        case "textDocument/formatting": reply(id: id, result: formatting(params))
        default: reply(id: id, error: (-32601, "method not found: \(method)"))
        }
    }

    static var capabilities: [String: Any] { [
        "capabilities": [
            "textDocumentSync": ["openClose": true, "change": 1],
            "hoverProvider": true,
            "definitionProvider": true,
            "completionProvider": ["triggerCharacters": ["."]],
            "documentFormattingProvider": true,
        ] as [String: Any],
        "serverInfo": ["name": "rnnc", "version": RNNCommand.version],
    ] }

    private func notification(_ method: String, _ params: [String: Any]) {
        let document = params["textDocument"] as? [String: Any] ?? [:]
        guard let uri = document["uri"] as? String else {
            if method == "exit" { exitStatus = shutdownRequested ? 0 : 1 }
            return
        }
        switch method {
        case "textDocument/didOpen":
            if let text = document["text"] as? String { analyze(uri, text) }
        case "textDocument/didChange":
            // Full synchronization: the last change holds the whole text.
            if let text = (params["contentChanges"] as? [[String: Any]])?.last?["text"] as? String { analyze(uri, text) }
        case "textDocument/didClose":
            documents[uri] = nil
            lastParsed[uri] = nil
            publish(uri, [])
        default: break  // didSave, $/cancelRequest, workspace notifications: nothing to do
        }
    }

    private func analyze(_ uri: String, _ text: String) {
        let analysis = DocumentAnalysis(path: Self.path(of: uri), text: text, stdlib: stdlib)
        documents[uri] = analysis
        if analysis.parsed { lastParsed[uri] = analysis }
        publish(uri, analysis.lspDiagnostics())
    }

    private func publish(_ uri: String, _ diagnostics: [[String: Any]]) {
        send(framed(["jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": ["uri": uri, "diagnostics": diagnostics]]))
    }

    /// A file URI's path; another scheme's URI (an unsaved buffer) stands for itself.
    static func path(of uri: String) -> String {
        guard let url = URL(string: uri), url.isFileURL else { return uri }
        return url.path
    }

    private func reply(id: Any, result: Any) {
        send(framed(["jsonrpc": "2.0", "id": id, "result": result]))
    }

    private func reply(id: Any, error: (code: Int, message: String)) {
        send(framed(["jsonrpc": "2.0", "id": id, "error": ["code": error.code, "message": error.message]]))
    }

    /// The last analysis of a document that parsed (else its current one).
    func lastParsedAnalysis(_ uri: String) -> DocumentAnalysis? { lastParsed[uri] ?? documents[uri] }

    /// The analysis of a document's current text.
    func currentAnalysis(_ uri: String) -> DocumentAnalysis? { documents[uri] }

    /// The analysis a position request reads, and the position.
    private func target(_ params: [String: Any]) -> (DocumentAnalysis, line: Int, character: Int)? {
        guard let uri = (params["textDocument"] as? [String: Any])?["uri"] as? String,
              let analysis = lastParsedAnalysis(uri),
              let position = params["position"] as? [String: Any],
              let line = position["line"] as? Int, let character = position["character"] as? Int else { return nil }
        return (analysis, line, character)
    }

    private func hover(_ params: [String: Any]) -> Any {
        guard let (analysis, line, character) = target(params), let symbol = analysis.symbol(line: line, character: character) else { return NSNull() }
        return ["contents": ["kind": "markdown", "value": analysis.hover(symbol)], "range": analysis.lines.range(symbol.range)]
    }

    private func definition(_ params: [String: Any]) -> Any {
        guard let (analysis, line, character) = target(params), let symbol = analysis.symbol(line: line, character: character),
              let place = symbol.definition else { return NSNull() }
        return ["uri": URL(fileURLWithPath: place.file.path).absoluteString, "range": DocumentAnalysis.lspRange(place, in: analysis)]
    }
}
