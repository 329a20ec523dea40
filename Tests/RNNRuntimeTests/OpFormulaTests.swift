import Foundation
import RNNOps
import RNNRuntime
import Testing

/// Every op's formula (what exact mode evaluates) is its reference definition: the two agree
/// in Float64 on random arguments, the ops' branch points and their neighbours.
@Suite struct OpFormulaTests {
    @Test(arguments: ElementwiseKind.allCases) func formulaIsTheReference(_ kind: ElementwiseKind) {
        let entry = kind.entry
        var rng = SplitMix64(seed: 20261202)
        let special: [Double] = [0, -0.0, 1, -1, 20, 20.nextUp, 19.999, -20, 0.5, 1e-300, -1e-300, 700, -700]
        let attributeSets: [[Double]] = [entry.attributes.map(\.defaultValue), entry.attributes.map { _ in 0.25 }, entry.attributes.enumerated().map { i, _ in Double(i) * 3 - 2 }]
        for values in attributeSets {
            let attributes = OpAttributes(values)
            if entry.check?(attributes) != nil { continue }
            for k in 0..<3000 {
                let x = k < special.count ? special[k] : rng.nextGaussian() * (k % 3 == 0 ? 30 : 2)
                let y = rng.nextGaussian() * 3
                let want = entry.reference(x, y, attributes), got = entry.formula.evaluate(x, y, attributes)
                if want.isNaN || want.isInfinite || want == got {
                    #expect(want.isNaN == got.isNaN && (want.isNaN || want == got), "\(kind) at x = \(x): reference \(want), formula \(got)")
                    continue
                }
                #expect(abs(want - got) <= 1e-13 * max(1, abs(want)), "\(kind)\(values) at x = \(x), y = \(y): reference \(want), formula \(got)")
            }
        }
    }
}
