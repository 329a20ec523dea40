import Foundation

/// Runs a step program over whole sequences following a `ScanPlan`: state-independent work
/// over all time steps at once, scan-able recurrences as associative scans, and the rest
/// step by step. Produces the same outputs as `StepSession` (up to rounding).
/// Immutable after creation; `run` allocates its own buffers, so one runner serves many threads.
public final class ScanRunner<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    public let program: StepProgram
    public let plan: ScanPlan
    private let matrices: [ConvertedMatrix<Scalar>]
    private let vectors: [[Scalar]]

    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public init(program: StepProgram, plan: ScanPlan) throws(RuntimeError) {
        try program.validate()
        try plan.validate(against: program)
        self.program = program
        self.plan = plan
        matrices = program.matrices.map { ConvertedMatrix<Scalar>($0) }
        vectors = program.vectors.map { $0.map { Scalar($0) } }
    }

    /// Slot buffers for `batch` sequences of `steps` tokens: `[batch, steps, size]` each,
    /// row-major, so row `b * steps + t` holds sequence `b` at step `t`.
    struct Buffers {
        var slots: [UnsafeMutablePointer<Scalar>]
        let steps: Int
        let batch: Int
        let capacity: Int
        let sizes: [Int]

        var rows: Int { steps * batch }

        func resized(steps: Int, batch: Int) -> Buffers {
            Buffers(slots: slots, steps: steps, batch: batch, capacity: capacity, sizes: sizes)
        }

        private init(slots: [UnsafeMutablePointer<Scalar>], steps: Int, batch: Int, capacity: Int, sizes: [Int]) {
            (self.slots, self.steps, self.batch, self.capacity, self.sizes) = (slots, steps, batch, capacity, sizes)
        }

        init(sizes: [Int], steps: Int, batch: Int) {
            (self.steps, self.batch, self.capacity, self.sizes) = (steps, batch, steps * batch, sizes)
            // Not zeroed: every row of a slot is written before it is read (inputs, constants
            // and initial states up front, the rest by the stages).
            slots = sizes.map { UnsafeMutablePointer<Scalar>.allocate(capacity: max(1, $0 * steps * batch)) }
        }

        func free() { for p in slots { p.deallocate() } }
    }

    /// Runs one sequence from the initial states; returns one output vector per token.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func run(_ sequence: [[Double]], workspace: Workspace = Workspace()) throws(RuntimeError) -> [[Double]] {
        try run(batch: [sequence], workspace: workspace)[0]
    }

    /// Runs sequences of equal length in lockstep (state-independent work as one product over
    /// all of them, each recurrence step as one product over the batch); each sequence starts
    /// from the initial states. Returns one output vector per token of each sequence.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func run(batch sequences: [[[Double]]], workspace: Workspace = Workspace()) throws(RuntimeError) -> [[[Double]]] {
        let width = program.inputWidth
        let steps = sequences.first?.count ?? 0
        guard sequences.allSatisfy({ $0.count == steps }) else {
            throw .inputMismatch("sequences run in lockstep must have equal lengths")
        }
        var flats: [[Scalar]] = []
        for sequence in sequences {
            for token in sequence where token.count != width {
                throw .inputMismatch("token has \(token.count) values, the model's input has \(width)")
            }
            var flat = [Scalar]()
            flat.reserveCapacity(steps * width)
            for token in sequence { for v in token { flat.append(Scalar(v)) } }
            flats.append(flat)
        }
        let n = program.outputWidth
        return run(flat: flats, steps: steps, workspace: workspace).map { out in
            (0..<steps).map { t in (0..<n).map { Double(out[t * n + $0]) } }
        }
    }

    /// Memory for runs of up to a number of rows (tokens times sequences), kept between runs
    /// so repeated runs do not pay for fresh pages. Use one workspace per thread.
    public final class Workspace: @unchecked Sendable {
        fileprivate var buffers: Buffers?

        public init() {}

        deinit { buffers?.free() }

        fileprivate func buffers(sizes: [Int], steps: Int, batch: Int) -> Buffers {
            if let b = buffers, b.capacity >= steps * batch, b.sizes == sizes { return b.resized(steps: steps, batch: batch) }
            buffers?.free()
            let b = Buffers(sizes: sizes, steps: steps, batch: batch)
            buffers = b
            return b
        }
    }

    /// Runs one sequence given as `steps` tokens back to back (`[T, inputWidth]`, row-major);
    /// returns the outputs the same way (`[T, outputWidth]`). Pass a `workspace` to reuse
    /// memory across runs.
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func run(flat tokens: [Scalar], steps: Int, workspace: Workspace = Workspace()) -> [Scalar] {
        run(flat: [tokens], steps: steps, workspace: workspace)[0]
    }

    /// Runs several sequences of `steps` tokens each in lockstep (see `run(batch:workspace:)`).
    @_specialize(exported: true, where Scalar == Float)
    @_specialize(exported: true, where Scalar == Double)
    public func run(flat sequences: [[Scalar]], steps: Int, workspace: Workspace = Workspace()) -> [[Scalar]] {
        let width = program.inputWidth
        for tokens in sequences { precondition(tokens.count == steps * width, "expected \(steps) tokens of \(width) values") }
        let batch = sequences.count
        guard steps > 0, batch > 0 else { return sequences.map { _ in [] } }
        let sizes = program.slotSizes
        let b = workspace.buffers(sizes: sizes, steps: steps, batch: batch)
        for (q, tokens) in sequences.enumerated() {
            var k = 0
            tokens.withUnsafeBufferPointer { x in
                for slot in program.inputSlots {
                    let n = sizes[slot]
                    let dst = b.slots[slot] + q * steps * n
                    for t in 0..<steps { (dst + t * n).update(from: x.baseAddress! + t * width + k, count: n) }
                    k += n
                }
            }
        }
        for c in program.constants {
            let v = vectors[c.vector]
            for row in 0..<b.rows { for i in 0..<v.count { b.slots[c.slot][row * v.count + i] = v[i] } }
        }
        for state in program.states {
            let v = vectors[state.initial]
            for q in 0..<batch { for i in 0..<v.count { b.slots[state.slot][q * steps * v.count + i] = v[i] } }
        }
        for stage in plan.stages {
            switch stage {
            case .batched(let list): for i in list { execute(program.instructions[i], b, rows: 0..<b.rows) }
            case .recurrence(let r): solve(r, b)
            }
        }
        let n = program.outputWidth
        return (0..<batch).map { q in
            var out = [Scalar](repeating: 0, count: steps * n)
            out.withUnsafeMutableBufferPointer { y in
                var at = 0
                for slot in program.outputSlots {
                    let m = sizes[slot]
                    let src = b.slots[slot] + q * steps * m
                    for t in 0..<steps { (y.baseAddress! + t * n + at).update(from: src + t * m, count: m) }
                    at += m
                }
            }
            return out
        }
    }

    // MARK: Instructions over rows

    func execute(_ ins: Instruction, _ b: Buffers, rows: Range<Int>) {
        let sizes = program.slotSizes
        let count = rows.count
        switch ins {
        case .affine(let dst, let src, let m, let bias):
            let (n, w) = (sizes[src], sizes[dst])
            let y = b.slots[dst] + rows.lowerBound * w
            matrices[m].apply(b.slots[src] + rows.lowerBound * n, y, count: count)
            if let bias {
                let v = vectors[bias]
                for t in 0..<count { for i in 0..<w { y[t * w + i] += v[i] } }
            }
        case .add(let dst, let l, let r):
            let n = sizes[dst], o = rows.lowerBound * n
            let (d, x, y) = (b.slots[dst] + o, b.slots[l] + o, b.slots[r] + o)
            for i in 0..<(count * n) { d[i] = x[i] + y[i] }
        case .mul(let dst, let l, let r):
            let n = sizes[dst], o = rows.lowerBound * n
            let (d, x, y) = (b.slots[dst] + o, b.slots[l] + o, b.slots[r] + o)
            for i in 0..<(count * n) { d[i] = x[i] * y[i] }
        case .concat(let dst, let parts):
            let n = sizes[dst]
            for t in rows {
                var at = 0
                for p in parts {
                    let m = sizes[p]
                    (b.slots[dst] + t * n + at).update(from: b.slots[p] + t * m, count: m)
                    at += m
                }
            }
        case .slice(let dst, let src, let start):
            let (n, m) = (sizes[dst], sizes[src])
            for t in rows { (b.slots[dst] + t * n).update(from: b.slots[src] + t * m + start, count: n) }
        case .affineActivation(let f, let dst, let src, let m, let bias):
            execute(.affine(dst: dst, src: src, matrix: m, bias: bias), b, rows: rows)
            let n = sizes[dst], o = rows.lowerBound * n
            Kernels.activate(f, b.slots[dst] + o, b.slots[dst] + o, count: count * n)
        case .activation(let f, let dst, let src):
            let n = sizes[dst], o = rows.lowerBound * n
            Kernels.activate(f, b.slots[src] + o, b.slots[dst] + o, count: count * n)
        }
    }

    // MARK: Recurrences

    private func solve(_ r: ScanPlan.Recurrence, _ b: Buffers) {
        let steps = b.steps
        let stateSlots = r.states.map { program.states[$0].slot }
        switch r.kind {
        case .sequential:
            for t in 0..<steps {
                for i in r.instructions { executeLockstep(program.instructions[i], b, step: t) }
                guard t + 1 < steps else { break }
                for (slot, next) in zip(stateSlots, r.nextSlots) {
                    let n = program.slotSizes[slot]
                    for q in 0..<b.batch {
                        let row = q * steps + t
                        (b.slots[slot] + (row + 1) * n).update(from: b.slots[next] + row * n, count: n)
                    }
                }
            }
            return
        case .diagonal:
            if solveDirectly(r, b, stateSlot: stateSlots[0]) { return }
            let offsets = offsetTerms(r, b, stateSlots: stateSlots)
            let coefficients = coefficientTerms(r, b, stateSlots: stateSlots)
            for (k, slot) in stateSlots.enumerated() {
                let n = program.slotSizes[slot]
                for q in 0..<b.batch {
                    let o = q * steps * n
                    coefficients[k].withUnsafeBufferPointer { a in offsets[k].withUnsafeBufferPointer { v in
                        DiagonalScan.run(a: a.baseAddress! + o, b: v.baseAddress! + o, state: b.slots[slot] + o, width: n, steps: steps)
                    } }
                }
            }
        case .affine:
            let offsets = offsetTerms(r, b, stateSlots: stateSlots)
            for q in 0..<b.batch { affineRecurrence(r, b, stateSlots: stateSlots, offsets: offsets, sequence: q) }
        }
        // With every state row known, the cycle's own values follow without recurrence.
        for i in r.instructions { execute(program.instructions[i], b, rows: 0..<b.rows) }
    }

    /// Runs one instruction at step `t` of every sequence of the batch: rows `q * steps + t`.
    /// Affine maps become one product over the batch's rows.
    private func executeLockstep(_ ins: Instruction, _ b: Buffers, step t: Int) {
        guard b.batch > 1 else { return execute(ins, b, rows: t..<(t + 1)) }
        let sizes = program.slotSizes
        switch ins {
        case .affine(let dst, let src, let m, let bias), .affineActivation(_, let dst, let src, let m, let bias):
            let (n, w) = (sizes[src], sizes[dst])
            let y = b.slots[dst] + t * w
            matrices[m].apply(b.slots[src] + t * n, y, count: b.batch, ldx: b.steps * n, ldy: b.steps * w)
            for q in 0..<b.batch {
                let yq = y + q * b.steps * w
                if let bias { vectors[bias].withUnsafeBufferPointer { v in for i in 0..<w { yq[i] += v[i] } } }
                if case .affineActivation(let f, _, _, _, _) = ins { Kernels.activate(f, yq, yq, count: w) }
            }
        default:
            for q in 0..<b.batch { execute(ins, b, rows: (q * b.steps + t)..<(q * b.steps + t + 1)) }
        }
    }

    /// The common shapes of a one-state diagonal recurrence, scanned straight from the slots
    /// that hold `a_t` and `b_t`: `next = u * s + v` (`p = u * s` kept too) and `next = s + v`.
    /// Writes every row of the cycle's slots, so no recomputation follows. Channels are split
    /// over the cores.
    private func solveDirectly(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlot s: Int) -> Bool {
        guard r.states.count == 1 else { return false }
        let ins = r.instructions.map { program.instructions[$0] }
        var u: Int?, product: Int?, v: Int, next: Int
        switch ins.count {
        case 1:
            guard case .add(let n, let l, let rr) = ins[0], (l == s) != (rr == s) else { return false }
            (next, v) = (n, l == s ? rr : l)
        case 2:
            guard case .mul(let p, let ml, let mr) = ins[0], (ml == s) != (mr == s),
                  case .add(let n, let al, let ar) = ins[1], (al == p) != (ar == p) else { return false }
            (u, product, next, v) = (ml == s ? mr : ml, p, n, al == p ? ar : al)
            guard v != s, v != p, u != p else { return false }
        default: return false
        }
        guard v != s, next == r.nextSlots[0] else { return false }
        let (width, steps) = (program.slotSizes[s], b.steps)
        for q in 0..<b.batch {
            let o = q * steps * width
            scanDirectly(state: b.slots[s] + o, next: b.slots[next] + o, coefficient: u.map { b.slots[$0] + o },
                         offset: b.slots[v] + o, product: product.map { b.slots[$0] + o }, width: width, steps: steps)
        }
        return true
    }

    /// `next_t = u_t * s_t + v_t` (`product_t = u_t * s_t`), `s_{t+1} = next_t`, for one sequence.
    private func scanDirectly(state stateRows: UnsafeMutablePointer<Scalar>, next nextPointer: UnsafeMutablePointer<Scalar>,
                              coefficient: UnsafeMutablePointer<Scalar>?, offset: UnsafeMutablePointer<Scalar>,
                              product productPointer: UnsafeMutablePointer<Scalar>?, width: Int, steps: Int) {
        let state = UInt(bitPattern: stateRows), nextRows = UInt(bitPattern: nextPointer)
        let a = coefficient.map { UInt(bitPattern: $0) }, bias = UInt(bitPattern: offset)
        let prod = productPointer.map { UInt(bitPattern: $0) }
        let cores = width >= 64 && steps * width >= 1 << 16 ? Parallel.cores : 1
        let chunk = (width + cores - 1) / cores
        DispatchQueue.concurrentPerform(iterations: cores) { k in
            let lo = k * chunk, hi = min(width, lo + chunk)
            guard lo < hi else { return }
            let st = UnsafeMutablePointer<Scalar>(bitPattern: state)!, nx = UnsafeMutablePointer<Scalar>(bitPattern: nextRows)!
            let vb = UnsafeMutablePointer<Scalar>(bitPattern: bias)!
            let ua = a.map { UnsafeMutablePointer<Scalar>(bitPattern: $0)! }, pr = prod.map { UnsafeMutablePointer<Scalar>(bitPattern: $0)! }
            for t in 0..<steps {
                let row = t * width
                let out = t + 1 < steps ? st + row + width : nx + row  // the last row has no successor
                if let ua, let pr {
                    for i in lo..<hi {
                        let value = ua[row + i] * st[row + i]
                        pr[row + i] = value
                        let sum = value + vb[row + i]
                        nx[row + i] = sum
                        out[i] = sum
                    }
                } else {
                    for i in lo..<hi {
                        let sum = st[row + i] + vb[row + i]
                        nx[row + i] = sum
                        out[i] = sum
                    }
                }
            }
        }
    }

    /// `b_t` of each state: the cycle evaluated over all steps with the group's states at 0.
    private func offsetTerms(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) -> [[Scalar]] {
        let steps = b.rows  // every row of every sequence: these passes are row-wise
        var saved: [[Scalar]] = []
        for slot in stateSlots {
            let n = program.slotSizes[slot] * steps
            saved.append(Array(UnsafeBufferPointer(start: b.slots[slot], count: n)))
            b.slots[slot].update(repeating: 0, count: n)
        }
        for i in r.instructions { execute(program.instructions[i], b, rows: 0..<steps) }
        let terms = r.nextSlots.map { Array(UnsafeBufferPointer(start: b.slots[$0], count: program.slotSizes[$0] * steps)) }
        for (slot, values) in zip(stateSlots, saved) {
            values.withUnsafeBufferPointer { b.slots[slot].update(from: $0.baseAddress!, count: values.count) }
        }
        return terms
    }

    /// `a_t` of each state: the coefficient of the state in its next value, propagated through
    /// the cycle (affine maps without bias, sums of the dependent parts, gates scaled by their
    /// independent operand). The analysis guarantees no other op touches the state.
    private func coefficientTerms(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int]) -> [[Scalar]] {
        let steps = b.rows  // every row of every sequence: these passes are row-wise
        let sizes = program.slotSizes
        var coef: [Int: [Scalar]] = [:]
        for slot in stateSlots { coef[slot] = [Scalar](repeating: 1, count: sizes[slot] * steps) }
        func values(_ slot: Int) -> [Scalar] { Array(UnsafeBufferPointer(start: b.slots[slot], count: sizes[slot] * steps)) }
        for i in r.instructions {
            switch program.instructions[i] {
            case .affine(let dst, let src, let m, _):
                guard let c = coef[src] else { continue }
                var out = [Scalar](repeating: 0, count: sizes[dst] * steps)
                c.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { y in matrices[m].apply(x.baseAddress!, y.baseAddress!, count: steps) } }
                coef[dst] = out
            case .add(let dst, let l, let rr):
                let zero = [Scalar](repeating: 0, count: sizes[dst] * steps)
                guard coef[l] != nil || coef[rr] != nil else { continue }
                coef[dst] = zip(coef[l] ?? zero, coef[rr] ?? zero).map(+)
            case .mul(let dst, let l, let rr):
                switch (coef[l], coef[rr]) {
                case (let c?, nil): coef[dst] = zip(c, values(rr)).map(*)
                case (nil, let c?): coef[dst] = zip(values(l), c).map(*)
                case (nil, nil): continue
                default: continue  // rejected by `ScanPlan.validate`
                }
            case .concat(let dst, let parts):
                guard parts.contains(where: { coef[$0] != nil }) else { continue }
                var out = [Scalar](repeating: 0, count: sizes[dst] * steps)
                for t in 0..<steps {
                    var at = t * sizes[dst]
                    for p in parts {
                        if let c = coef[p] { for j in 0..<sizes[p] { out[at + j] = c[t * sizes[p] + j] } }
                        at += sizes[p]
                    }
                }
                coef[dst] = out
            case .slice(let dst, let src, let start):
                guard let c = coef[src] else { continue }
                let (n, m) = (sizes[dst], sizes[src])
                coef[dst] = (0..<(n * steps)).map { c[($0 / n) * m + start + $0 % n] }
            case .activation, .affineActivation:
                continue  // rejected by `ScanPlan.validate` on state-dependent operands
            }
        }
        return r.nextSlots.map { coef[$0] ?? [Scalar](repeating: 0, count: sizes[$0] * steps) }
    }

    /// `s_t = A s_{t-1} + b_t` over the group's concatenated state, one matrix-vector product a step.
    private func affineRecurrence(_ r: ScanPlan.Recurrence, _ b: Buffers, stateSlots: [Int], offsets: [[Scalar]], sequence q: Int) {
        let sizes = stateSlots.map { program.slotSizes[$0] }
        let width = sizes.reduce(0, +)
        let first = q * b.steps  // this sequence's first row
        var current = [Scalar](repeating: 0, count: width), next = current
        var at = 0
        for (slot, n) in zip(stateSlots, sizes) {
            for i in 0..<n { current[at + i] = b.slots[slot][first * n + i] }
            at += n
        }
        let a = matrices[r.transition!]
        for t in 0..<(b.steps - 1) {
            current.withUnsafeBufferPointer { x in next.withUnsafeMutableBufferPointer { y in a.apply(x.baseAddress!, y.baseAddress!, count: 1) } }
            at = 0
            for (k, (slot, n)) in zip(stateSlots, sizes).enumerated() {
                let row = first + t
                for i in 0..<n {
                    next[at + i] += offsets[k][row * n + i]
                    b.slots[slot][(row + 1) * n + i] = next[at + i]
                }
                at += n
            }
            swap(&current, &next)
        }
    }
}
