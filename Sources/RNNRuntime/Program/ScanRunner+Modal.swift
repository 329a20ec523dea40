import Foundation

/// The scan of a dense affine recurrence diagonalized at compile time (`ScanPlan.Modes`).
extension ScanRunner {
    /// `s_t = A s_{t-1} + b_t` with `A = P D P⁻¹`, for every sequence of the run:
    /// 1. rows `[s_0, b_0, ..., b_{T-2}]` of each sequence times `P⁻¹` (one product over all
    ///    rows) give `[z_0, c_0, ..., c_{T-2}]`;
    /// 2. in place, `z_t = D z_{t-1} + c_{t-1}` mode by mode, modes split over the cores;
    /// 3. `s_t = P z_t` (one product) fills the state rows `1 ..< T` (row 0 stays exact).
    func modalRecurrence(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) {
        let modes = r.modes!
        let sizes = stateSlots.map { program.slotSizes[$0] }
        let width = sizes.reduce(0, +)
        let (rows, steps) = (b.rows, b.steps)
        guard steps > 1 else { return }
        let terms = UnsafeMutablePointer<Scalar>.allocate(capacity: rows * width)
        let modal = UnsafeMutablePointer<Scalar>.allocate(capacity: rows * width)
        defer { terms.deallocate(); modal.deallocate() }
        var at = 0
        for (slot, n) in zip(stateSlots, sizes) {
            for q in 0..<b.batch { (terms + q * steps * width + at).update(from: b.row(slot, q * steps), count: n) }
            at += n
        }
        withOffsetTerms(r, b, stateSlots: stateSlots) {
            var at = 0
            for (next, n) in zip(r.nextSlots, sizes) {
                for row in 0..<rows where (row + 1) % steps != 0 {
                    (terms + (row + 1) * width + at).update(from: b.row(next, row), count: n)
                }
                at += n
            }
        }
        matrices[modes.inverse].apply(terms, modal, count: rows, threads: b.threads)
        scanModes(modes, modal, width: width, steps: steps, sequences: b.batch, threads: b.threads)
        matrices[modes.basis].apply(modal, terms, count: rows, threads: b.threads)
        at = 0
        for (slot, n) in zip(stateSlots, sizes) {
            for row in 0..<rows where row % steps != 0 {
                b.row(slot, row).update(from: terms + row * width + at, count: n)
            }
            at += n
        }
    }

    /// `z_t = D z_{t-1} + z_t` for `t = 1 ..< steps` of each sequence, in place. A core takes a
    /// range of modes that never splits a complex pair (both read each other's previous value).
    private func scanModes(_ modes: ScanPlan.Modes, _ z: UnsafeMutablePointer<Scalar>, width: Int, steps: Int, sequences: Int, threads: Int) {
        let partner = modes.partners()!  // checked by `ScanPlan.validate`
        let re = modes.real.map { Scalar($0) }, im = modes.imaginary.map { Scalar($0) }
        let cores = width >= 32 && steps * width >= 1 << 16 ? min(threads, Parallel.cores) : 1
        let bounds = (0...cores).map { k in
            let at = k * width / cores
            return at < width && partner[at] == at - 1 ? at + 1 : at
        }
        let base = UncheckedSendable(z)
        DispatchQueue.concurrentPerform(iterations: cores) { k in
            let (lo, hi) = (bounds[k], bounds[k + 1])
            guard lo < hi else { return }
            re.withUnsafeBufferPointer { re in im.withUnsafeBufferPointer { im in partner.withUnsafeBufferPointer { partner in
                for q in 0..<sequences {
                    var previous = base.value + q * steps * width
                    for _ in 1..<steps {
                        let current = previous + width
                        for j in lo..<hi { current[j] += re[j] * previous[j] + im[j] * previous[partner[j]] }
                        previous = current
                    }
                }
            } } }
        }
    }
}
