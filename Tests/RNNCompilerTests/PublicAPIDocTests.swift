import Foundation
import Testing

/// Every public declaration of the library products (RNNCompiler, RNNRuntime, RNNExport) has
/// a doc comment, so DocC's reference is complete. Protocol witnesses whose documentation
/// DocC takes from the protocol (`init(from:)`, `encode(to:)`) are exempt.
@Suite struct PublicAPIDocTests {
    static let products = ["RNNCompiler", "RNNRuntime", "RNNExport"]
    static let inheritsDocs = ["init(from decoder: Decoder)", "func encode(to encoder: Encoder)"]

    @Test func everyPublicDeclarationIsDocumented() throws {
        var undocumented: [String] = []
        for product in Self.products {
            let folder = repoRoot + "/Sources/" + product
            let enumerator = try #require(FileManager.default.enumerator(atPath: folder))
            while let file = enumerator.nextObject() as? String {
                guard file.hasSuffix(".swift"), !file.hasSuffix(".pb.swift") else { continue }
                let lines = try String(contentsOfFile: folder + "/" + file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                for (i, line) in lines.enumerated() {
                    let code = line.trimmingCharacters(in: .whitespaces)
                    let declaration = code.replacingOccurrences(of: #"^(@[\w]+(\([^)]*\))?\s+)*"#, with: "", options: .regularExpression)
                    guard declaration.hasPrefix("public ") || declaration.hasPrefix("open ") else { continue }
                    guard !declaration.hasPrefix("public import"), !Self.inheritsDocs.contains(where: declaration.contains) else { continue }
                    var j = i - 1
                    while j >= 0, lines[j].trimmingCharacters(in: .whitespaces).hasPrefix("@") { j -= 1 }
                    if j < 0 || !lines[j].trimmingCharacters(in: .whitespaces).hasPrefix("///") {
                        undocumented.append("Sources/\(product)/\(file):\(i + 1): \(declaration.prefix(80))")
                    }
                }
            }
        }
        #expect(undocumented.isEmpty, "public declarations without a doc comment:\n\(undocumented.joined(separator: "\n"))")
    }
}
