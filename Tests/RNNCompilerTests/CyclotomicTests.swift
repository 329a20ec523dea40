import BigInt
import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

/// Exact arithmetic in cyclotomic fields (exact mode's sines and cosines of rational
/// multiples of π), and exact mode deciding exact zeros through them.
@Suite struct CyclotomicTests {
    @Test func cyclotomicPolynomials() {
        #expect(CyclotomicField.cyclotomicPolynomial(5) == [1, 1, 1, 1, 1])
        #expect(CyclotomicField.cyclotomicPolynomial(12) == [1, 0, -1, 0, 1])
        #expect(CyclotomicField.cyclotomicPolynomial(20) == [1, 0, -1, 0, 1, 0, -1, 0, 1])
        for n in 1...60 { #expect(CyclotomicField.cyclotomicPolynomial(n)?.count == CyclotomicField.totient(n)! + 1, "Φ_\(n)") }
    }

    /// cos and sin of k π / q for every k and every q the field holds: their enclosures hold
    /// Foundation's values, and cos² + sin² is exactly 1.
    @Test func sinesAndCosinesAreExact() throws {
        for order in [12, 20, 24, 40] {
            let field = try #require(CyclotomicField(order: order))
            for q in 1...order where order % (2 * q) == 0 {
                for k in -2 * q...2 * q {
                    let turns = Rational(BigInt(k), BigInt(q))
                    let c = try #require(field.trigonometric(turns, cosine: true)), s = try #require(field.trigonometric(turns, cosine: false))
                    let angle = Double.pi * Double(k) / Double(q)
                    for (element, want) in [(c, cos(angle)), (s, sin(angle))] {
                        let v = field.enclosure(element, bits: 80)
                        #expect(abs(v.midpoint.doubleValue - want) <= 1e-15 && v.width.doubleValue < 1e-20, "N=\(order) \(k)π/\(q): \(v) vs \(want)")
                    }
                    let one = field.add(field.multiply(c, c), field.multiply(s, s))
                    #expect(one.rationalValue == .one, "N=\(order) \(k)π/\(q)")
                }
            }
        }
    }

    @Test func fieldIdentitiesAndSigns() throws {
        let field = try #require(CyclotomicField(order: 20))
        // 2 cos(2π/5) is the golden ratio's inverse: c² + c - 1 = 0 exactly.
        let c = field.scale(try #require(field.trigonometric(Rational(2, 5), cosine: true)), Rational(2) as Rational)
        #expect(field.add(field.add(field.multiply(c, c), c), field.rational(Rational(-1))).isZero)
        #expect(try #require(field.trigonometric(Rational(1), cosine: false)).isZero)  // sin(π)
        // A tiny nonzero difference (about 5e-11) gets its sign from rising precision.
        let tiny = field.add(c, field.rational(Rational(-6180339887, 10_000_000_000)))
        #expect(field.sign(tiny, from: 16, maxBits: 1 << 12) == 1)
        #expect(field.sign(field.negate(tiny), from: 16, maxBits: 1 << 12) == -1)
    }

    private func exactRun(_ source: String, _ tokens: [[Double]]) throws -> ExactInterpreter.Result {
        var options = ElaborationOptions()
        options.recordsExactConstants = true
        let r = compile(source, options: options)
        let ir = try #require(r.ir, "\(r.diagnostics)")
        return try ExactInterpreter(program: ir, constants: ir.exactConstants ?? ExactConstants())
            .run([tokens.map { $0.map { Rational(shortestDecimalOf: $0)! } }])
    }

    /// A point rotating by 2π/6 returns to where it started; its cosines are rational and its
    /// sines irrational; a step of its distance from the start decides exact zeros at the
    /// working precision.
    @Test func rotationsStayExact() throws {
        let source = """
            use logic
            model M {
              input x: [1]
              state p: [2] = [1, 0]
              p <- rotation(2 * pi / 6) @ p + 0 * x
              output p
              output step(1 - p[0])
            }
            """
        let r = try exactRun(source, Array(repeating: [0], count: 13))
        #expect(r.bits == ExactInterpreter.startBits)
        let cosines = r.outputs[0].map { $0[0].description }
        #expect(cosines == (1...13).map { ["1/2", "-1/2", "-1", "-1/2", "1/2", "1"][($0 - 1) % 6] }, "\(cosines)")
        // sin(2πt/6): 0 exactly at multiples of 3, else ±√3/2, whose nearest Double is 0.8660254037844386.
        let sines = r.outputs[0].map { $0[1] }
        let want: [String] = ["0.8660254037844386", "0.8660254037844386", "0", "-0.8660254037844386", "-0.8660254037844386", "0"]
        for (t, v) in sines.enumerated() {
            let got = v.isPoint ? v.description : v.decidedDouble.map { "\($0)" } ?? "undecided \(v)"
            #expect(got == want[t % 6], "t=\(t + 1)")
        }
        #expect(r.outputs[0].map { $0[2].description } == (1...13).map { $0 % 6 == 0 ? "0" : "1" })
    }

    /// LSRL's key -> value map, gated by two modulo counters: every output is exact, and
    /// agrees with the Float64 interpreter.
    @Test func theKeyValueMapIsExact() throws {
        let path = repoRoot + "/examples/lsrl/key_value.rnn"
        let source = try String(contentsOfFile: path, encoding: .utf8)
        let data = try SequenceData.read(path: repoRoot + "/examples/lsrl/key_value.json", format: .json)
        let tokens = try #require(data.sequences.first)
        var options = ElaborationOptions()
        options.recordsExactConstants = true
        let compiler = Compiler(stdlibPath: stdlibPath, options: options)
        let ir = try #require(compiler.compileToIR(SourceFile(path: path, text: source)), "\(compiler.diagnostics.render())")
        let r = try ExactInterpreter(program: ir, constants: ir.exactConstants ?? ExactConstants())
            .run([tokens.map { $0.map { Rational(shortestDecimalOf: $0)! } }])
        let want = interpret(ir, tokens)
        #expect(r.bits == ExactInterpreter.startBits)
        for (t, row) in r.outputs[0].enumerated() {
            #expect(row[0].isPoint && row[0].lo.isInteger && row[0].lo.doubleValue == want[t][0].rounded(), "token \(t): \(row[0]) vs \(want[t][0])")
        }
    }
}
