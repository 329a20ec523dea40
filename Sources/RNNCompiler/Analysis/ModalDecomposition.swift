import ComplexModule
import Foundation

/// A real diagonalization `A = P D P⁻¹` of a constant transition matrix.
///
/// `D` is block diagonal: a real eigenvalue is a 1x1 block, a complex pair `a ± ib` (b > 0) a
/// 2x2 block on modes `k, k+1`. In modal coordinates `z = P⁻¹ s` the recurrence
/// `s_t = A s_{t-1} + b_t` becomes, mode by mode,
/// `z_j ← real[j] * z_j + imaginary[j] * z_partner(j) + c_j` with `c = P⁻¹ b` and
/// `imaginary[k] = b`, `imaginary[k+1] = -b` (a real mode has `imaginary = 0`).
package struct ModalForm: Sendable, Equatable {
    /// `P`, row-major `n x n`.
    package var basis: [Double]
    /// `P⁻¹`, row-major `n x n`.
    package var inverse: [Double]
    package var real: [Double]
    package var imaginary: [Double]
    /// The 2-norm condition number of `P` (estimated from below: `largestSingularValue`).
    package var condition: Double
}

/// Decides whether a dense constant `A` may run as an element-wise scan over its eigenvalues,
/// and computes the decomposition. The rule (docs/runtime.md):
/// - integer matrices (LSRL's shifts, permutations, counters) stay exact: they are refused;
/// - the matrix is split into its independent blocks (connected components of its non-zero
///   pattern), each at most `maxBlock` wide, and each block's complex Schur form gives its
///   eigenvalues and eigenvectors;
/// - the result is refused unless `‖A P - P D‖ ≤ residualTolerance · ‖A‖ ‖P‖` (entrywise
///   maxima) and `cond₂(P) ≤ maxCondition`, which rules out repeated eigenvalues that share
///   a block and defective matrices.
package enum ModalDecomposition {
    package static let maxCondition = 1e3
    package static let maxBlock = 512
    /// Widest `A` diagonalized: the basis is inverted and checked as a whole, O(n³).
    package static let maxWidth = 1024
    package static let residualTolerance = 1e-9

    /// Why a matrix keeps the matrix recurrence.
    package enum Refusal: Error, Equatable, CustomStringConvertible {
        case integerMatrix
        case blockTooLarge(Int)
        case tooWide(Int)
        case noConvergence
        case illConditioned(Double)
        case inaccurate(Double)

        package var description: String {
            switch self {
            case .integerMatrix: "A has integer entries, which the matrix recurrence keeps exact"
            case .blockTooLarge(let m): "a coupled block of A is \(m) wide (at most \(maxBlock) are diagonalized)"
            case .tooWide(let n): "A is \(n) wide (at most \(maxWidth) are diagonalized)"
            case .noConvergence: "the eigenvalue iteration did not converge"
            case .illConditioned(let c): "its eigenvector matrix is ill-conditioned (condition \(formatted(c)) > \(formatted(maxCondition)))"
            case .inaccurate(let r): "the eigen-decomposition is inaccurate (relative residual \(formatted(r)))"
            }
        }
    }

    /// A condition number or residual for messages: three significant digits, or "infinite".
    package static func formatted(_ x: Double) -> String { x.isFinite ? String(format: "%.3g", x) : "infinite" }

    /// `a` is row-major `n x n`.
    package static func decompose(_ a: [Double], n: Int) -> Result<ModalForm, Refusal> {
        precondition(a.count == n * n)
        if a.allSatisfy({ $0 == $0.rounded() }) { return .failure(.integerMatrix) }
        var basis = [Double](repeating: 0, count: n * n)
        var real: [Double] = [], imaginary: [Double] = []
        for block in independentBlocks(a, n: n) {
            guard block.count <= maxBlock else { return .failure(.blockTooLarge(block.count)) }
            let m = block.count
            var sub = [Double](repeating: 0, count: m * m)
            for (i, r) in block.enumerated() { for (j, c) in block.enumerated() { sub[i * m + j] = a[r * n + c] } }
            guard let modes = blockModes(sub, m) else { return .failure(.noConvergence) }
            for mode in modes {
                let column = real.count
                for (i, r) in block.enumerated() { basis[r * n + column] = mode.vector[i] }
                real.append(mode.real)
                imaginary.append(mode.imaginary)
            }
        }
        guard let inverse = invert(basis, n: n) else { return .failure(.illConditioned(.infinity)) }
        let residual = relativeResidual(a, basis: basis, real: real, imaginary: imaginary, n: n)
        guard residual <= residualTolerance else { return .failure(.inaccurate(residual)) }
        let condition = largestSingularValue(basis, n: n) * largestSingularValue(inverse, n: n)
        guard condition <= maxCondition else { return .failure(.illConditioned(condition)) }
        return .success(ModalForm(basis: basis, inverse: inverse, real: real, imaginary: imaginary, condition: condition))
    }

    /// Index sets of the connected components of `A`'s non-zero pattern, each sorted, ordered
    /// by their first index. `A` is block diagonal over them (after a permutation).
    static func independentBlocks(_ a: [Double], n: Int) -> [[Int]] {
        var parent = Array(0..<n)
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        for i in 0..<n { for j in 0..<n where a[i * n + j] != 0 { parent[root(i)] = root(j) } }
        var blocks: [Int: [Int]] = [:], order: [Int] = []
        for i in 0..<n {
            let r = root(i)
            if blocks[r] == nil { order.append(r) }
            blocks[r, default: []].append(i)
        }
        return order.map { blocks[$0]! }
    }

    /// One column of `P` and its mode.
    struct Mode {
        var vector: [Double]
        var real: Double
        var imaginary: Double
    }

    /// The modes of one block: a real eigenvalue gives one, a complex pair two (real and
    /// imaginary parts of the eigenvector of `a + ib`, b > 0).
    static func blockModes(_ a: [Double], _ m: Int) -> [Mode]? {
        if m == 1 { return [Mode(vector: [1], real: a[0], imaginary: 0)] }
        guard let schur = ComplexSchur(a, m) else { return nil }
        let norm = a.reduce(0) { max($0, abs($1)) }
        let realTolerance = 1e-10 * max(norm, .leastNormalMagnitude)
        var modes: [Mode] = []
        var pending = 0  // eigenvalues with b > 0 minus those with b < 0
        for k in 0..<m {
            let lambda = schur.t[k * m + k]
            if lambda.imaginary < -realTolerance { pending -= 1; continue }
            let x = schur.eigenvector(k)
            if lambda.imaginary <= realTolerance {
                // x is a complex multiple of a real vector: turn its largest entry real.
                let p = x.indices.max { x[$0].length < x[$1].length }!
                let phase = x[p].conjugate.divided(by: x[p].length)
                let v = x.map { ($0 * phase).real }
                modes.append(Mode(vector: normalized(v, to: 1), real: lambda.real, imaginary: 0))
            } else {
                pending += 1
                let scale = (2 / x.reduce(0) { $0 + $1.lengthSquared }).squareRoot()
                modes.append(Mode(vector: x.map { $0.real * scale }, real: lambda.real, imaginary: lambda.imaginary))
                modes.append(Mode(vector: x.map { $0.imaginary * scale }, real: lambda.real, imaginary: -lambda.imaginary))
            }
        }
        return pending == 0 && modes.count == m ? modes : nil
    }

    static func normalized(_ v: [Double], to length: Double) -> [Double] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? v.map { $0 * length / norm } : v
    }

    /// `max |A P - P D| / (max |A| · max |P|)`.
    static func relativeResidual(_ a: [Double], basis p: [Double], real: [Double], imaginary: [Double], n: Int) -> Double {
        var worst = 0.0
        for i in 0..<n {
            for j in 0..<n {
                var ap = 0.0
                for k in 0..<n { ap += a[i * n + k] * p[k * n + j] }
                // (P D)[i][j]: column j of D holds real[j] at j and -imaginary[j] at the partner
                // (a pair is k, k+1 with imaginary[k] > 0).
                var pd = p[i * n + j] * real[j]
                if imaginary[j] != 0 { pd -= p[i * n + (imaginary[j] > 0 ? j + 1 : j - 1)] * imaginary[j] }
                worst = max(worst, abs(ap - pd))
            }
        }
        let scale = a.reduce(0) { max($0, abs($1)) } * p.reduce(0) { max($0, abs($1)) }
        return scale > 0 ? worst / scale : worst
    }

    /// Gauss-Jordan with partial pivoting; nil when a pivot vanishes.
    static func invert(_ a: [Double], n: Int) -> [Double]? {
        var m = a, inv = [Double](repeating: 0, count: n * n)
        for i in 0..<n { inv[i * n + i] = 1 }
        for c in 0..<n {
            let p = (c..<n).max { abs(m[$0 * n + c]) < abs(m[$1 * n + c]) }!
            let pivot = m[p * n + c]
            guard pivot != 0, pivot.isFinite else { return nil }
            if p != c {
                for j in 0..<n { m.swapAt(p * n + j, c * n + j); inv.swapAt(p * n + j, c * n + j) }
            }
            for j in 0..<n { m[c * n + j] /= pivot; inv[c * n + j] /= pivot }
            for r in 0..<n where r != c {
                let f = m[r * n + c]
                guard f != 0 else { continue }
                for j in 0..<n { m[r * n + j] -= f * m[c * n + j]; inv[r * n + j] -= f * inv[c * n + j] }
            }
        }
        return inv.allSatisfy(\.isFinite) ? inv : nil
    }

    /// `‖M‖₂` from below: power iteration on `MᵀM` from a fixed start (close after a few
    /// dozen iterations for the sizes diagonalized here), and never less than `‖M‖_F / √n`,
    /// which holds even when the start lies in the null space of a singular `M` (the
    /// coinciding eigenvectors of a shift register beside another block).
    static func largestSingularValue(_ a: [Double], n: Int) -> Double {
        let frobenius = a.reduce(0) { $0 + $1 * $1 }.squareRoot() / Double(max(1, n)).squareRoot()
        return max(frobenius, powerIteration(a, n: n))
    }

    private static func powerIteration(_ a: [Double], n: Int) -> Double {
        var v = (0..<n).map { 1 + 0.1 * Double($0 % 7) }
        var sigma = 0.0
        for _ in 0..<60 {
            v = normalized(v, to: 1)
            var w = [Double](repeating: 0, count: n)
            for i in 0..<n { for k in 0..<n { w[i] += a[i * n + k] * v[k] } }
            var u = [Double](repeating: 0, count: n)
            for i in 0..<n { for k in 0..<n { u[k] += a[i * n + k] * w[i] } }
            sigma = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = u
            if v.allSatisfy({ $0 == 0 }) { break }
        }
        return sigma
    }
}
