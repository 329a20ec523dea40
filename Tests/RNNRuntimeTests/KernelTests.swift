import Foundation
import RNNKernels
import RNNRuntime
import Testing

/// The instruction sets this CPU can run, each tested on its own (the run-time choice is
/// the widest of them).
let testedInstructionSets: [rnnk_isa] = [RNNK_ISA_GENERIC, RNNK_ISA_AVX2, RNNK_ISA_AVX512]
    .filter { $0.rawValue <= rnnk_hardware_isa().rawValue }

/// One random product: shapes around the kernels' block edges (16/8-row panels, 256-column
/// blocks, 48-row blocks of x, 12-row micro-tiles), padded strides, a random panel range.
struct GemmCase: CustomStringConvertible {
    var rows, cols, count, ldx, ldy, panelBegin, panelEnd: Int

    init(panelWidth: Int, using g: inout SplitMix64) {
        rows = [Int.random(in: 1...40, using: &g), Int.random(in: 1...200, using: &g)].randomElement(using: &g)!
        cols = [0, 1, 255, 256, 257, 513, Int.random(in: 1...80, using: &g), Int.random(in: 1...600, using: &g)].randomElement(using: &g)!
        count = [1, 2, 3, 4, 5, 8, 12, 13, 47, 48, 49, Int.random(in: 1...130, using: &g)].randomElement(using: &g)!
        ldx = cols + Int.random(in: 0...3, using: &g)
        ldy = rows + Int.random(in: 0...3, using: &g)
        let panels = (rows + panelWidth - 1) / panelWidth
        panelBegin = Int.random(in: 0..<panels, using: &g)
        panelEnd = Bool.random(using: &g) ? panels : Int.random(in: panelBegin + 1...panels, using: &g)
    }

    var description: String { "rows \(rows) cols \(cols) count \(count) ldx \(ldx) ldy \(ldy) panels \(panelBegin)..<\(panelEnd)" }
}

/// Runs `product` on a random case and checks every entry against a Double reference: the
/// rows of W in the panel range within `tolerance` of their scale, everything else (other
/// rows, stride padding) untouched.
func checkProduct<Scalar: BinaryFloatingPoint>(
    _ c: GemmCase, panelWidth: Int, tolerance: Double, using g: inout SplitMix64, _ type: Scalar.Type,
    pack: (UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>) -> Void, packedSize: Int,
    product: (UnsafePointer<Scalar>, UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>) -> Void
) -> String? {
    let w = (0..<c.rows * c.cols).map { _ in Scalar(Double.random(in: -1...1, using: &g)) }
    let x = (0..<c.count * c.ldx).map { _ in Scalar(Double.random(in: -1...1, using: &g)) }
    let sentinel = Scalar(12345.5)
    var y = [Scalar](repeating: sentinel, count: c.count * c.ldy)
    var packed = [Scalar](repeating: 0, count: max(1, packedSize))
    w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { pack(wp.baseAddress!, $0.baseAddress!) } }
    packed.withUnsafeBufferPointer { p in x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { product(p.baseAddress!, xp.baseAddress!, $0.baseAddress!) }
    } }
    let computed = c.panelBegin * panelWidth..<min(c.rows, c.panelEnd * panelWidth)
    for t in 0..<c.count {
        for r in 0..<c.ldy {
            let got = y[t * c.ldy + r]
            guard computed.contains(r) else {
                if got != sentinel { return "\(c): y[\(t), \(r)] was written outside the panel range" }
                continue
            }
            var exact = 0.0, scale = 0.0
            for k in 0..<c.cols {
                let term = Double(x[t * c.ldx + k]) * Double(w[r * c.cols + k])
                exact += term
                scale += abs(term)
            }
            if abs(Double(got) - exact) > tolerance * max(scale, 1) {
                return "\(c): y[\(t), \(r)] = \(got), expected \(exact)"
            }
        }
    }
    return nil
}

@Suite struct KernelTests {
    @Test(arguments: testedInstructionSets)
    func floatProductsMatchTheReference(isa: rnnk_isa) {
        checkProducts(isa: isa, Float.self, panelWidth: 16, tolerance: 1e-6, pack: rnnk_pack_f32, packedSize: rnnk_packed_size_f32, gemm: rnnk_gemm_f32_isa)
    }

    @Test(arguments: testedInstructionSets)
    func doubleProductsMatchTheReference(isa: rnnk_isa) {
        checkProducts(isa: isa, Double.self, panelWidth: 8, tolerance: 1e-14, pack: rnnk_pack_f64, packedSize: rnnk_packed_size_f64, gemm: rnnk_gemm_f64_isa)
    }

    typealias Gemm<Scalar> = (rnnk_isa, UnsafePointer<Scalar>?, Int32, Int32, UnsafePointer<Scalar>?, Int32, UnsafeMutablePointer<Scalar>?, Int32, Int32, Int32, Int32) -> Void

    /// 60 random products on one instruction set (stops at the first failure).
    func checkProducts<Scalar: BinaryFloatingPoint>(
        isa: rnnk_isa, _ type: Scalar.Type, panelWidth: Int, tolerance: Double,
        pack: (UnsafePointer<Scalar>?, Int32, Int32, UnsafeMutablePointer<Scalar>?) -> Void,
        packedSize: (Int32, Int32) -> Int, gemm: Gemm<Scalar>
    ) {
        var g = SplitMix64(seed: UInt64(panelWidth) << 8 + UInt64(isa.rawValue))
        // Then matrix-vector products whose share passes 1 MiB, which the AVX-512 kernel
        // streams panel by panel (odd column counts leave a remainder after its four chains).
        let streamed = [(1100, 300, 0), (1100, 301, 3), (1337, 303, 16)].map { rows, cols, first in
            var c = GemmCase(panelWidth: panelWidth, using: &g)
            (c.rows, c.cols, c.count, c.ldx, c.ldy) = (rows, cols, 1, cols + 1, rows + 2)
            (c.panelBegin, c.panelEnd) = (first, (rows + panelWidth - 1) / panelWidth)
            return c
        }
        for c in (0..<60).map({ _ in GemmCase(panelWidth: panelWidth, using: &g) }) + streamed {
            let (rows, cols) = (Int32(c.rows), Int32(c.cols))
            let failure = checkProduct(c, panelWidth: panelWidth, tolerance: tolerance, using: &g, Scalar.self,
                                       pack: { pack($0, rows, cols, $1) }, packedSize: packedSize(rows, cols)) { p, x, y in
                gemm(isa, p, rows, cols, x, Int32(c.ldx), y, Int32(c.ldy), Int32(c.count), Int32(c.panelBegin), Int32(c.panelEnd))
            }
            #expect(failure == nil, "\(String(cString: rnnk_isa_name(isa))): \(failure ?? "")")
            if failure != nil { return }
        }
    }
}

extension rnnk_isa: @retroactive CustomTestStringConvertible {
    public var testDescription: String { String(cString: rnnk_isa_name(self)) }
}

/// Distance in units in the last place between a Float result and the exact value, measured
/// in the spacing of floats at the exact value (subnormal spacing at the bottom).
func ulpDistance(_ got: Float, _ exact: Double) -> Double {
    if got.isNaN || exact.isNaN { return got.isNaN && exact.isNaN ? 0 : .infinity }
    if got.isInfinite || abs(exact) > Double(Float.greatestFiniteMagnitude) {
        return Double(got) == exact || (got.isInfinite && Float(exact).isInfinite && got.sign == Float(exact).sign) ? 0 : .infinity
    }
    let spacing = Double(Float(exact).ulp)
    return abs(Double(got) - exact) / max(spacing, Double(Float.leastNonzeroMagnitude))
}

/// Inputs for the activation checks: a dense sweep over the interesting range, the edges of
/// the kernels' branches, the ends of the float range and the special values.
func activationInputs() -> [Float] {
    var g = SplitMix64(seed: 0xAC7)
    var xs: [Float] = stride(from: -110, through: 110, by: 0.0037).map { Float($0) }
    xs += (0..<20000).map { _ in Float(Double.random(in: -1...1, using: &g)) * Float(pow(2, Double.random(in: -30...7, using: &g))) }
    xs += [0, -0.0, 0.3125, Float(0.3125).nextDown, -0.3125, 88.72, 88.73, -87.33, -103.97, -103.98, -104, 89, 1e-30, -1e-30, -7.6085, -2.724,
           Float.leastNonzeroMagnitude, Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude, .infinity, -.infinity, .nan]
    return xs
}

extension KernelTests {
    @Test(arguments: testedInstructionSets)
    func activationsAreWithinTheirErrorBounds(isa: rnnk_isa) {
        let cases: [(rnnk_activation, String, Double, (Double) -> Double)] = [
            (RNNK_EXP, "exp", 2, { Foundation.exp($0) }),
            (RNNK_SIGMOID, "sigmoid", 3, { 1 / (1 + Foundation.exp(-$0)) }),
            (RNNK_SILU, "silu", 3.5, { $0 / (1 + Foundation.exp(-$0)) }),
            (RNNK_TANH, "tanh", 3, { Foundation.tanh($0) }),
            (RNNK_SOFTPLUS, "softplus", 3.5, { $0 > 20 ? $0 : Foundation.log1p(Foundation.exp($0)) }),
        ]
        let xs = activationInputs()
        for (kind, name, bound, exact) in cases {
            var y = [Float](repeating: 0, count: xs.count)
            xs.withUnsafeBufferPointer { x in y.withUnsafeMutableBufferPointer { rnnk_activate_f32_isa(isa, kind, x.baseAddress!, $0.baseAddress!, Int32(xs.count)) } }
            var worst = (ulps: 0.0, x: Float(0))
            for (x, got) in zip(xs, y) {
                let want = exact(Double(x))
                // Subnormal results and intermediates carry fewer bits: an absolute bound there.
                let d = abs(Double(got) - want) <= 1e-40 * (1 + abs(Double(x))) ? 0 : ulpDistance(got, want)
                if d > worst.ulps { worst = (d, x) }
            }
            #expect(worst.ulps <= bound, "\(name) on \(String(cString: rnnk_isa_name(isa))): \(worst.ulps) ulp at x = \(worst.x)")
            // In place: the same results.
            var inPlace = xs
            inPlace.withUnsafeMutableBufferPointer { rnnk_activate_f32_isa(isa, kind, $0.baseAddress!, $0.baseAddress!, Int32(xs.count)) }
            #expect(zip(inPlace, y).allSatisfy { $0.bitPattern == $1.bitPattern || $0.isNaN && $1.isNaN })
        }
    }
}

extension KernelTests {
    /// The helper team splits a product by panels: the same kernel on the same panels, so
    /// the result equals the one-thread product exactly; callers racing for the team either
    /// get it or are told to run the product themselves.
    @Test func teamProductsEqualSerialOnesUnderContention() async {
        let (rows, cols) = (200, 96)
        var g = SplitMix64(seed: 0x7EA)
        let w = (0..<rows * cols).map { _ in Float.random(in: -1...1, using: &g) }
        var packed = [Float](repeating: 0, count: rnnk_packed_size_f32(Int32(rows), Int32(cols)))
        w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { rnnk_pack_f32(wp.baseAddress, Int32(rows), Int32(cols), $0.baseAddress) } }
        let frozen = packed
        await withTaskGroup(of: (Int, Int).self) { group in
            for caller in 0..<4 {
                group.addTask {
                    var g = SplitMix64(seed: UInt64(caller))
                    var (mismatches, ranOnTeam) = (0, 0)
                    for _ in 0..<300 {
                        let count = Int.random(in: 1...3, using: &g)
                        let x = (0..<count * cols).map { _ in Float.random(in: -1...1, using: &g) }
                        var serial = [Float](repeating: 0, count: count * rows), team = serial
                        frozen.withUnsafeBufferPointer { p in x.withUnsafeBufferPointer { xp in
                            serial.withUnsafeMutableBufferPointer {
                                rnnk_gemm_f32(p.baseAddress, Int32(rows), Int32(cols), xp.baseAddress, Int32(cols), $0.baseAddress, Int32(rows), Int32(count), 0, rnnk_panels_f32(Int32(rows)))
                            }
                            team.withUnsafeMutableBufferPointer { y in
                                if rnnk_team_gemm_f32(2, p.baseAddress, Int32(rows), Int32(cols), xp.baseAddress, Int32(cols), y.baseAddress, Int32(rows), Int32(count)) != 0 {
                                    ranOnTeam += 1
                                } else {
                                    rnnk_gemm_f32(p.baseAddress, Int32(rows), Int32(cols), xp.baseAddress, Int32(cols), y.baseAddress, Int32(rows), Int32(count), 0, rnnk_panels_f32(Int32(rows)))
                                }
                            }
                        } }
                        if serial != team { mismatches += 1 }
                    }
                    return (mismatches, ranOnTeam)
                }
            }
            var total = (mismatches: 0, ranOnTeam: 0)
            for await (m, r) in group { total = (total.mismatches + m, total.ranOnTeam + r) }
            #expect(total.mismatches == 0)
            #expect(total.ranOnTeam > 0, "the team ran some of the products")
        }
    }
}

extension KernelTests {
    /// Sums and products are correctly rounded, so every instruction set must give exactly
    /// the scalar result: out of place, in place on either operand, and for a destination
    /// that overlaps an operand shifted by a few elements (the kernels' scalar path).
    @Test(arguments: testedInstructionSets)
    func elementwiseSumsAndProductsAreExact(isa: rnnk_isa) {
        var g = SplitMix64(seed: 0xADD)
        for n in [0, 1, 7, 15, 16, 17, 31, 64, 100, 1000] {
            let a = (0..<n).map { _ in Float(Double.random(in: -10...10, using: &g)) }
            let b = (0..<n).map { _ in Float(Double.random(in: -10...10, using: &g)) }
            for (name, kernel, exact) in [("add", rnnk_add_f32_isa, { (x: Float, y: Float) in x + y }),
                                          ("mul", rnnk_mul_f32_isa, { (x: Float, y: Float) in x * y })] {
                let want = zip(a, b).map(exact)
                var y = [Float](repeating: .nan, count: n)
                a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { kernel(isa, ap.baseAddress, bp.baseAddress, $0.baseAddress, Int32(n)) }
                } }
                #expect(y == want, "\(name) n=\(n)")
                var inPlace = a
                b.withUnsafeBufferPointer { bp in
                    inPlace.withUnsafeMutableBufferPointer { kernel(isa, $0.baseAddress, bp.baseAddress, $0.baseAddress, Int32(n)) }
                }
                #expect(inPlace == want, "\(name) in place n=\(n)")
                // y = a shifted by 3: each element reads a value the loop may already have written.
                var shifted = a + [0, 0, 0]
                let scalar: [Float] = {
                    var s = shifted
                    for i in 0..<n { s[i + 3] = exact(s[i], b[i]) }
                    return s
                }()
                b.withUnsafeBufferPointer { bp in
                    shifted.withUnsafeMutableBufferPointer { kernel(isa, $0.baseAddress, bp.baseAddress, $0.baseAddress! + 3, Int32(n)) }
                }
                #expect(shifted == scalar, "\(name) overlapping n=\(n)")
            }
            let ad = a.map(Double.init), bd = b.map(Double.init)
            var yd = [Double](repeating: .nan, count: n)
            ad.withUnsafeBufferPointer { ap in bd.withUnsafeBufferPointer { bp in
                yd.withUnsafeMutableBufferPointer { rnnk_mul_f64_isa(isa, ap.baseAddress, bp.baseAddress, $0.baseAddress, Int32(n)) }
            } }
            #expect(yd == zip(ad, bd).map(*), "mul f64 n=\(n)")
            ad.withUnsafeBufferPointer { ap in bd.withUnsafeBufferPointer { bp in
                yd.withUnsafeMutableBufferPointer { rnnk_add_f64_isa(isa, ap.baseAddress, bp.baseAddress, $0.baseAddress, Int32(n)) }
            } }
            #expect(yd == zip(ad, bd).map(+), "add f64 n=\(n)")
        }
    }
}

extension KernelTests {
    /// Products by matrices whose rows hold at most `perRow` entries (missing ones as column
    /// -1) give, on every instruction set, exactly the plain loop's sums (in entry order,
    /// unfused, from +0), for every row range (vector bodies and scalar tails) and strided
    /// rows of x and y.
    @Test(arguments: testedInstructionSets)
    func entryMajorSparseProductsAreExact(isa: rnnk_isa) {
        var g = SplitMix64(seed: 0xE11)
        for (rows, cols, perRow) in [(1, 1, 1), (7, 3, 1), (24, 5, 2), (37, 40, 16), (100, 9, 3), (96, 64, 1)] {
            let (count, ldx, ldy) = (3, cols + 2, rows + 1)
            // About one entry in five missing (column -1), as a row shorter than the longest.
            let columns = (0..<rows * perRow).map { k -> Int32 in
                switch k / 8 % 3 {  // blocks of eight: tiles (consecutive columns), repeats, any
                case 0: return Int32((k / 8 + k % 8) % cols)
                case 1: return Int32(k / 8 % cols)
                default: return g.next() % 5 == 0 ? -1 : Int32(Int(g.next() % UInt64(cols)))
                }
            }
            let values = (0..<rows * perRow).map { _ in Double.random(in: -2...2, using: &g) }
            let x = (0..<count * ldx).map { _ in Double.random(in: -10...10, using: &g) }
            for (first, end) in [(0, rows), (rows / 3, rows - rows / 4)] {
                func plain<T: BinaryFloatingPoint>(_: T.Type) -> [T] {
                    var y = [T](repeating: -1, count: count * ldy)
                    for t in 0..<count {
                        for r in first..<end {
                            var acc: T = 0
                            for j in 0..<perRow where columns[j * rows + r] >= 0 {
                                let product = T(values[j * rows + r]) * T(x[t * ldx + Int(columns[j * rows + r])])
                                acc = acc + product
                            }
                            y[t * ldy + r] = acc
                        }
                    }
                    return y
                }
                var y32 = [Float](repeating: -1, count: count * ldy)
                let (v32, x32) = (values.map(Float.init), x.map(Float.init))
                rnnk_ell_f32_isa(isa, Int32(perRow), columns, v32, Int32(rows), Int32(first), Int32(end), x32, Int32(ldx), &y32, Int32(ldy), Int32(count))
                #expect(y32 == plain(Float.self), "float rows=\(rows) perRow=\(perRow) \(first)..<\(end)")
                var y64 = [Double](repeating: -1, count: count * ldy)
                rnnk_ell_f64_isa(isa, Int32(perRow), columns, values, Int32(rows), Int32(first), Int32(end), x, Int32(ldx), &y64, Int32(ldy), Int32(count))
                #expect(y64 == plain(Double.self), "double rows=\(rows) perRow=\(perRow) \(first)..<\(end)")
            }
        }
    }

    /// Weight memory: small blocks from malloc, blocks of 4 MiB and more mappings of their own
    /// aligned to 2 MiB (huge pages on Linux); every byte writable and kept until freed.
    @Test(arguments: [1, 4096, (4 << 20) - 1, 4 << 20, (9 << 20) + 123])
    func weightMemoryHoldsWhatIsWritten(bytes: Int) throws {
        let p = try #require(rnnk_alloc_weights(bytes))
        defer { rnnk_free_weights(p, bytes) }
        if bytes >= 4 << 20 { #expect(Int(bitPattern: p) % (2 << 20) == 0) }
        let b = p.bindMemory(to: UInt8.self, capacity: bytes)
        for i in stride(from: 0, to: bytes, by: 4093) { b[i] = UInt8(truncatingIfNeeded: i) }
        b[bytes - 1] = 7
        #expect(stride(from: 0, to: bytes - 1, by: 4093).allSatisfy { b[$0] == UInt8(truncatingIfNeeded: $0) })
        #expect(b[bytes - 1] == 7)
    }
}
