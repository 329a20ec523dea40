import RNNRuntime

/// Params: binding each declared param to its weights-file tensor (by name, or by the key of
/// `from "KEY"`) or to its initializer, and the weights table the program keeps.
extension Elaborator {

    func bindParam(_ item: ParamItem, in scope: Scope) {
        guard let shape = tensorShape(item.shape, in: scope, what: "a param"), let binding = paramBinding(item, in: scope) else {
            if checkNew(item.name, in: scope) { scope.define(item.name.name, .value(.error, item.name.range)) }
            return
        }
        guard checkNew(item.name, in: scope) else { return }
        let value = paramValue(item, binding, shape: shape, in: scope)
        if case .constant(let t) = value {
            let fromFile = binding.tensor.map(usedWeights.contains) ?? false
            params.append(IRParam(name: binding.name, shape: shape,
                                  dtype: fromFile ? options.weights?[binding.tensor!]?.dtype ?? .f64 : .f64,
                                  origin: fromFile ? .weightsFile(options.weightsPath ?? "") : .source, values: t.data))
        }
        scope.define(item.name.name, .value(value, item.name.range), declared: .param)
    }

    /// A param's name in the weights table, and the weights file's tensor that binds it (by
    /// its mapped name: `.` as `_`), if any: `from "KEY"` names both (after `{i}` takes the
    /// value of `i`); else the param's name does, outside a for block. Inside one, a param
    /// without `from` is the iteration's own (`W[2]`) and only its initializer gives it a value.
    private func paramBinding(_ item: ParamItem, in scope: Scope) -> (name: String, tensor: String?)? {
        if let key = item.key {
            guard let name = interpolate(key, in: scope) else { return nil }
            return (name, name.replacingOccurrences(of: ".", with: "_"))
        }
        let suffix = scope.loopSuffix
        return suffix.isEmpty ? (item.name.name, item.name.name) : (item.name.name + suffix, nil)
    }

    /// `"layers.{i}.weight"` with every `{name}` replaced by that compile-time integer.
    private func interpolate(_ key: Identifier, in scope: Scope) -> String? {
        var out = "", rest = Substring(key.name)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else {
                error(.invalidValue, "'{' without a closing '}' in the key \"\(key.name)\"", at: key.range)
                return nil
            }
            let name = String(rest[rest.index(after: open)..<close])
            let expr = Expr(.name(name), key.range)
            guard let value = constantInteger(expr, in: scope, what: "'{\(name)}' in a param's key") else { return nil }
            out += String(value)
            rest = rest[rest.index(after: close)...]
        }
        guard !rest.contains("}") else {
            error(.invalidValue, "'}' without an opening '{' in the key \"\(key.name)\"", at: key.range)
            return nil
        }
        return out + rest
    }

    private func paramValue(_ item: ParamItem, _ binding: (name: String, tensor: String?), shape: [Int], in scope: Scope) -> Value {
        let name = binding.name
        if let mapped = binding.tensor, let tensor = options.weights?[mapped] {
            usedWeights.insert(mapped)
            let file = options.weightsPath ?? "the weights file"
            guard tensor.dtype.isFloatingPoint else {
                error(.weightDtype, "tensor '\(name)' in \(file) has dtype \(tensor.dtype.rawValue); params need F64, F32, F16 or BF16", at: item.name.range)
                return .error
            }
            // Axes of size 1 may differ (a conv1d weight saved [D, 1, k] binds a [D, k] param):
            // the values are the same, in the same order.
            guard tensor.shape.filter({ $0 != 1 }) == shape.filter({ $0 != 1 }) else {
                error(.weightShapeMismatch, "tensor '\(name)' in \(file) has shape \(Tensor.describe(tensor.shape)), but param '\(name)' is declared \(Tensor.describe(shape))", at: item.shape.range)
                return .error
            }
            let values = tensor.doubles()
            let nonFinite = values.count { !$0.isFinite }
            if nonFinite > 0 {
                warning(.nonFiniteWeights, "tensor '\(name)' in \(file) has \(nonFinite) NaN or infinite value\(nonFinite == 1 ? "" : "s"); every output they reach will be NaN or infinite", at: item.name.range)
            }
            return .constant(Tensor(shape: shape, data: values, origin: ParamSlice(param: name, shape: shape)))
        }
        guard let initExpr = item.initializer else {
            let hint = binding.tensor == nil ? "a param in a for block is bound with 'from \"KEY\"' or by its initializer"
                : options.weights == nil ? "give it an initializer ('= zeros()') or bind it with --weights FILE"
                : "the weights file has no tensor '\(binding.tensor!)'" + (item.key == nil ? "" : " (its key \(name), with '.' as '_')")
            error(.paramUnbound, "param '\(name)' has no value: \(hint)", at: item.name.range)
            return .error
        }
        let value = evalInitializer(initExpr, shape: shape, in: scope)
        switch value {
        case .constant(let t) where t.shape == shape: return .constant(Tensor(shape: shape, data: t.data, origin: ParamSlice(param: name, shape: shape)))
        case .constant(let t) where t.isScalar:
            return .constant(Tensor(shape: shape, data: [Double](repeating: t.scalar, count: shape.reduce(1, *)), origin: ParamSlice(param: name, shape: shape)))
        case .constant(let t):
            error(.paramInitMismatch, "param '\(name)' is declared \(Tensor.describe(shape)) but its initializer has shape \(t.shapeDescription)", at: initExpr.range)
            return .error
        case .runtime, .matrix:
            error(.notConstant, "the initializer of param '\(name)' must be a compile-time value", at: initExpr.range)
            return .error
        case .string, .function, .error: return .error
        }
    }

    func checkUnusedWeights() {
        guard let weights = options.weights else { return }
        let extra = weights.tensors.map(\.name).filter { !usedWeights.contains($0) }
        if !extra.isEmpty {
            error(.extraWeight, "\(options.weightsPath ?? "the weights file") has tensors that match no param: \(extra.sorted().joined(separator: ", "))", at: nil)
        }
    }
}
