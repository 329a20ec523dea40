extension Pass {
    /// Merges independent states of the same scan-able class into one block-diagonal state,
    /// as LSRL merges sibling LinStates: states whose groups sit at the same depth of the
    /// state-dependency graph (so neither reads the other) and are both affine time-invariant
    /// or both diagonal time-varying (vectors only). The merged state is read through slices and updated
    /// with the concatenation of the updates, so one scan serves them all.
    static let stateMerging = Pass(name: "state-merging") { p in
        let reads = RecurrenceAnalysis.stateDependencies(p)
        let groups = RecurrenceAnalysis.analyze(p)
        var groupOf: [Int: Int] = [:]
        for (g, group) in groups.enumerated() { for s in group.states { groupOf[s] = g } }
        // Groups come in dependency order, so one pass computes depths.
        var depth = [Int](repeating: 0, count: groups.count)
        for (g, group) in groups.enumerated() {
            for s in group.states {
                for other in reads[p.states[s].next.index] where groupOf[other] != g {
                    depth[g] = max(depth[g], depth[groupOf[other]!] + 1)
                }
            }
        }
        var buckets: [String: [Int]] = [:]
        // Matrix states stay apart: each is wide already, keeps its shape in exports and state
        // files, and a head is the unit a chunked scan works on.
        for (g, group) in groups.enumerated() where [.affine, .diagonal].contains(group.kind) && group.states.count == 1
            && p.states[group.states[0]].matrixShape == nil {
            buckets["\(depth[g]) \(group.kind.rawValue)", default: []].append(group.states[0])
        }
        let merges = buckets.values.filter { $0.count > 1 }.map { $0.sorted() }
        guard !merges.isEmpty else { return p }
        return merge(p, merges)
    }

    private static func merge(_ p: IRProgram, _ merges: [[Int]]) -> IRProgram {
        // New state list: untouched states first, then one state per merge.
        var mergedInto: [Int: (state: Int, offset: Int)] = [:]
        var newStates: [IRState] = []
        var keptIndex: [Int: Int] = [:]
        for (k, s) in p.states.enumerated() where !merges.contains(where: { $0.contains(k) }) {
            keptIndex[k] = newStates.count
            newStates.append(s)
        }
        for members in merges {
            var offset = 0
            for k in members {
                mergedInto[k] = (newStates.count, offset)
                offset += p.states[k].size
            }
            let placeholder = p.states[members[0]].next
            newStates.append(IRState(name: members.map { p.states[$0].name }.joined(separator: "+"), size: offset,
                                     initial: members.flatMap { p.states[$0].initial }, next: placeholder, range: p.states[members[0]].range,
                                     parts: members.flatMap { p.states[$0].sourceStates }))
        }
        var readOf: [Int: ValueID] = [:]
        var out = IRRewriter.rewrite(p) { r, node, _ in
            guard case .stateRead(let k) = node.op else { return r.add(node.op, size: node.size, range: node.range) }
            if let kept = keptIndex[k] { return r.add(.stateRead(kept), size: node.size, range: node.range) }
            let (merged, offset) = mergedInto[k]!
            let read = readOf[merged] ?? r.add(.stateRead(merged), size: newStates[merged].size, range: node.range)
            readOf[merged] = read
            return r.add(.slice(read, start: offset), size: node.size, range: node.range)
        }
        // `rewrite` remapped each old state's `next`; gather them into the new states.
        var nodes = out.nodes
        var states = newStates
        for (k, old) in out.states.enumerated() {
            if let kept = keptIndex[k] { states[kept].next = old.next }
        }
        for members in merges {
            let merged = mergedInto[members[0]]!.state
            let parts = members.map { out.states[$0].next }
            nodes.append(IRNode(op: .concat(parts), size: states[merged].size, range: states[merged].range))
            states[merged].next = ValueID(index: nodes.count - 1)
        }
        out.nodes = nodes
        out.paramUses = [:]
        out.cells = []
        out.states = states
        return out
    }
}
