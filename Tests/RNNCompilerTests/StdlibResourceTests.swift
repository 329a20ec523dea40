import Foundation
import RNNStdlib
import Testing
@testable import RNNCompiler

/// The standard library shipped as a SwiftPM resource: what an app that embeds RNNCompiler
/// gets without a copy of its own.
@Suite struct StdlibResourceTests {
    /// Every `.rnn` file below `folder`, by its path relative to it.
    static func rnnFiles(in folder: String) throws -> [String: String] {
        var files: [String: String] = [:]
        let enumerator = try #require(FileManager.default.enumerator(atPath: folder))
        while let path = enumerator.nextObject() as? String {
            guard path.hasSuffix(".rnn") else { continue }
            files[path] = try String(contentsOfFile: folder + "/" + path, encoding: .utf8)
        }
        return files
    }

    @Test func resourceHoldsTheCheckoutsStdlib() throws {
        let resource = try #require(StdlibResource.folder, "the RNNStdlib resource bundle is missing beside the test binary")
        let shipped = try Self.rnnFiles(in: resource.path)
        #expect(shipped.keys.contains("logic.rnn") && shipped.keys.contains("cells/gru.rnn"))
        #expect(shipped == (try Self.rnnFiles(in: stdlibPath)))
    }

    @Test func compilerCompilesWithTheResourceStdlib() throws {
        let resource = try #require(StdlibResource.folder)
        let compiler = Compiler(stdlibPath: resource.path)
        let source = SourceFile(path: "app.rnn", text: """
            use logic
            use cells.gru
            model M {
              input x: [1]
              output larger(gru(x, ones(3, 1), ones(3, 1), zeros(3), zeros(3)), 0.5)
            }
            """)
        let compiled = try compiler.compile(source)
        #expect(compiled != nil, "\(compiler.diagnostics.render())")
    }
}
