import Dispatch

/// `s_{t+1} = a_t * s_t + b_t` element-wise over `steps` rows of `width`, in place: row 0 of
/// `state` holds the initial value; rows 1..<steps are written.
///
/// Long scans run in two passes over chunks of time, one chunk per core: each chunk first
/// scans from zero while accumulating the product of its `a_t`; then, chunk by chunk, the
/// true state entering the chunk is known and each chunk adds `prod(a) * entering state`
/// to its rows (the composition rule of the associative scan).
enum DiagonalScan {
    /// Rows times width below which one thread scans everything.
    static let parallelElements = 1 << 15

    static func run<Scalar: BinaryFloatingPoint & Sendable>(a: UnsafePointer<Scalar>, b: UnsafePointer<Scalar>, state: UnsafeMutablePointer<Scalar>, width n: Int, steps: Int, threads: Int) {
        guard steps > 1 else { return }
        let transitions = steps - 1  // rows 1..<steps are produced
        let cores = min(threads, Parallel.cores)
        guard cores > 1, transitions * n >= parallelElements, transitions >= 2 * cores else {
            sequential(a, b, state, n, from: 0, to: transitions)
            return
        }
        let chunk = (transitions + cores - 1) / cores
        let base = UInt(bitPattern: state)
        // Per chunk: the product of its coefficients, and its scan started from zero.
        let products = UnsafeMutablePointer<Scalar>.allocate(capacity: cores * n)
        defer { products.deallocate() }
        let pbase = UInt(bitPattern: products)
        do {
            let (abase, bbase) = (UInt(bitPattern: a), UInt(bitPattern: b))
            DispatchQueue.concurrentPerform(iterations: cores) { k in
                let (lo, hi) = (k * chunk, min(transitions, (k + 1) * chunk))
                guard lo < hi else { return }
                let st = UnsafeMutablePointer<Scalar>(bitPattern: base)!, prod = UnsafeMutablePointer<Scalar>(bitPattern: pbase)! + k * n
                let av = UnsafePointer<Scalar>(bitPattern: abase)!, bv = UnsafePointer<Scalar>(bitPattern: bbase)!
                for i in 0..<n { prod[i] = 1 }
                for t in lo..<hi {
                    let out = st + (t + 1) * n, prev = st + t * n
                    for i in 0..<n {
                        let previous = t == lo && k > 0 ? 0 : prev[i]  // chunks after the first start from zero
                        out[i] = av[t * n + i] * previous + bv[t * n + i]
                        prod[i] *= av[t * n + i]
                    }
                }
            }
            // Between the passes: the true state entering each chunk, chunk by chunk (cheap).
            var carries = [[Scalar]](repeating: [], count: cores)
            carries[0] = Array(UnsafeBufferPointer(start: state, count: n))
            for k in 1..<cores where k * chunk < transitions {
                let localEnd = state + k * chunk * n  // the last row written by chunk k - 1
                let previous = carries[k - 1], prod = products + (k - 1) * n
                carries[k] = (0..<n).map { i in k == 1 ? localEnd[i] : localEnd[i] + prod[i] * previous[i] }
            }
            // Second pass, in parallel: each later chunk adds prod(a up to t) * entering state.
            carries.withUnsafeBufferPointer { cp in
                let cbase = UInt(bitPattern: cp.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: cores - 1) { j in
                    let k = j + 1
                    let (lo, hi) = (k * chunk, min(transitions, (k + 1) * chunk))
                    guard lo < hi else { return }
                    let st = UnsafeMutablePointer<Scalar>(bitPattern: base)!, av = UnsafePointer<Scalar>(bitPattern: abase)!
                    let entering = UnsafePointer<[Scalar]>(bitPattern: cbase)![k]
                    var running = [Scalar](repeating: 1, count: n)
                    for t in lo..<hi {
                        let out = st + (t + 1) * n
                        for i in 0..<n {
                            running[i] *= av[t * n + i]
                            out[i] += running[i] * entering[i]
                        }
                    }
                }
            }
        }
    }

    private static func sequential<Scalar: BinaryFloatingPoint>(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, _ state: UnsafeMutablePointer<Scalar>, _ n: Int, from lo: Int, to hi: Int) {
        for t in lo..<hi {
            let (s0, s1) = (state + t * n, state + (t + 1) * n)
            for i in 0..<n { s1[i] = a[t * n + i] * s0[i] + b[t * n + i] }
        }
    }
}
