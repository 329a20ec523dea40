import ComplexModule

/// The complex Schur form `A = Z T Zᴴ` of a real square matrix (`T` upper triangular, `Z`
/// unitary): Householder reduction to Hessenberg form, then shifted QR iterations with Givens
/// rotations and Wilkinson shifts. Eigenvalues are `T`'s diagonal; `eigenvector(k)` solves
/// the triangular system for `T[k][k]` and maps it back through `Z`.
struct ComplexSchur {
    typealias C = Complex<Double>
    let m: Int
    /// Row-major `m x m`.
    var t: [C]
    var z: [C]

    /// Nil when the QR iteration does not converge within `30 * m` sweeps.
    init?(_ a: [Double], _ m: Int) {
        self.m = m
        let (h, q) = Self.hessenberg(a, m)
        t = h.map { C($0) }
        z = q.map { C($0) }
        guard reduceToTriangular() else { return nil }
    }

    /// `A = Q H Qᵀ` with `H` upper Hessenberg (Householder reflections).
    static func hessenberg(_ a: [Double], _ m: Int) -> (h: [Double], q: [Double]) {
        var h = a, q = [Double](repeating: 0, count: m * m)
        for i in 0..<m { q[i * m + i] = 1 }
        for k in 0..<max(0, m - 2) {
            var v = [Double](repeating: 0, count: m)
            for i in (k + 1)..<m { v[i] = h[i * m + k] }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { continue }
            v[k + 1] += v[k + 1] > 0 ? norm : -norm
            let scale = 2 / v.reduce(0) { $0 + $1 * $1 }
            // H ← (I - scale v vᵀ) H (I - scale v vᵀ), Q ← Q (I - scale v vᵀ).
            for j in 0..<m {
                var s = 0.0
                for i in (k + 1)..<m { s += v[i] * h[i * m + j] }
                s *= scale
                for i in (k + 1)..<m { h[i * m + j] -= s * v[i] }
            }
            for row in 0..<m {
                reflectRow(&h, row, v, scale, from: k + 1, m)
                reflectRow(&q, row, v, scale, from: k + 1, m)
            }
            for i in (k + 2)..<m { h[i * m + k] = 0 }
        }
        return (h, q)
    }

    private static func reflectRow(_ x: inout [Double], _ row: Int, _ v: [Double], _ scale: Double, from: Int, _ m: Int) {
        var s = 0.0
        for j in from..<m { s += x[row * m + j] * v[j] }
        s *= scale
        for j in from..<m { x[row * m + j] -= s * v[j] }
    }

    /// QR iterations on the active window `[low, high]` until every subdiagonal entry is
    /// negligible next to its diagonal neighbours.
    private mutating func reduceToTriangular() -> Bool {
        let norm = t.reduce(0) { max($0, $1.length) }
        guard norm > 0 else { return true }
        var high = m - 1, sinceDeflation = 0, sweeps = 0
        while high > 0 {
            var low = high
            while low > 0 {
                let neighbours = t[(low - 1) * m + low - 1].length + t[low * m + low].length
                if t[low * m + low - 1].length <= Double.ulpOfOne * (neighbours > 0 ? neighbours : norm) {
                    t[low * m + low - 1] = .zero
                    break
                }
                low -= 1
            }
            if low == high { high -= 1; sinceDeflation = 0; continue }
            sweeps += 1
            sinceDeflation += 1
            guard sweeps <= 30 * m else { return false }
            // Every tenth sweep without progress takes an exceptional shift to break cycles.
            let shift = sinceDeflation % 10 == 0
                ? t[high * m + high] + C(t[high * m + high - 1].length)
                : wilkinsonShift(high)
            qrSweep(low, high, shift: shift)
        }
        return true
    }

    /// The eigenvalue of the trailing 2x2 block of the window closer to its last entry.
    private func wilkinsonShift(_ k: Int) -> C {
        let a = t[(k - 1) * m + k - 1], b = t[(k - 1) * m + k], c = t[k * m + k - 1], d = t[k * m + k]
        let half = (a - d) * C(0.5)
        let root = C.sqrt(half * half + b * c)
        let mean = (a + d) * C(0.5)
        let (r1, r2) = (mean + root, mean - root)
        return (r1 - d).length <= (r2 - d).length ? r1 : r2
    }

    /// One explicitly shifted QR step on the window: `T - μI = QR`, `T ← RQ + μI`, applied to
    /// the whole of `T` (rows above and columns right of the window too) and accumulated in `Z`.
    private mutating func qrSweep(_ low: Int, _ high: Int, shift mu: C) {
        for k in low...high { t[k * m + k] -= mu }
        var rotations: [(c: C, s: C)] = []
        for k in low..<high {
            let x = t[k * m + k], y = t[(k + 1) * m + k]
            let r = (x.lengthSquared + y.lengthSquared).squareRoot()
            let (c, s) = r == 0 ? (C.one, C.zero) : (x.divided(by: r), y.divided(by: r))
            for j in k..<m {
                let u = t[k * m + j], v = t[(k + 1) * m + j]
                t[k * m + j] = c.conjugate * u + s.conjugate * v
                t[(k + 1) * m + j] = c * v - s * u
            }
            rotations.append((c, s))
        }
        for (offset, (c, s)) in rotations.enumerated() {
            let k = low + offset
            for i in 0...(k + 1) { Self.rotateColumns(&t, i, k, c, s, m) }
            for i in 0..<m { Self.rotateColumns(&z, i, k, c, s, m) }
        }
        for k in low...high { t[k * m + k] += mu }
    }

    /// Row `i`, columns `k, k+1` times `Gᴴ = [[c, -s̄], [s, c̄]]`.
    private static func rotateColumns(_ x: inout [C], _ i: Int, _ k: Int, _ c: C, _ s: C, _ m: Int) {
        let u = x[i * m + k], v = x[i * m + k + 1]
        x[i * m + k] = u * c + v * s
        x[i * m + k + 1] = v * c.conjugate - u * s.conjugate
    }

    /// An eigenvector for `T[k][k]`: back substitution in `T`, then `Z y`. A vanishing
    /// denominator (a repeated eigenvalue) is replaced by a tiny one, so the vector exists but
    /// the caller's conditioning check refuses it.
    func eigenvector(_ k: Int) -> [C] {
        let lambda = t[k * m + k]
        let tiny = Double.ulpOfOne * max(t.reduce(0) { max($0, $1.length) }, .leastNormalMagnitude)
        var y = [C](repeating: .zero, count: m)
        y[k] = .one
        for i in stride(from: k - 1, through: 0, by: -1) {
            var s = C.zero
            for j in (i + 1)...k { s += t[i * m + j] * y[j] }
            var d = t[i * m + i] - lambda
            if d.length < tiny { d = C(tiny) }
            y[i] = -(s / d)
        }
        var x = [C](repeating: .zero, count: m)
        for r in 0..<m { for j in 0...k { x[r] += z[r * m + j] * y[j] } }
        return x
    }
}
