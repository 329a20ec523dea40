import Foundation
import Testing
@testable import RNNCompiler

/// Every function of stdlib/logic.rnn on a grid of inputs, against LSRL's formula for it.
@Suite struct StdlibLogicTests {
    static let scale = 1000.0
    static let large = 1e10

    static func relu(_ x: Double) -> Double { max(0, x) }
    static func step(_ x: Double, _ s: Double = scale) -> Double { relu(s * x) - s * relu(x - 1 / s) }
    static func ifelse(_ c: Double, _ t: Double, _ f: Double) -> Double {
        relu(c * -large + f) + relu((1 - c) * -large + t) - relu(c * -large - f) - relu((1 - c) * -large - t)
    }

    static let grid: [Double] = [-2, -1, -0.5, -0.001, 0, 0.0004, 0.001, 0.3, 0.5, 1, 1.5, 2, 7]

    /// Runs `expr` (over runtime inputs a, b) on every pair of the grid.
    func check(_ expr: String, sourceLocation: SourceLocation = #_sourceLocation, _ formula: (Double, Double) -> Double) throws {
        let ir = try #require(compileOK("use logic\nmodel M {\n  input ab: [2]\n  a = ab[0]\n  b = ab[1]\n  output \(expr)\n}", sourceLocation: sourceLocation))
        var interpreter = Interpreter(program: ir)
        for a in Self.grid {
            for b in Self.grid {
                let got = interpreter.step([a, b])[0]
                let want = formula(a, b)
                #expect(abs(got - want) <= 1e-9 * max(1, abs(want)), "\(expr) at a=\(a), b=\(b): \(got) vs \(want)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func constantStepAndBump() throws {
        try check("constant(3) + 0 * a") { _, _ in 3 }
        try check("step(a)") { a, _ in Self.step(a) }
        try check("step(a, 10)") { a, _ in Self.step(a, 10) }
        try check("bump(a, -1, 1)") { a, _ in Self.step(a + 1) - Self.step(a - 1) }
    }

    @Test func comparisons() throws {
        try check("eq(a, b)") { a, b in Self.step(-1 * (Self.step(a - b) + Self.step(b - a) - 1)) }
        try check("neq(a, b)") { a, b in Self.step(Self.step(a - b) + Self.step(b - a)) }
        try check("larger(a, b)") { a, b in Self.step(a - b) }
        try check("smaller(a, b)") { a, b in Self.step(b - a) }
    }

    @Test func booleanLogic() throws {
        try check("not(a)") { a, _ in 1 - a }
        try check("and(a, b)") { a, b in Self.relu(Self.step(a) + Self.step(b) - 1) }
        try check("or(a, b)") { a, b in Self.step(a + b) }
        for (a, b, and, or) in [(0.0, 0.0, 0.0, 0.0), (0, 1, 0, 1), (1, 0, 0, 1), (1, 1, 1, 1)] {
            #expect(evalModel("  input ab: [2]\n  output [and(ab[0], ab[1]), or(ab[0], ab[1])]", inputs: [[a, b]]) == [[and, or]])
        }
    }

    @Test func conditionals() throws {
        try check("ifelse(step(a), b, 5)") { a, b in Self.ifelse(Self.step(a), b, 5) }
        try check("ifeq(a, 1, b, -b)") { a, b in Self.ifelse(Self.step(-1 * (Self.step(a - 1) + Self.step(1 - a) - 1)), b, -b) }
        try check("ifelse_step(a, b, 3)") { a, b in
            let f = 3.0, L = Self.large
            return Self.relu(-L + L * Self.step(0.5 - a) + f) - Self.relu(-L + L * Self.step(0.5 - a) - f)
                + Self.relu(-L + L * Self.step(a - 0.5) + b) - Self.relu(-L + L * Self.step(a - 0.5) - b)
        }
        try check("ifelse_mul(a, b, 4)") { a, b in a * b + (1 - a) * 4 }
        // On exact conditions, every form selects.
        for c in [0.0, 1.0] {
            let out = evalModel("  input c: [1]\n  output [ifelse(c, 7, -3), ifelse_step(c, 7, -3), ifelse_mul(c, 7, -3), ifeq(c, 1, 7, -3)]", inputs: [[c]])
            #expect(out == [[c == 1 ? 7 : -3, c == 1 ? 7 : -3, c == 1 ? 7 : -3, c == 1 ? 7 : -3]])
        }
    }

    @Test(arguments: [2, 3, 5, 7, 12, 30])
    func moduloCounter(divisor: Int) throws {
        let ir = try #require(compileOK("use logic\nmodel M(d = 2) {\n  input x: [1]\n  output modulo_counter(d)\n}", options: ElaborationOptions(settings: [("d", String(divisor))])))
        let out = interpret(ir, Array(repeating: [0], count: 3 * divisor + 1))
        #expect(close(out, (0..<(3 * divisor + 1)).map { [Double($0 % divisor)] }, tolerance: 1e-6))
    }
}
