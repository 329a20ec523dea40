import Testing
@testable import RNNCompiler

/// Every resource limit refuses with E0601 and names its flag, and a user can move it
/// (issue #14: budgets are defaults a user can raise).
@Suite struct ResourceLimitTests {
    /// For each limit, a program that compiles under the defaults and passes the limit once
    /// it is lowered to `count`.
    static let cases: [(ResourceLimits.Kind, count: Int, body: String)] = [
        (.tensorElements, 8, "  param W: [4, 4] = 0.5\n  output x + sum(W)\n"),
        (.vectorWidth, 4, "  y = [x, x, x, x, x, x]\n  output y\n"),
        (.iterations, 5, "  output x + sum([for i in 0..<10: i])\n"),
        (.irNodes, 3, "  output tanh(relu(x + 1) * 2)\n"),
        (.storedWeights, 2, "  param W: [4, 1] = normal(4, 1, seed: 3)\n  output W @ x\n"),
        (.evaluations, 4, "  output x + 1 + 2 + 3 + 4\n"),
        (.constantValues, 50, "  output x + sum(ones(100))\n"),
    ]

    @Test(arguments: 0..<7) func eachLimitRefusesWithItsFlag(index: Int) throws {
        let (kind, count, body) = Self.cases[index]
        let source = "model M {\n  input x: [1]\n" + body + "}\n"
        #expect(compileOK(source) != nil, "compiles under the defaults")
        var options = ElaborationOptions()
        options.limits[kind] = count
        let errors = compile(source, options: options).errors
        #expect(errors.map(\.code) == [.tooLarge], "\(kind): \(errors.map(\.message))")
        #expect(errors.first?.message.hasSuffix("(--limit \(kind.rawValue)=N raises it)") == true, "\(errors.map(\.message))")
    }

    @Test func theCasesCoverEveryLimit() {
        #expect(Set(Self.cases.map(\.0)) == Set(ResourceLimits.Kind.allCases))
    }

    /// Past a default, raising the limit lets the program compile.
    @Test func raisingALimitAdmitsTheProgram() throws {
        let source = "model M {\n  input t: 0..<20000000\n  output t\n}\n"
        #expect(compile(source).errors.map(\.code) == [.tooLarge])
        var options = ElaborationOptions()
        #expect(options.limits.set("vector-width=2^25") == nil)
        #expect(compileOK(source, options: options) != nil)
    }

    @Test func limitTextIsChecked() {
        var limits = ResourceLimits()
        #expect(limits.set("tensor-elements=2^30") == nil && limits.tensorElements == 1 << 30)
        #expect(limits.set("iterations=2_000_000") == nil && limits.iterations == 2_000_000)
        for bad in ["tensor-elements", "sizes=5", "iterations=0", "iterations=-3", "iterations=2^62", "iterations=1e6",
                    "iterations=99999999999999999999", "iterations=\u{0663}", "=5"] {
            #expect(limits.set(Substring(bad)) != nil, "\(bad)")
        }
        #expect(limits.iterations == 2_000_000, "a refused value changes nothing")
    }

    /// Sizes whose product overflows compare as too large rather than trapping, whatever
    /// limit is set.
    @Test func overflowingShapesAreTooLarge() {
        var options = ElaborationOptions()
        options.limits.tensorElements = (1 << 62) - 1
        options.limits.vectorWidth = (1 << 62) - 1
        for body in ["  param W: [4294967296, 4294967296] = 0\n  output x\n", "  state s: [4294967296, 4294967296] = 0\n  s <- s\n  output x\n"] {
            let errors = compile("model M {\n  input x: [1]\n" + body + "}\n", options: options).errors
            #expect(!errors.isEmpty && errors.allSatisfy { $0.code == .tooLarge }, "\(errors.map(\.message))")
        }
    }
}
