import BigInt
import Foundation
@testable import RNNCompiler
import RNNRuntime
import Testing

/// Exact mode: rationals that round like IEEE arithmetic, certified functions that hold the
/// true values, programs whose exact results are known, and random programs (every op of
/// the op table) agreeing with the Float64 interpreter.
@Suite struct ExactModeTests {
    private func rational(_ text: String) -> Rational { Rational(decimal: text)! }

    @Test func decimalsAndDoublesConvertExactly() {
        #expect(rational("0.1") == Rational(1, 10))
        #expect(rational("-12.5e-3") == Rational(-1, 80))
        #expect(rational("3") == Rational(3))
        #expect(Rational(decimal: "1.2.3") == nil && Rational(decimal: "e5") == nil && Rational(decimal: "1x") == nil)
        var rng = SplitMix64(seed: 11)
        for k in 0..<3000 {
            // Normal, subnormal, huge and tiny numbers: the round trip and the nearest Double.
            let scale = [1.0, 0x1p-1030, 1e300, 1e-5][k % 4]
            let x = rng.nextGaussian() * scale
            #expect(Rational(exactly: x)!.doubleValue == x, "\(x)")
            // Within far less than half an ulp of x, on either side: x again.
            let nudge = Rational(1, BigInt(1) << 80)
            #expect((Rational(exactly: x)! * (.one + nudge)).doubleValue == x, "\(x) (1 + 2^-80)")
            #expect((Rational(exactly: x)! * (.one - nudge)).doubleValue == x, "\(x) (1 - 2^-80)")
            let text = String(format: "%.25e", rng.nextGaussian() * scale)
            #expect(rational(text).doubleValue == Double(text)!, "\(text)")
        }
        // Fractions of long odd numbers against their 45-digit decimal expansions, which
        // Double(String) rounds correctly (a tie is out of reach at that many digits).
        for _ in 0..<500 {
            var n = BigInt(rng.next()), d = BigInt(rng.next() | 1)
            for _ in 0..<Int(rng.next() % 3) { n = n << 64 + BigInt(rng.next()) }
            for _ in 0..<Int(rng.next() % 3) { d = d << 64 + BigInt(rng.next()) }
            let shift = Int(n.magnitude.bitWidth) - Int(d.magnitude.bitWidth)
            let digits = 45 - Int(Double(shift) * 0.30103)
            let scaled = digits >= 0 ? n * BigInt(10).power(digits) / d : n / (d * BigInt(10).power(-digits))
            let text = "\(scaled)e\(-digits)"
            #expect(Rational(n, d).doubleValue == Double(text)!, "\(n)/\(d)")
        }
        #expect(Rational(exactly: .greatestFiniteMagnitude)!.doubleValue == .greatestFiniteMagnitude)
        #expect((Rational(exactly: .greatestFiniteMagnitude)! * Rational(2)).doubleValue == .infinity)
    }

    @Test func constantsHoldTheirKnownDigits() throws {
        let math = CertifiedMath(bits: 200)
        let known: [(RationalInterval, String)] = [
            (math.pi, "3.14159265358979323846264338327950288419716939937510582097494459"),
            (try math.exp(RationalInterval(1)), "2.71828182845904523536028747135266249775724709369995957496696762"),
            (try math.log(RationalInterval(2)), "0.69314718055994530941723212145817656807550013436025525412068000"),
            (try math.sqrt(RationalInterval(2)), "1.41421356237309504880168872420969807856967187537694807317667973"),
            (try math.erf(RationalInterval(1)), "0.84270079294971486934122063508260925929606699796630290845993738"),
            (try math.tanh(RationalInterval(1)), "0.76159415595576488811945828260479359041276859725793655159681050"),
            (math.sinOrCos(RationalInterval(1), cosine: false), "0.84147098480789650665250232163029899962256306079837106567275170"),
            (math.sinOrCos(RationalInterval(Rational(-100)), cosine: true), "0.8623188722876839341019385139508425355100840085355108292801621127"),
        ]
        for (value, digits) in known {
            let truth = rational(digits), tolerance = Rational(1, BigInt(10).power(60))
            #expect(value.lo <= truth + tolerance && truth - tolerance <= value.hi, "\(value) misses \(digits)")
            #expect(value.width < CertifiedMath.power2(-190), "\(value) is wider than 2^-190")
        }
        #expect(try math.sqrt(RationalInterval(Rational(4, 9))) == RationalInterval(Rational(2, 3)))
        #expect(try math.exp(RationalInterval(0)) == RationalInterval(1))
    }

    @Test func functionsEncloseTheirValues() throws {
        let math = CertifiedMath(bits: 96)
        var rng = SplitMix64(seed: 5)
        for _ in 0..<150 {
            let x = rng.nextGaussian() * 4, q = Rational(exactly: x)!, point = RationalInterval(q)
            let cases: [(RationalInterval, Double)] = [
                (try math.exp(point), Foundation.exp(x)), (try math.tanh(point), Foundation.tanh(x)), (try math.erf(point), Foundation.erf(x)),
                (math.sinOrCos(point, cosine: false), Foundation.sin(x)), (math.sinOrCos(point, cosine: true), Foundation.cos(x)),
                (try math.log(RationalInterval(q.magnitude)), Foundation.log(abs(x))), (try math.sqrt(RationalInterval(q.magnitude)), abs(x).squareRoot()),
            ]
            for (enclosure, libm) in cases {
                // libm is within a few ulps; the enclosure is far narrower than one.
                #expect(abs(enclosure.lo.doubleValue - libm) <= 4 * libm.ulp, "\(enclosure) vs \(libm) at \(x)")
                #expect(enclosure.width <= Rational(exactly: libm.ulp)! / Rational(1 << 20))
            }
            let s = math.sinOrCos(point, cosine: false), c = math.sinOrCos(point, cosine: true)
            #expect((s * s + c * c).contains(.one))
            #expect(try math.exp(math.log(RationalInterval(q.magnitude))).contains(q.magnitude))
        }
        #expect(throws: ExactFailure.self) { try math.log(RationalInterval(-1)) }
        #expect(throws: ExactFailure.self) { try math.exp(RationalInterval(100_000)) }
    }

    private func exactRun(_ source: String, _ tokens: [[Double]], maxBits: Int = 2048) throws -> ExactInterpreter.Result {
        var options = ElaborationOptions()
        options.recordsExactConstants = true
        let r = compile(source, options: options)
        let ir = try #require(r.ir, "\(r.diagnostics)")
        let exact = ExactInterpreter(program: ir, constants: ir.exactConstants ?? ExactConstants(), maxBits: maxBits)
        return try exact.run([tokens.map { $0.map { Rational(shortestDecimalOf: $0)! } }])
    }

    @Test func rationalProgramsGiveExactFractions() throws {
        let r = try exactRun("model M {\n  input x: [1]\n  state s: [1] = 0\n  s <- s / 3 + x\n  output s\n  output 0.1 + 0.2 + 0 * x\n}\n", [[1], [1], [0.5]])
        let got = r.outputs[0].map { $0.map(\.description) }
        #expect(got == [["1", "3/10"], ["4/3", "3/10"], ["17/18", "3/10"]])
        #expect(r.bits == ExactInterpreter.startBits)
    }

    @Test func irrationalConstantsAreReadAsTheirExpressions() throws {
        // cos(pi / 3) is 1/2 exactly; its Double is 0.5000000000000001, which Float64 carries.
        let source = "model M {\n  input x: [1]\n  output relu(cos(pi / 3) - x)\n  output x * sqrt(2) * sqrt(2)\n}\n"
        let r = try exactRun(source, [[0.5], [2]])
        let first = r.outputs[0][0]
        #expect(first[0].decidedDouble == 0 && first[1].decidedDouble == 1)
        #expect(r.outputs[0][1][0].decidedDouble == 0 && r.outputs[0][1][1].decidedDouble == 4)
        #expect(interpret(compileOK(source)!, [[0.5]])[0][0] > 0)
    }

    /// A Double made two ways is read as neither; one that rounds to an integer is that
    /// integer (integers are everywhere as exact values).
    @Test func ambiguousAndIntegerDoubles() throws {
        #expect {
            _ = try exactRun("model M {\n  input x: [1]\n  output x * (1 / 3) + x * 0.3333333333333333\n}\n", [[1]])
        } throws: { error in (error as? ExactInterpreter.Failure)?.message.contains("two different expressions") == true }
        let r = try exactRun("model M {\n  input x: [1]\n  output x * 1 + x * cos(0.000000001)\n}\n", [[1]])
        #expect(r.outputs[0][0][0].description == "2")
    }

    @Test func theModuloCounterCountsExactly() throws {
        let source = "use logic\nmodel M {\n  input x: [1]\n  _x = x\n  output modulo_counter(5)\n}\n"
        let r = try exactRun(source, Array(repeating: [1], count: 12))
        // Its cosines of multiples of 2π/5 are exact in Q(ζ_20): the counts are exact integers.
        #expect(r.outputs[0].map { $0[0].description } == (0..<12).map { String($0 % 5) })
        #expect(r.bits == ExactInterpreter.startBits)
    }

    @Test func failuresNameTheirPlace() {
        #expect {
            _ = try exactRun("model M {\n  input x: [1]\n  output log(x)\n}\n", [[1], [-2]])
        } throws: { error in
            guard let failure = error as? ExactInterpreter.Failure else { return false }
            return failure.message.contains("log of -2") && failure.range?.line == 3
        }
        #expect {
            _ = try exactRun("model M {\n  input x: [1]\n  output 1 / (x - x)\n}\n", [[1]])
        } throws: { error in (error as? ExactInterpreter.Failure)?.message.contains("division by zero") == true }
    }

    /// Squaring doubles a value's digits every token: exact values past 65,536 bits become
    /// enclosures, tiny ends flush to 2^-65536, and a value past 2^65536 is a failure, so
    /// memory stays bounded however long the sequence.
    @Test func growthIsBounded() throws {
        let shrinking = try exactRun("model M {\n  input x: [1]\n  state s: [1] = 1 / 3\n  s <- s * s + 0 * x\n  output s\n}\n", Array(repeating: [0], count: 40))
        #expect(shrinking.outputs[0][3][0].description == "1/43046721")
        #expect(shrinking.outputs[0].last![0].decidedDouble == 0)
        #expect {
            _ = try exactRun("model M {\n  input x: [1]\n  state s: [1] = 3\n  s <- s * s + x\n  output s\n}\n", Array(repeating: [0], count: 40))
        } throws: { error in (error as? ExactInterpreter.Failure)?.message.contains("beyond 2^65536") == true }
    }

    /// Random programs of every op: exact mode agrees with the Float64 interpreter where that
    /// is finite (to 1e-6: Float64's own rounding is what differs), and fails cleanly where not.
    @Test func randomProgramsAgreeWithTheInterpreter() throws {
        let base = UInt64(ProcessInfo.processInfo.environment["RNNC_TEST_SEED"] ?? "") ?? 20261203
        var compared = 0, refused = 0
        for k in 0..<60 {
            let seed = base &+ UInt64(k)
            var gen = RandomProgramGenerator(seed: seed)
            gen.maxDim = 4
            let (source, _, _) = gen.model()
            let tokens = (0..<gen.int(1...4)).map { _ in gen.token().map { Double(Float($0)) } }
            let want = interpret(try #require(compileOK(source)), tokens)
            let result: ExactInterpreter.Result
            do { result = try exactRun(source, tokens, maxBits: 1024) } catch {
                refused += 1
                #expect(want.joined().contains { !$0.isFinite || abs($0) > 1e12 }, "seed \(seed): exact mode failed (\(error)) where Float64 gives \(want)\n\(source)")
                continue
            }
            for (t, row) in want.enumerated() {
                for (i, w) in row.enumerated() where w.isFinite {
                    let v = result.outputs[0][t][i], got = v.isPoint ? v.lo.doubleValue : v.decidedDouble!
                    #expect(abs(got - w) <= 1e-6 * max(1, abs(w)), "seed \(seed): output \(i) at \(t): exact \(v), float64 \(w)\n\(source)")
                }
            }
            compared += 1
        }
        #expect(compared >= 50, "only \(compared) programs compared (\(refused) refused)")
    }
}
