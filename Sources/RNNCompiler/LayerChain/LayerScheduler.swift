import RNNRuntime

/// Orders a `ChainGraph` into layers: each stage is an affine layer that lays out the
/// inputs of a batch of nodes of one kind in front, followed by the batch's layer, with
/// every value still needed passed through behind. Which kind goes next is chosen to keep
/// the fewest lanes alive (values die as soon as their last reader has run), which is what
/// keeps the chain narrow: a register allocation over the program's values.
struct LayerScheduler {
    let graph: ChainGraph
    /// For each lane, its atom.
    let atomOfLane: [Int]
    /// Readers of each atom not yet scheduled; atoms the outputs read get one more that
    /// never goes.
    var remaining: [Int]
    /// For each node, the atoms it reads.
    let reads: [[Int]]
    /// For each node, how many of the atoms it reads are not made yet; the nodes that read
    /// each atom; the nodes whose atoms are all made, by kind, in node order.
    var waiting: [Int]
    let readers: [[Int]]
    var ready: [ChainGraph.Node.Kind: [Int]] = [:]
    /// The atoms in lane order, as the last layer put them out.
    var layout: [Int]
    var layers: [LayerChain.Layer] = []

    static func schedule(_ graph: ChainGraph, modelName: String, inputWidth: Int) throws(LayerChainError) -> LayerChain {
        var s = LayerScheduler(graph)
        try s.run()
        return LayerChain(modelName: modelName, inputWidth: inputWidth, layers: s.layers)
    }

    private init(_ graph: ChainGraph) {
        self.graph = graph
        var atomOfLane = [Int](repeating: 0, count: graph.lanes)
        for (a, atom) in graph.atoms.enumerated() {
            for l in atom.first..<(atom.first + atom.width) { atomOfLane[l] = a }
        }
        self.atomOfLane = atomOfLane
        func atoms(_ forms: [LinearForm]) -> [Int] {
            Array(Set(forms.flatMap { $0.lanesRead.map { atomOfLane[$0] } })).sorted()
        }
        reads = graph.nodes.map { atoms($0.inputs) }
        remaining = [Int](repeating: 0, count: graph.atoms.count)
        for r in reads { for a in r { remaining[a] += 1 } }
        for a in atoms([graph.outputs]) { remaining[a] += 1 }
        waiting = reads.map(\.count)
        var readers = [[Int]](repeating: [], count: graph.atoms.count)
        for (n, r) in reads.enumerated() { for a in r { readers[a].append(n) } }
        self.readers = readers
        layout = graph.atoms[0].width > 0 ? [0] : []
        for (n, count) in waiting.enumerated() where count == 0 { ready[graph.nodes[n].kind, default: []].append(n) }
        makeAvailable([0])
    }

    /// Atoms made: their readers wait for one fewer.
    private mutating func makeAvailable(_ atoms: [Int]) {
        for a in atoms {
            for n in readers[a] {
                waiting[n] -= 1
                if waiting[n] == 0 { ready[graph.nodes[n].kind, default: []].append(n) }
            }
        }
    }

    private func width(_ atoms: [Int]) -> Int { atoms.reduce(0) { $0 + graph.atoms[$1].width } }

    /// The atoms a node makes (a state layer's previous value only when something reads it).
    private func made(by n: Int) -> [Int] {
        let node = graph.nodes[n]
        guard let previous = node.previous, remaining[previous] > 0 else { return [node.output] }
        return [node.output, previous]
    }

    private mutating func run() throws(LayerChainError) {
        var left = graph.nodes.count
        while left > 0 {
            var best: (kind: ChainGraph.Node.Kind, batch: [Int], width: Int)?
            for (kind, batch) in ready where !batch.isEmpty {
                let batch = batch.sorted()
                let after = widthAfter(batch)
                if best == nil || after < best!.width || (after == best!.width && (batch.count, -batch[0]) > (best!.batch.count, -best!.batch[0])) {
                    best = (kind, batch, after)
                }
            }
            guard let (kind, batch, _) = best else { throw .unsupported("internal: the program's layers wait on each other") }
            ready[kind] = []
            try stage(batch)
            left -= batch.count
        }
        try finish()
    }

    /// Lanes alive after running `batch`: what it makes, and what is still read later.
    private func widthAfter(_ batch: [Int]) -> Int {
        var left = remaining
        for n in batch { for a in reads[n] { left[a] -= 1 } }
        let passed = layout.filter { left[$0] > 0 }
        return width(passed) + batch.reduce(0) { $0 + width(made(by: $1)) }
    }

    /// One affine layer and one layer of the batch's kind.
    private mutating func stage(_ batch: [Int]) throws(LayerChainError) {
        for n in batch { for a in reads[n] { remaining[a] -= 1 } }
        let passed = layout.filter { remaining[$0] > 0 }
        let nodes = batch.map { graph.nodes[$0] }
        var front: [LinearForm]
        var made: [Int] = []
        switch nodes[0].kind {
        case .affine, .unary:
            front = nodes.map { $0.inputs[0] }
            made = nodes.map(\.output)
        case .binary:
            front = nodes.map { $0.inputs[0] } + nodes.map { $0.inputs[1] }
            made = nodes.map(\.output)
        case .state:
            front = []
            for n in batch {
                let out = self.made(by: n)
                front.append(graph.nodes[n].inputs[0])
                if out.count == 2 { front.append(.constant([Double](repeating: 0, count: graph.atoms[out[1]].width))) }
                made += out
            }
        }
        let frontWidth = front.reduce(0) { $0 + $1.width }
        let passWidth = width(passed)
        try emitAffine(LinearForm.concat(front + passed.map(graph.form)))
        switch nodes[0].kind {
        case .affine:
            break  // the affine layer computes the values
        case .unary(let op):
            layers.append(.elementwise(op, lanes: frontWidth, width: frontWidth + passWidth))
        case .binary(let op):
            layers.append(.binary(op, lanes: frontWidth / 2, width: frontWidth + passWidth))
        case .state:
            layers.append(stateLayer(batch, width: frontWidth + passWidth))
        }
        layout = made + passed
        makeAvailable(made)
    }

    /// The block-diagonal `A` of the batch's groups (with copy rows for previous values that
    /// are read), zero rows for the lanes passed through.
    private func stateLayer(_ batch: [Int], width: Int) -> LayerChain.Layer {
        var offsets = [0], columns: [Int] = [], values: [Double] = []
        var initial: [Double] = []
        var base = 0
        func row(_ entries: [(Int, Double)]) {
            for (c, v) in entries.sorted(by: { $0.0 < $1.0 }) where v != 0 { columns.append(c); values.append(v) }
            offsets.append(columns.count)
        }
        for n in batch {
            let node = graph.nodes[n]
            let w = node.transition.count
            for r in 0..<w { row(node.transition[r].map { (base + $0.key, $0.value) }) }
            initial += node.initial
            if made(by: n).count == 2 {
                for r in 0..<w { row([(base + r, 1)]) }
                initial += [Double](repeating: 0, count: w)
                base += w
            }
            base += w
        }
        for _ in base..<width { row([]) }
        initial += [Double](repeating: 0, count: width - base)
        return .state(transition: WeightMatrix(rows: width, cols: width, storage: .sparse(rowOffsets: offsets, columns: columns, values: values)),
                      initial: initial)
    }

    /// The last affine layer: the outputs from the lanes alive.
    private mutating func finish() throws(LayerChainError) {
        try emitAffine(graph.outputs)
    }

    /// An affine layer that computes `form` from the current layout (none when that is
    /// the layout itself).
    private mutating func emitAffine(_ form: LinearForm) throws(LayerChainError) {
        var position: [Int: Int] = [:]
        var p = 0
        for a in layout {
            let atom = graph.atoms[a]
            for l in 0..<atom.width { position[atom.first + l] = p + l }
            p += atom.width
        }
        var offsets = [0], columns: [Int] = [], values: [Double] = []
        var identity = form.width == p && form.bias.allSatisfy { $0 == 0 }
        for (r, row) in form.rows.enumerated() {
            var entries: [(Int, Double)] = []
            for (lane, c) in row where c != 0 {
                guard let column = position[lane] else { throw .unsupported("internal: a layer reads a value no earlier layer passes on") }
                entries.append((column, c))
            }
            entries.sort { $0.0 < $1.0 }
            if entries.count != 1 || entries[0] != (r, 1) { identity = false }
            for (c, v) in entries { columns.append(c); values.append(v) }
            offsets.append(columns.count)
        }
        if identity && !layers.isEmpty { return }
        let sparse = WeightMatrix(rows: form.width, cols: p, storage: .sparse(rowOffsets: offsets, columns: columns, values: values))
        layers.append(.affine(WeightMatrix.preferredStorage(sparse), bias: form.bias))
    }
}

extension WeightMatrix {
    /// The same matrix, dense when that is the smaller form (the density rule).
    static func preferredStorage(_ w: WeightMatrix) -> WeightMatrix {
        guard case .sparse(let offsets, let columns, let values) = w.storage,
              !prefersSparse(nonZeros: values.count, of: w.rows * w.cols) else { return w }
        var dense = [Double](repeating: 0, count: w.rows * w.cols)
        for r in 0..<w.rows {
            for k in offsets[r]..<offsets[r + 1] { dense[r * w.cols + columns[k]] = values[k] }
        }
        return WeightMatrix(rows: w.rows, cols: w.cols, storage: .dense(dense), name: w.name)
    }
}
