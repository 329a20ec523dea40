import Foundation
import RNNOps
import Testing

/// Every op's accuracy entry is true of its kernels: the Float32 and Float64 kernels stay
/// within the claimed error of the exact value (Float80 for the Float64 kernels), values
/// of an interval stay inside the claimed image, and the claimed slope bounds differences.
@Suite struct OpAccuracyTests {
    /// The op in extended precision, as exact as the tests need.
    static func exact(_ kind: ElementwiseKind, _ x: Float80, _ a: OpAttributes) -> Float80 {
        switch kind {
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .softplus: return x > 20 ? x : Foundation.log1p(Foundation.exp(x))
        case .silu: return x / (1 + Foundation.exp(-x))
        case .sqrt: return x.squareRoot()
        case .reciprocal: return 1 / x
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / Float80(2).squareRoot()))
        case .geluTanh:
            let c = (2 / Float80.pi).squareRoot()
            return 0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x)))
        case .softsign: return x / (1 + Swift.abs(x))
        case .leakyRelu: return x > 0 ? x : Float80(a[0]) * x
        case .elu: return x > 0 ? x : Float80(a[0]) * Foundation.expm1(x)
        case .relu: return x > 0 ? x : 0
        case .hardtanh: return Swift.min(Swift.max(x, Float80(a[0])), Float80(a[1]))
        case .add, .mul, .max, .min: preconditionFailure("binary")
        }
    }

    static let unary = ElementwiseKind.allCases.filter { $0.entry.arity == 1 }

    /// Points where the op is defined: a grid over [-30, 30], small values and values near 1.
    static func points(_ kind: ElementwiseKind) -> [Double] {
        var xs: [Double] = Array(stride(from: -30.0, through: 30.0, by: 0.0137))
        for k in 0..<200 {
            let offset = Double(k - 100)
            xs.append(1e-6 * offset)
            xs.append(1 + 1e-4 * offset)
        }
        switch kind {
        case .log, .sqrt: return xs.filter { $0 > 0 }
        case .reciprocal: return xs.filter { $0 != 0 }
        default: return xs
        }
    }

    static func attributes(_ kind: ElementwiseKind) -> OpAttributes {
        switch kind {
        case .leakyRelu: return OpAttributes([0.1])
        case .elu: return OpAttributes([1.5])
        case .hardtanh: return OpAttributes([-0.5, 2])
        default: return OpAttributes(kind.entry.attributes.map(\.defaultValue))
        }
    }

    @Test(arguments: unary) func kernelsStayWithinTheClaimedError(_ kind: ElementwiseKind) {
        let entry = kind.entry, a = Self.attributes(kind), accuracy = entry.accuracy
        let xs = Self.points(kind)
        let xs32 = xs.map(Float.init)
        var out32 = [Float](repeating: 0, count: xs.count)
        var out64 = [Double](repeating: 0, count: xs.count)
        xs32.withUnsafeBufferPointer { x in out32.withUnsafeMutableBufferPointer { entry.float32(x.baseAddress!, x.baseAddress!, $0.baseAddress!, xs.count, a) } }
        xs.withUnsafeBufferPointer { x in out64.withUnsafeMutableBufferPointer { entry.float64(x.baseAddress!, x.baseAddress!, $0.baseAddress!, xs.count, a) } }
        var worst32 = 0.0, worst64 = 0.0
        for i in xs.indices {
            for (x, got, u, ulps) in [(Double(xs32[i]), Double(out32[i]), 0x1p-24, accuracy.ulps32), (xs[i], out64[i], 0x1p-53, accuracy.ulps64)] {
                let want = Self.exact(kind, Float80(x), a)
                let scale = Swift.abs(Double(want)) + accuracy.floor * (1 + Swift.abs(x))
                let error = Double(Swift.abs(Float80(got) - want))
                let allowed = ulps * u * scale + (u == 0x1p-24 ? 0x1p-149 : Double.leastNonzeroMagnitude)
                #expect(error <= allowed, "\(kind) at \(x): \(got) vs \(want), error \(error) > \(allowed)")
                if scale > 0 { if u == 0x1p-24 { worst32 = Swift.max(worst32, error / (u * scale)) } else { worst64 = Swift.max(worst64, error / (u * scale)) } }
            }
        }
        // The claims are not slack by more than they need: each within 8x of what is seen.
        #expect(accuracy.selects || worst32 * 8 >= accuracy.ulps32 || accuracy.ulps32 <= 1, "\(kind): float32 claims \(accuracy.ulps32) ulps, worst seen \(worst32)")
    }

    @Test(arguments: unary) func imagesAndSlopesHoldOnRandomIntervals(_ kind: ElementwiseKind) {
        let entry = kind.entry, a = Self.attributes(kind), accuracy = entry.accuracy
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var lo = Double.random(in: -12...12, using: &rng), hi = lo + Double.random(in: 0...6, using: &rng)
            if [.log, .sqrt, .reciprocal].contains(kind) { (lo, hi) = (Swift.abs(lo) / 4 + 0.01, Swift.abs(lo) / 4 + 0.01 + (hi - lo)) }
            let (ilo, ihi) = entry.image(lo, hi, a)
            let slope = accuracy.slope(lo, hi, a)
            let xs = (0...40).map { Swift.min(hi, lo + (hi - lo) * Double($0) / 40) } + [-1.2784645427610738, -0.7517915246935645, -0.7524614220710163, 0].filter { $0 >= lo && $0 <= hi }
            let ys = xs.map { Double(Self.exact(kind, Float80($0), a)) }
            for y in ys { #expect(y >= ilo && y <= ihi, "\(kind) on [\(lo), \(hi)]: \(y) outside [\(ilo), \(ihi)]") }
            for i in 1..<41 {
                let dy = Swift.abs(ys[i] - ys[i - 1]), dx = xs[i] - xs[i - 1]
                #expect(dy <= slope * dx * (1 + 1e-9) + 1e-15, "\(kind) on [\(lo), \(hi)]: slope \(dy / dx) above \(slope)")
            }
        }
    }
}
