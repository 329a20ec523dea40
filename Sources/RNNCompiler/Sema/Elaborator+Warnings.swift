/// Warnings about what a source declares and nothing uses (docs/diagnostics.md, W0201-W0401).
extension Elaborator {
    /// W0201-W0203 for the names a scope declared and nothing used (each place once, however
    /// often it was elaborated; never inside the standard library).
    func warnUnused(in scope: Scope) {
        for (name, declared, range) in scope.unused where modules.stdlibModule(of: range) == nil {
            guard warnedUnused.insert("\(range.file.path):\(range.start)").inserted else { continue }
            switch declared {
            case .binding: warning(.unusedBinding, "'\(name)' is bound but never used (name it '_\(name)' to keep it)", at: range)
            case .input: warning(.unusedInput, "input '\(name)' is never used; its values are read and ignored", at: range)
            case .param: warning(.unusedParam, "param '\(name)' is never used", at: range)
            }
        }
    }

    /// W0401 for a state of the user's files whose previous value no output depends on: it is
    /// never read before its update (or only by what no output uses), so it carries nothing.
    func warnStatesNeverRead(outputs: [ValueID]) {
        var live = Set<Int>(), liveStates = Set<Int>(), work = outputs.map(\.index)
        while let i = work.popLast() {
            guard live.insert(i).inserted else { continue }
            let node = builder.nodes[i]
            if case .stateRead(let s) = node.op, liveStates.insert(s).inserted, let next = states[s].next { work.append(next.index) }
            work += node.op.operands.map(\.index)
        }
        for (k, state) in states.enumerated() where !liveStates.contains(k) && modules.stdlibModule(of: state.range) == nil {
            warning(.stateNeverRead, "no output depends on the previous value of state '\(state.name)' (it is never read before its update); a binding would do", at: state.range)
        }
    }
}
