import Foundation
import Testing

/// docs/swiftpm.md shows the example package as it is: its manifest block is
/// examples/swiftpm-app/Package.swift (without the file's leading comments), its Swift block
/// is part of the example's main.swift, and its diagnostic is what rnnc prints for that
/// source in the form the plugin uses. CI builds and runs the example itself (.ci/run).
@Suite struct SwiftPMDocTests {
    static let guide = (try? String(contentsOfFile: repoRoot + "/docs/swiftpm.md", encoding: .utf8)) ?? ""

    static func blocks(_ language: String) -> [String] {
        guide.components(separatedBy: "```\(language)\n").dropFirst().map { $0.components(separatedBy: "```").first! }
    }

    @Test func manifestIsTheExamples() throws {
        let manifest = try String(contentsOfFile: repoRoot + "/examples/swiftpm-app/Package.swift", encoding: .utf8)
        let code = manifest.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("// ") || $0.hasPrefix("// swift-tools-version") }.joined(separator: "\n")
        #expect(Self.blocks("swift").first == code)
    }

    @Test func swiftBlockIsInTheExample() throws {
        let main = try String(contentsOfFile: repoRoot + "/examples/swiftpm-app/Sources/App/main.swift", encoding: .utf8)
        let block = try #require(Self.blocks("swift").dropFirst().first)
        #expect(main.contains(block), "docs/swiftpm.md's Swift block is not in the example's main.swift")
    }

    @Test func diagnosticLineIsRnncs() throws {
        let shown = try #require(Self.guide.split(separator: "\n").first { $0.hasPrefix("Sources/App/broken.rnn:") })
        let folder = tempPath("app")
        try FileManager.default.createDirectory(atPath: folder + "/Sources/App", withIntermediateDirectories: true)
        try "model Broken {\n  input x: [2]\n  output x + [1, 2, 3]\n}\n".write(toFile: folder + "/Sources/App/broken.rnn", atomically: true, encoding: .utf8)
        let r = rnnc(["check", folder + "/Sources/App/broken.rnn", "--diagnostics-format", "gnu"])
        #expect(r.code == 65 && r.stderr == folder + "/" + shown + "\n", "\(r.stderr)")
    }
}
