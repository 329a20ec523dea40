import Testing
@testable import RNNCompiler

/// Matrix states: the shape of each one's transition, as `rnnc check` shows it.
@Suite struct MatrixStateTests {
    static func transition(_ update: String, shape: String = "[3, 4]", extra: String = "") throws -> MatrixTransition? {
        let source = """
            model M {
              input x: [7]
              k = x[0:3]
              v = x[3:7]
              beta = sigmoid(x[0:1])
              state S: \(shape) = 0
              \(extra)
              S <- \(update)
              output flatten(S)
            }
            """
        let ir = try #require(compile(source).ir, "\(compile(source).diagnostics)")
        let group = try #require(RecurrenceAnalysis.analyze(ir).first)
        return MatrixTransition.classify(ir, state: 0, kind: group.kind)
    }

    @Test func gatesAreReadFromTheTransition() throws {
        #expect(try Self.transition("0.9 * S + outer(k, v)") == .gate(.scalar))
        #expect(try Self.transition("sigmoid(x[0:1]) * S + outer(k, v)") == .gate(.scalar))
        #expect(try Self.transition("transpose(sigmoid(k)) * S + outer(k, v)") == .gate(.rows))
        #expect(try Self.transition("sigmoid(v) * S + outer(k, v)") == .gate(.columns))
        #expect(try Self.transition("sigmoid(outer(k, v)) * S + outer(k, v)") == .gate(.elements))
    }

    @Test func householderTransitionsAndTheirRank() throws {
        let unit = "u = k / sqrt(sum(k * k))"
        #expect(try Self.transition("S + outer(u, beta * (v - u @ S))", extra: unit) == .householder(side: .left, rank: 1))
        #expect(try Self.transition("0.5 * (S - outer(u, beta * (u @ S)))", extra: unit) == .householder(side: .left, rank: 1))
        // Two Householder steps (DeltaProduct): a rank-2 change.
        let two = "u = x[0:5] / sqrt(sum(x[0:5] * x[0:5]))\n  w = sigmoid(x[2:7])\n  T = S - outer(u, beta * (u @ S))"
        #expect(try Self.transition("T - outer(w, 0.5 * (w @ T))", shape: "[5, 2]", extra: two) == .householder(side: .left, rank: 2))
        // The [dv, dk] layout: S (I - beta k k^T).
        #expect(try Self.transition("S - outer(beta * (S @ u), u)", shape: "[4, 3]", extra: unit) == .householder(side: .right, rank: 1))
        // A change of rank 2 of a 3 x 3 identity is not low rank.
        #expect(try Self.transition("S + outer(k, k @ S) + outer(x[1:4], x[2:5] @ S)", extra: "") == .oneSided(.left))
        // A transpose moves elements across rows and columns.
        #expect(try Self.transition("sigmoid(x[0:1]) * transpose(S)", shape: "[3, 3]") == .general)
    }
}

extension MatrixStateTests {
    /// The stdlib's linear-attention cells, as the fixture calls them (two heads of each).
    @Test func stdlibCellsHaveTheirPapersTransitions() throws {
        let (ir, _, _) = try CellFixtureTests.load("linear_attention_cells")
        var found: [String: MatrixTransition] = [:]
        for group in RecurrenceAnalysis.analyze(ir) {
            let state = group.states[0]
            let cell = String(ir.states[state].name.prefix { $0 != "#" })
            found[cell] = MatrixTransition.classify(ir, state: state, kind: group.kind)
        }
        #expect(found == ["retention": .gate(.scalar), "gla": .gate(.rows),
                          "delta_rule": .householder(side: .left, rank: 1), "gated_delta_rule": .householder(side: .left, rank: 1)])
    }
}

extension MatrixStateTests {
    /// The linear-attention fixture's reference outputs are what flash-linear-attention's own
    /// recurrent functions compute (in float64), besides the papers' loops that wrote them.
    @Test func fixtureAgreesWithFlashLinearAttention() throws {
        let modules = ["torch", "safetensors", "fla", "einops"]
        guard pythonHas(modules) else {
            #expect(!pythonChecksRequired, "python3 with \(modules) is required (RNNC_REQUIRE_PYTHON_CHECKS=1)")
            return
        }
        let run = try python(["\(repoRoot)/Tests/Fixtures/cells/make_matrix_state_fixtures.py", "--check"])
        #expect(run.status == 0, "\(run.output)")
    }
}
