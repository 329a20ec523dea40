import Foundation
import Testing
@testable import RNNCompiler

/// The TextMate grammar of editors/vscode covers the language as the lexer knows it: every
/// keyword, builtin function and operator is matched, by the rule of its kind, as a whole.
@Suite struct EditorGrammarTests {
    static let folder = repoRoot + "/editors/vscode"

    /// The `match` patterns of one repository rule (its own and its sub-patterns').
    static func patterns(_ rule: String) throws -> [NSRegularExpression] {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/syntaxes/rnn.tmLanguage.json"))
        let grammar = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let repository = try #require(grammar["repository"] as? [String: [String: Any]])
        let entry = try #require(repository[rule], "the grammar has no rule '\(rule)'")
        let matches = ([entry] + (entry["patterns"] as? [[String: Any]] ?? [])).compactMap { $0["match"] as? String }
        return try matches.map { try NSRegularExpression(pattern: $0) }
    }

    /// Whether a pattern of `rule` matches `text` from its start over `length` characters.
    static func covers(_ rule: String, _ text: String, length: Int? = nil) throws -> Bool {
        let want = length ?? text.utf16.count
        return try patterns(rule).contains { regex in
            regex.firstMatch(in: text, range: NSRange(location: 0, length: text.utf16.count)).map { $0.range == NSRange(location: 0, length: want) } ?? false
        }
    }

    @Test func everyKeywordIsAKeyword() throws {
        for keyword in Keyword.allCases { #expect(try Self.covers("keyword", keyword.rawValue), "\(keyword.rawValue)") }
    }

    @Test func everyBuiltinIsABuiltin() throws {
        for name in Builtins.names.sorted() { #expect(try Self.covers("builtin", name + "(", length: name.utf16.count), "\(name)") }
        #expect(try !Self.covers("builtin", "relux(", length: 5))
    }

    @Test func everyOperatorAndPunctuationMarkIsMatched() throws {
        for mark in Punct.allCases {
            #expect(try Self.covers("operator", mark.rawValue) || Self.covers("punctuation", mark.rawValue), "\(mark.rawValue)")
        }
    }

    @Test func commentsNumbersAndConstants() throws {
        #expect(try Self.covers("comment", "# a comment"))
        for number in ["3", "0.25", "1e10", "2.5E-3"] { #expect(try Self.covers("number", number), "\(number)") }
        for constant in ["pi", "e"] { #expect(try Self.covers("constant", constant)) }
    }

    @Test func extensionManifestNamesTheGrammarAndTheServer() throws {
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.folder + "/package.json"))) as? [String: Any])
        let contributes = try #require(manifest["contributes"] as? [String: Any])
        let grammar = try #require((contributes["grammars"] as? [[String: Any]])?.first)
        #expect(FileManager.default.fileExists(atPath: Self.folder + "/" + (grammar["path"] as? String ?? "")))
        let configuration = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.folder + "/language-configuration.json"))) as? [String: Any]
        #expect((configuration?["comments"] as? [String: String])?["lineComment"] == "#")
        let extensionSource = try String(contentsOfFile: Self.folder + "/extension.js", encoding: .utf8)
        #expect(extensionSource.contains(#"args: ["lsp"]"#))
    }
}
