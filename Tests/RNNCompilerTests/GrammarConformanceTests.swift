import Foundation
import RNNGrammar
import RNNRuntime
import Testing
@testable import RNNCompiler

/// grammar/rnn.ebnf, read by the RNNGrammar tools.
let grammarLexer: GrammarLexer = {
    let path = repoRoot + "/grammar/rnn.ebnf"
    do {
        return try GrammarLexer(grammar: Grammar(text: String(contentsOfFile: path, encoding: .utf8), path: path))
    } catch {
        fatalError("\(error)")
    }
}()
let grammarRecognizer = Recognizer(lexer: grammarLexer)

/// True when the hand-written lexer and parser report no error for `bytes`.
func handParserAccepts(_ bytes: [UInt8]) -> Bool {
    let d = DiagnosticEngine()
    _ = Parser.parse(SourceFile(path: "g.rnn", bytes: bytes), diagnostics: d)
    return !d.hasErrors
}

/// The hand-written parser and grammar/rnn.ebnf agree: generated sentences parse, and the
/// Earley recognizer built from the grammar file accepts exactly what the parser accepts.
@Suite struct GrammarConformanceTests {
    static let baseSeed = UInt64(ProcessInfo.processInfo.environment["RNNC_TEST_SEED"] ?? "") ?? 20261121

    @Test func tokensAreTheHandLexersTokens() {
        #expect(grammarLexer.keywords == Set(Keyword.allCases.map(\.rawValue)))
        #expect(Set(grammarLexer.literals) == grammarLexer.keywords.union(Punct.allCases.map(\.rawValue)))
        #expect(grammarLexer.tokenRules == ["IDENT", "NUMBER", "STRING"])
    }

    /// Corners of the lexical rules, decided the same way by both sides.
    @Test func lexicalCorners() {
        let cases: [(String, Bool)] = [
            ("x = 0..<3", false), ("x = [for i in 0..<3: i]", true), ("x = 1.5 + .5 + 1_000 + 2e-3 + 3E+2", true),
            ("x = 1.", false), ("x = 12abc", false), ("x = 1e", false), ("x = 1e = 2", false), ("x = 1e999", false),
            ("x = 1._5", false), ("x = a.b", false), ("x = formula + inputs", true), ("x = \"s\"", true),
            ("x = a < -1", true), ("x = a<-1", false), ("x = a == b == c", false), ("x = !a != b", true), ("x = a & b", false),
            ("x = if a { b } else { c }", true), ("x = if a { b }", false), ("x = 1 + if a { b } else { c }", false),
            ("if a { x <- 1 } else if b { } else { y = 2 }", true), ("x = a ||| b", false),
            ("x = 1 # comment\n", true), ("x = 1 \u{0C}", false), ("x = é", false), ("x <- -+-x ^ -2 ^ 3", true),
        ]
        for (body, accepted) in cases {
            let text = "model M {\n  \(body)\n}\n"
            #expect(handParserAccepts(Array(text.utf8)) == accepted, "parser: \(body)")
            #expect(grammarRecognizer.accepts(Array(text.utf8)) == accepted, "grammar: \(body)")
        }
    }

    @Test func everyProjectFileIsASentence() throws {
        for dir in ["examples", "examples/lm", "examples/lsrl", "stdlib", "stdlib/cells", "specs/lib", "bench/workloads"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: "\(repoRoot)/\(dir)") where name.hasSuffix(".rnn") {
                let bytes = Array(try String(contentsOfFile: "\(repoRoot)/\(dir)/\(name)", encoding: .utf8).utf8)
                #expect(grammarRecognizer.accepts(bytes), "\(dir)/\(name)")
            }
        }
    }

    /// Generated sentences parse, format round-trips, and together they cover every unit.
    @Test func generatedSentencesParse() {
        var generator = SentenceGenerator(lexer: grammarLexer)
        for k in 0..<400 {
            let seed = Self.baseSeed &+ UInt64(k)
            var rng = SplitMix64(seed: seed)
            let text = generator.sentence(using: &rng)
            let replay = "seed \(seed) (replay: RNNC_TEST_SEED=\(seed))"
            let parses = handParserAccepts(Array(text.utf8)), recognized = grammarRecognizer.accepts(Array(text.utf8))
            #expect(parses, "\(replay): generated sentence does not parse:\n\(text)")
            #expect(recognized, "\(replay): the recognizer rejects a generated sentence:\n\(text)")
            checkFormatRoundTrip(text, replay)
        }
        let missed = grammarLexer.allCoverageUnits.subtracting(generator.covered)
        #expect(missed.isEmpty, "the generator never produced: \(missed.sorted())")
    }

    /// Mutated sentences: parser and grammar agree on accept/reject, the whole compiler never
    /// crashes, and every error it reports is located.
    @Test func mutatedSentencesAgree() {
        var generator = SentenceGenerator(lexer: grammarLexer, maxDepth: 10)
        var accepted = 0
        for k in 0..<1500 {
            let seed = Self.baseSeed &+ 1_000_000 &+ UInt64(k)
            var rng = SplitMix64(seed: seed)
            let bytes = Self.mutate(generator.tokens(using: &rng), rng: &rng)
            let text = String(decoding: bytes, as: UTF8.self)
            let replay = "seed \(seed) (replay: RNNC_TEST_SEED=\(seed &- 1_000_000))"
            let hand = handParserAccepts(bytes)
            let grammar = grammarRecognizer.accepts(bytes)
            #expect(hand == grammar, "\(replay): parser \(hand ? "accepts" : "rejects"), grammar does not:\n\(text)")
            if hand { accepted += 1 }
            let compiler = Compiler(stdlibPath: stdlibPath)
            if compiler.compileToIR(SourceFile(path: "mutant.rnn", bytes: bytes)) == nil {
                #expect(compiler.diagnostics.hasErrors, "\(replay): rejected without an error")
                for d in compiler.diagnostics.diagnostics where d.range == nil && d.code != .modelSelection {
                    Issue.record("\(replay): unlocated diagnostic \(d)\n\(text)")
                }
            }
        }
        // Mutations keep some sentences valid; both outcomes must be exercised.
        #expect(accepted > 50 && accepted < 1400, "accepted \(accepted) of 1500")
    }

    /// Token-level edits (delete, duplicate, swap, replace, insert) or byte-level edits.
    static func mutate(_ tokens: [GrammarToken], rng: inout SplitMix64) -> [UInt8] {
        var tokens = tokens
        let vocabulary = grammarLexer.literals.map { GrammarToken(symbol: $0, text: $0) }
            + ["x", "0", "1.5", "\"p\"", "1e", "0..", "é"].map { GrammarToken(symbol: "?", text: $0) }
        for _ in 0..<Int.random(in: 1...2, using: &rng) where !tokens.isEmpty {
            let at = Int.random(in: 0..<tokens.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: tokens.remove(at: at)
            case 1: tokens.insert(tokens[at], at: at)
            case 2: if at + 1 < tokens.count { tokens.swapAt(at, at + 1) }
            case 3: tokens[at] = vocabulary.randomElement(using: &rng)!
            default: tokens.insert(vocabulary.randomElement(using: &rng)!, at: at)
            }
        }
        var bytes = Array(SentenceGenerator.render(tokens, using: &rng).utf8)
        if Int.random(in: 0..<4, using: &rng) == 0, !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            if Bool.random(using: &rng) { bytes.remove(at: at) } else { bytes.insert(UInt8.random(in: 0...127, using: &rng), at: at) }
        }
        return bytes
    }
}
