import Foundation

/// A one-state diagonal recurrence scanned straight from the slots holding `a_t` and `b_t`
/// (`ScanPlan.Direct`): no offset or coefficient pass, and only the rows something reads are
/// written. Channels are split over the cores.
extension ScanRunner {
    func solveDirectly(_ d: ScanPlan.Direct, _ r: ScanPlan.Recurrence, _ b: Buffers) {
        let s = program.states[r.states[0]].slot
        let next = r.nextSlots[0]
        for q in 0..<b.batch {
            let first = q * b.steps
            func rows(_ slot: Int) -> Rows { Rows(base: UInt(bitPattern: b.row(slot, first)), ld: b.ld[slot]) }
            scanDirectly(state: rows(s), writesState: d.writesState || b.keepsStateRows, next: d.writesNext ? rows(next) : nil,
                         coefficient: d.coefficient.map(rows), offset: rows(d.offset), product: d.product.map(rows),
                         width: program.slotSizes[s], steps: b.steps, threads: b.threads)
        }
    }

    /// A slot's rows for one sequence, as an address (to cross into worker threads) and a stride.
    struct Rows {
        let base: UInt
        let ld: Int
        func row(_ t: Int) -> UnsafeMutablePointer<Scalar> { UnsafeMutablePointer<Scalar>(bitPattern: base)! + t * ld }
    }

    /// `h = u_t * h + v_t` (or `h + v_t`) from row 0 of `state`, for one sequence: writes the
    /// state's rows 1..<steps when `writesState`, each step's new value to `next`, and
    /// `u_t * h` to `product`, when given.
    private func scanDirectly(state: Rows, writesState: Bool, next: Rows?, coefficient: Rows?, offset: Rows,
                              product: Rows?, width: Int, steps: Int, threads: Int) {
        let cores = width >= 64 && steps * width >= 1 << 16 ? min(threads, Parallel.cores) : 1
        let chunk = (width + cores - 1) / cores
        DispatchQueue.concurrentPerform(iterations: cores) { k in
            let lo = k * chunk, hi = min(width, lo + chunk)
            guard lo < hi else { return }
            let h = UnsafeMutablePointer<Scalar>.allocate(capacity: hi - lo)
            defer { h.deallocate() }
            h.update(from: state.row(0) + lo, count: hi - lo)
            for t in 0..<steps {
                let vb = offset.row(t) + lo
                if let coefficient {
                    let ua = coefficient.row(t) + lo
                    if let product {
                        let pr = product.row(t) + lo
                        for i in 0..<(hi - lo) { let p = ua[i] * h[i]; pr[i] = p; h[i] = p + vb[i] }
                    } else {
                        for i in 0..<(hi - lo) { h[i] = ua[i] * h[i] + vb[i] }
                    }
                } else {
                    for i in 0..<(hi - lo) { h[i] += vb[i] }
                }
                if let next { (next.row(t) + lo).update(from: h, count: hi - lo) }
                if writesState, t + 1 < steps { (state.row(t + 1) + lo).update(from: h, count: hi - lo) }
            }
        }
    }
}
