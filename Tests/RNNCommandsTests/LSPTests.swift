import Foundation
import Testing
@testable import RNNCommands

/// `rnnc lsp` driven by a scripted JSON-RPC client over pipes, as an editor drives it.
@Suite(.serialized) struct LSPTests {
    /// A server on a background thread and a client that writes requests and reads replies.
    final class Session: @unchecked Sendable {
        let toServer = Pipe(), fromServer = Pipe()
        var reader: MessageReader
        var nextID = 1
        let done = DispatchSemaphore(value: 0)
        var status: Int32 = -1

        init() {
            reader = MessageReader(input: fromServer.fileHandleForReading)
            let (input, output) = (toServer.fileHandleForReading, fromServer.fileHandleForWriting)
            Thread.detachNewThread { [self] in
                let server = LanguageServer(stdlib: repoRoot + "/stdlib") { output.write($0) }
                status = server.serve(input: input)
                done.signal()
            }
        }

        func notify(_ method: String, _ params: [String: Any]) {
            toServer.fileHandleForWriting.write(framed(["jsonrpc": "2.0", "method": method, "params": params]))
        }

        /// Sends a request and returns its reply, collecting notifications that come first.
        func request(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
            let id = nextID
            nextID += 1
            toServer.fileHandleForWriting.write(framed(["jsonrpc": "2.0", "id": id, "method": method, "params": params]))
            while true {
                let message = try next()
                if message["id"] as? Int == id { return message }
            }
        }

        func next() throws -> [String: Any] {
            let body = try #require(try reader.next(), "the server closed its output")
            return try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        }

        /// The next diagnostics published.
        func diagnostics() throws -> [[String: Any]] {
            while true {
                let message = try next()
                if message["method"] as? String == "textDocument/publishDiagnostics" {
                    return try #require((message["params"] as? [String: Any])?["diagnostics"] as? [[String: Any]])
                }
            }
        }
    }

    static let uri = URL(fileURLWithPath: repoRoot + "/examples/lsp_test.rnn").absoluteString
    static let source = """
        use logic

        model MoreOnes {
          input x: [1]
          state ones: [1] = 0
          state zeros: [1] = 0
          n = 3
          ones <- ones + x
          zeros <- zeros + not(x)
          output larger(ones, zeros) * n
        }

        """

    static func position(of needle: String, in text: String = source, offset: Int = 0) -> [String: Any] {
        let lines = text.components(separatedBy: "\n")
        let line = lines.firstIndex { $0.contains(needle) }!
        let column = lines[line].distance(from: lines[line].startIndex, to: lines[line].range(of: needle)!.lowerBound)
        return ["line": line, "character": column + offset]
    }

    func open(_ session: Session, _ text: String) throws -> [[String: Any]] {
        session.notify("textDocument/didOpen", ["textDocument": ["uri": Self.uri, "languageId": "rnn", "version": 1, "text": text]])
        return try session.diagnostics()
    }

    @Test func lifecycleAndDiagnosticsAsYouType() throws {
        let session = Session()
        let initialized = try session.request("initialize", ["capabilities": [:] as [String: Any]])
        let capabilities = try #require((initialized["result"] as? [String: Any])?["capabilities"] as? [String: Any])
        #expect(capabilities["hoverProvider"] as? Bool == true && capabilities["documentFormattingProvider"] as? Bool == true)
        session.notify("initialized", [:])
        #expect(try open(session, Self.source).isEmpty)
        // A typo: E0201 at the name, with the code of docs/diagnostics.md.
        let typo = Self.source.replacingOccurrences(of: "not(x)", with: "not(y)")
        session.notify("textDocument/didChange", ["textDocument": ["uri": Self.uri, "version": 2], "contentChanges": [["text": typo]]])
        let diagnostics = try session.diagnostics()
        let first = try #require(diagnostics.first)
        #expect(first["code"] as? String == "E0201" && first["severity"] as? Int == 1)
        #expect((first["range"] as? [String: Any])?["start"] as? [String: Int] == Self.position(of: "y)", in: typo) as? [String: Int])
        // A syntax error is reported too; hover keeps working from the last text that parsed.
        session.notify("textDocument/didChange", ["textDocument": ["uri": Self.uri, "version": 3], "contentChanges": [["text": Self.source + "model {"]]])
        #expect(try session.diagnostics().contains { ($0["code"] as? String)?.hasPrefix("E01") == true })
        let hover = try session.request("textDocument/hover", ["textDocument": ["uri": Self.uri], "position": Self.position(of: "n = 3")])
        #expect(((hover["result"] as? [String: Any])?["contents"] as? [String: Any])?["value"] as? String == "```rnn\nn = 3 (compile-time)\n```")
        #expect(try session.request("no/suchMethod")["error"] != nil)
        #expect(try session.request("shutdown")["result"] is NSNull)
        session.notify("exit", [:])
        session.done.wait()
        #expect(session.status == 0)
    }

    @Test func hoverShowsShapesValuesAndRecurrenceClasses() throws {
        let session = Session()
        _ = try session.request("initialize")
        _ = try open(session, Self.source)
        func hover(_ needle: String, _ offset: Int = 0) throws -> String {
            let reply = try session.request("textDocument/hover", ["textDocument": ["uri": Self.uri], "position": Self.position(of: needle, offset: offset)])
            return ((reply["result"] as? [String: Any])?["contents"] as? [String: Any])?["value"] as? String ?? ""
        }
        #expect(try hover("x: [1]") == "```rnn\nx: [1] (runtime)\n```")
        let state = try hover("ones + x")
        #expect(state.hasPrefix("```rnn\nstate ones: [1]\n```") && state.contains("affine time-invariant"), "\(state)")
        #expect(try hover("larger", 2) == "```rnn\nfn larger(x, y, scale = 1000)\n```")
        #expect(try hover("* n", 2) == "```rnn\nn = 3 (compile-time)\n```")
    }

    @Test func definitionCrossesIntoTheStdlib() throws {
        let session = Session()
        _ = try session.request("initialize")
        _ = try open(session, Self.source)
        let local = try session.request("textDocument/definition", ["textDocument": ["uri": Self.uri], "position": Self.position(of: "ones + x", offset: 1)])
        let localResult = try #require(local["result"] as? [String: Any])
        #expect(localResult["uri"] as? String == Self.uri)
        #expect((localResult["range"] as? [String: Any])?["start"] as? [String: Int] == Self.position(of: "ones: [1]") as? [String: Int])
        let library = try session.request("textDocument/definition", ["textDocument": ["uri": Self.uri], "position": Self.position(of: "larger", offset: 1)])
        let libraryResult = try #require(library["result"] as? [String: Any])
        let uri = try #require(libraryResult["uri"] as? String)
        #expect(uri == URL(fileURLWithPath: repoRoot + "/stdlib/logic.rnn").absoluteString)
        let line = try #require(((libraryResult["range"] as? [String: Any])?["start"] as? [String: Int])?["line"])
        let logic = try String(contentsOfFile: repoRoot + "/stdlib/logic.rnn", encoding: .utf8).components(separatedBy: "\n")
        #expect(logic[line].hasPrefix("fn larger("))
    }

    @Test func completionOffersNamesInScopeAndFunctions() throws {
        let session = Session()
        _ = try session.request("initialize")
        _ = try open(session, Self.source)
        let reply = try session.request("textDocument/completion", ["textDocument": ["uri": Self.uri], "position": Self.position(of: "output")])
        let items = try #require((reply["result"] as? [String: Any])?["items"] as? [[String: Any]])
        let byLabel = Dictionary(items.map { ($0["label"] as! String, $0) }, uniquingKeysWith: { a, _ in a })
        for name in ["x", "ones", "zeros", "n"] { #expect(byLabel[name]?["kind"] as? Int == 6, "\(name)") }
        #expect((byLabel["ifelse"]?["detail"] as? String)?.hasPrefix("fn ifelse(c, t, f") == true, "\(String(describing: byLabel["ifelse"]))")
        #expect(byLabel["relu"]?["kind"] as? Int == 3 && byLabel["model"]?["kind"] as? Int == 14)
    }

    /// An error inside a stdlib function shows at the document's call of it.
    @Test func errorsInImportedFunctionsShowAtTheCall() throws {
        let session = Session()
        _ = try session.request("initialize")
        let text = "use logic\nmodel M {\n  input x: [3]\n  output larger(x, [1, 2])\n}\n"
        let diagnostics = try open(session, text)
        let first = try #require(diagnostics.first)
        #expect(first["code"] as? String == "E0301")
        #expect((first["message"] as? String)?.contains("stdlib/logic.rnn:") == true, "\(first)")
        #expect((first["range"] as? [String: Any])?["start"] as? [String: Int] == Self.position(of: "larger", in: text) as? [String: Int])
    }

    @Test func formattingIsRnncFmt() throws {
        let session = Session()
        _ = try session.request("initialize")
        _ = try open(session, "model M {\n  input x: [1]\n    output   2*x\n}\n")
        let reply = try session.request("textDocument/formatting", ["textDocument": ["uri": Self.uri], "options": ["tabSize": 2, "insertSpaces": true]])
        let edits = try #require(reply["result"] as? [[String: Any]])
        #expect(edits.count == 1 && edits.first?["newText"] as? String == "model M {\n  input x: [1]\n  output 2 * x\n}\n")
    }

    @Test func brokenFramingEndsTheServerWithoutACrash() throws {
        let session = Session()
        session.toServer.fileHandleForWriting.write(Data("Content-Length: 99999999999\r\n\r\n".utf8))
        session.done.wait()
        #expect(session.status == 1)
    }
}
