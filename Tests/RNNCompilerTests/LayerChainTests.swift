import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

/// Random programs within the layer chain's reach: affine maps, ReLUs, gates, the other
/// element-wise ops now and then, concatenations and slices, and linear states whose
/// updates read inputs, values and the states updated before them (never a later one, so
/// every state is affine time-invariant).
struct LayerProgramGenerator {
    var rng: SplitMix64
    var values: [(name: String, size: Int, states: Set<Int>)] = []
    var lines: [String] = []
    var counter = 0

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.next() % UInt64(range.count)) }

    /// An expression of width `m` over values whose states are all in `allowed`, and the
    /// states it reads.
    mutating func expression(_ m: Int, depth: Int, allowed: Set<Int>) -> (String, Set<Int>) {
        let usable = values.filter { $0.states.isSubset(of: allowed) }
        let pick = usable[int(0...(usable.count - 1))]
        switch depth <= 0 ? 0 : int(0...9) {
        case 1, 2:
            let (e, s) = expression(m, depth: depth - 1, allowed: allowed)
            return ("relu(\(e))", s)
        case 3:
            let (a, s1) = expression(m, depth: depth - 1, allowed: allowed)
            let (b, s2) = expression(m, depth: depth - 1, allowed: allowed)
            return ("(\(a) * \(b))", s1.union(s2))
        case 4:
            let (a, s1) = expression(m, depth: depth - 1, allowed: allowed)
            let (b, s2) = expression(m, depth: depth - 1, allowed: allowed)
            return ("(\(a) + \(b))", s1.union(s2))
        case 5 where m >= 2:
            let k = int(1...(m - 1))
            let (a, s1) = expression(k, depth: depth - 1, allowed: allowed)
            let (b, s2) = expression(m - k, depth: depth - 1, allowed: allowed)
            return ("[\(a), \(b)]", s1.union(s2))
        case 6 where pick.size > m:
            let start = int(0...(pick.size - m))
            return ("\(pick.name)[\(start):\(start + m)]", pick.states)
        case 8:
            let (a, s1) = expression(m, depth: depth - 1, allowed: allowed)
            return ("relu(1000 * (\(a) + 0.25))", s1)
        case 7:
            let ops = ["tanh", "sigmoid", "abs", "max", "leaky_relu"]
            let op = ops[int(0...(ops.count - 1))]
            let (a, s1) = expression(m, depth: depth - 1, allowed: allowed)
            guard op == "max" else { return ("\(op)(\(a))", s1) }
            let (b, s2) = expression(m, depth: depth - 1, allowed: allowed)
            return ("max(\(a), \(b))", s1.union(s2))
        default:
            let bias = int(0...1) == 1 ? " + \(Double(int(-4...4)) / 4)" : ""
            return ("(normal(\(m), \(pick.size), seed: \(int(0...1000)), std: \(0.8 / Double(pick.size).squareRoot())) @ \(pick.name)\(bias))", pick.states)
        }
    }

    mutating func model() -> (source: String, width: Int) {
        let inputs = (0..<int(1...2)).map { ("x\($0)", int(1...5)) }
        lines = inputs.map { "  input \($0.0): [\($0.1)]" }
        values = inputs.map { ($0.0, $0.1, []) }
        let stateCount = int(0...3)
        let sizes = (0..<stateCount).map { _ in int(1...4) }
        for (k, size) in sizes.enumerated() {
            lines.append("  state s\(k): [\(size)] = \(Double(int(-2...2)) / 2)")
            values.append(("s\(k)", size, [k]))  // before its update: the previous value
        }
        var updated = Set<Int>()
        for k in 0..<stateCount {
            for _ in 0..<int(0...2) { bind(allowed: Set(0..<stateCount)) }
            // Any value of inputs and earlier states, plus a constant linear map of itself.
            let (rest, _) = expression(sizes[k], depth: 3, allowed: updated)
            let own: String
            switch int(0...3) {
            case 0: own = "0.9 * s\(k)"
            case 1: own = "normal(\(sizes[k]), \(sizes[k]), seed: \(int(0...99)), std: \(0.5 / Double(sizes[k]).squareRoot())) @ s\(k)"
            case 2 where sizes[k] >= 2: own = "[s\(k), [0]][1:\(sizes[k] + 1)]"  // a shift register
            default: own = "0 * s\(k)"
            }
            lines.append("  s\(k) <- \(own) + \(rest)")
            updated.insert(k)
            values.append(("s\(k)", sizes[k], [k]))  // after its update: the new value
        }
        for _ in 0..<int(1...3) { bind(allowed: Set(0..<stateCount)) }
        let outs = (0..<int(1...2)).map { _ in values[int(0...(values.count - 1))].name }
        lines.append("  output [\(outs.joined(separator: ", "))]")
        return ("model Layers {\n" + lines.joined(separator: "\n") + "\n}\n", inputs.reduce(0) { $0 + $1.1 })
    }

    mutating func bind(allowed: Set<Int>) {
        counter += 1
        let m = int(1...5)
        let (e, s) = expression(m, depth: 3, allowed: allowed)
        lines.append("  v\(counter) = \(e)")
        values.append(("v\(counter)", m, s))
    }
}

@Suite struct LayerChainTests {
    /// The chain's outputs against the reference interpreter's on the program itself.
    static func check(_ ir: IRProgram, _ inputs: [[Double]], tolerance: Double = 1e-9, _ what: String) throws -> LayerChain {
        let chain = try LayerChainBuilder.build(ir)
        let chainIR = chain.asIR()
        #expect(chain.inputWidth == ir.inputWidth && chain.outputWidth == ir.outputWidth, "\(what)")
        let want = interpret(ir, inputs), got = interpret(chainIR, inputs)
        #expect(close(got, want, tolerance: tolerance), "\(what):\n\(chain.report)")
        return chain
    }

    /// A state's new value that a large factor scales stays on the state's recurrence (it is
    /// not given a layer of its own, which would wait on the state's layer).
    @Test func largeFactorsOnAStatesNewValue() throws {
        let ir = try #require(compileOK("model M {\n  input x: [1]\n  state s: [1] = 0\n  s <- s + x\n  h = 1000 * (s + x)\n  state t: [1] = 0\n  t <- 0.5 * t + 2000 * t + x\n  output [relu(1000 * s), relu(h), t]\n}"))
        _ = try Self.check(ir, [[1], [-3], [0.5], [2]], "large factors on new values")
    }

    @Test func randomProgramsAgreeWithTheInterpreter() throws {
        var checked = 0
        var kinds: [String: Int] = [:]
        for seed in 0..<400 as Range<UInt64> {
            var gen = LayerProgramGenerator(seed: 5_000 + seed)
            let (source, width) = gen.model()
            let r = compile(source)
            guard let ir = r.ir else {
                Issue.record("seed \(seed) does not compile:\n\(source)\n\(r.diagnostics.map(\.description).joined(separator: "\n"))")
                continue
            }
            var rng = SplitMix64(seed: seed)
            let inputs = (0..<7).map { _ in (0..<width).map { _ in rng.nextGaussian() } }
            let chain: LayerChain
            do { chain = try Self.check(ir, inputs, "seed \(seed)\n\(source)") } catch {
                Issue.record("seed \(seed): \(error)\n\(source)")
                continue
            }
            // The chain is a chain: every layer reads what the one before it writes.
            var w = chain.inputWidth
            for layer in chain.layers {
                #expect(layer.inputWidth == w, "seed \(seed)")
                w = layer.outputWidth
            }
            checked += 1
            for kind in Set(chain.layers.map { $0.kind.split(separator: " ")[0] }) { kinds[String(kind), default: 0] += 1 }
        }
        #expect(checked >= 300)
        // Each kind of layer is drawn often.
        for kind in ["affine", "state", "relu", "mul", "tanh", "max"] { #expect(kinds[kind, default: 0] >= 40, "\(kind): \(kinds)") }
    }
}
