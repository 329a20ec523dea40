import Foundation
import RNNRuntime
import Testing
@testable import RNNCompiler

@Suite struct ModalDecompositionTests {
    /// `P D P⁻¹` rebuilt from a decomposition, row-major.
    static func rebuild(_ f: ModalForm, n: Int) -> [Double] {
        var pd = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                pd[i * n + j] = f.basis[i * n + j] * f.real[j]
                if f.imaginary[j] != 0 { pd[i * n + j] -= f.basis[i * n + (f.imaginary[j] > 0 ? j + 1 : j - 1)] * f.imaginary[j] }
            }
        }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0..<n { a[i * n + j] += pd[i * n + k] * f.inverse[k * n + j] } } }
        return a
    }

    static func maxDifference(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } }

    /// Random Gaussian matrices (mostly complex pairs) of every size up to 40 are diagonalized
    /// and rebuilt, unless the rule refuses them for conditioning.
    @Test func randomMatricesRebuildFromTheirModes() throws {
        var rng = SplitMix64(seed: 7)
        var accepted = 0
        for n in 1...40 {
            for _ in 0..<3 {
                let a = (0..<(n * n)).map { _ in rng.nextGaussian() / Double(n).squareRoot() }
                switch ModalDecomposition.decompose(a, n: n) {
                case .success(let f):
                    accepted += 1
                    #expect(Self.maxDifference(Self.rebuild(f, n: n), a) < 1e-9, "n \(n)")
                    #expect(f.condition >= 1 - 1e-9 && f.condition <= ModalDecomposition.maxCondition)
                    // Pairs are consecutive with opposite imaginary parts.
                    var j = 0
                    while j < n {
                        if f.imaginary[j] == 0 { j += 1; continue }
                        #expect(f.imaginary[j] > 0 && j + 1 < n && f.imaginary[j + 1] == -f.imaginary[j] && f.real[j + 1] == f.real[j])
                        j += 2
                    }
                case .failure(let why):
                    guard case .illConditioned = why else { Issue.record("n \(n): \(why)"); continue }
                }
            }
        }
        #expect(accepted >= 100, "only \(accepted) of 120 random matrices diagonalized")
    }

    /// A rotation is normal: condition 1, one complex pair on the unit circle.
    @Test func rotationIsOneComplexPair() throws {
        let c = cos(2 * Double.pi / 3), s = sin(2 * Double.pi / 3)
        let f = try ModalDecomposition.decompose([c, -s, s, c], n: 2).get()
        #expect(abs(f.real[0] - c) < 1e-14 && abs(abs(f.imaginary[0]) - s) < 1e-14)
        #expect(abs(f.condition - 1) < 1e-9)
    }

    /// Independent blocks with the same eigenvalues are decomposed one by one, so repeated
    /// eigenvalues across blocks are fine; inside one block they are refused.
    @Test func repeatedEigenvaluesOnlyAcrossBlocks() throws {
        let r: [Double] = [0.6, -0.3, 0.3, 0.6]
        var a = [Double](repeating: 0, count: 16)
        for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] { a[i * 4 + j] = r[i * 2 + j]; a[(i + 2) * 4 + j + 2] = r[i * 2 + j] }
        let f = try ModalDecomposition.decompose(a, n: 4).get()
        #expect(Self.maxDifference(Self.rebuild(f, n: 4), a) < 1e-12)
        // A Jordan block (defective) and 0.5 * I + a nilpotent coupling are refused.
        #expect(throws: ModalDecomposition.Refusal.self) { try ModalDecomposition.decompose([0.5, 0.25, 0, 0.5], n: 2).get() }
        #expect(throws: ModalDecomposition.Refusal.self) {
            try ModalDecomposition.decompose([0.5, 0.1, 0.2, 0, 0.5, 0.3, 0, 0, 0.5], n: 3).get()
        }
    }

    /// A shift register (nilpotent, one Jordan block) beside a diagonalizable block is refused
    /// whatever its width: its eigenvectors all coincide.
    @Test(arguments: [2, 3, 5, 10, 16])
    func shiftRegistersBesideOtherStatesAreRefused(width: Int) {
        let n = width + 2
        var a = [Double](repeating: 0, count: n * n)
        (a[0], a[1], a[n], a[n + 1]) = (0.6, -0.3, 0.3, 0.6)
        for i in 2..<(n - 1) { a[i * n + i + 1] = 1 }
        let result = ModalDecomposition.decompose(a, n: n)
        if case .success(let f) = result {
            Issue.record("accepted with condition \(f.condition); rebuilt to within \(Self.maxDifference(Self.rebuild(f, n: n), a))")
        }
    }

    @Test func integerMatricesKeepTheExactRecurrence() {
        // A cyclic shift: diagonalizable, but its integer arithmetic is exact.
        #expect(throws: ModalDecomposition.Refusal.integerMatrix) { try ModalDecomposition.decompose([0, 1, 0, 0, 0, 1, 1, 0, 0], n: 3).get() }
    }

    @Test func realEigenvaluesOfATriangularMatrix() throws {
        let a: [Double] = [0.9, 0.4, 0.1, 0, -0.5, 0.7, 0, 0, 0.25]
        let f = try ModalDecomposition.decompose(a, n: 3).get()
        #expect(f.imaginary == [0, 0, 0])
        #expect(Set(f.real.map { ($0 * 1e12).rounded() / 1e12 }) == [0.9, -0.5, 0.25])
        #expect(Self.maxDifference(Self.rebuild(f, n: 3), a) < 1e-12)
    }
}
