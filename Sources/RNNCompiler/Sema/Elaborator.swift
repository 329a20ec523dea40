import RNNRuntime

/// Compile-time settings for elaboration.
public struct ElaborationOptions {
    /// The model to compile; nil picks the only model of the root file.
    public var modelName: String?
    /// `--set name=value` overrides of model parameters, as source text.
    public var settings: [(name: String, value: String)]
    /// Tensors to bind to `param`s by name.
    public var weights: SafeTensors.File?
    /// How much the compilation may build (`--limit`).
    public var limits = ResourceLimits()
    /// The weights files' paths, for messages (`a.safetensors, b.safetensors`).
    public var weightsPath: String?
    /// Where to record every name's definition and uses, for editors (`rnnc lsp`); nil by default.
    package var symbols: SymbolIndex?
    /// Record how every compile-time Double was made (`IRProgram.exactConstants`), for
    /// exact mode; off by default, as it costs time on large compile-time tensors.
    package var recordsExactConstants = false

    /// Options for one model; `settings` are `--set` overrides as source text.
    public init(modelName: String? = nil, settings: [(name: String, value: String)] = [], weights: SafeTensors.File? = nil, weightsPath: String? = nil) {
        self.modelName = modelName
        self.settings = settings
        self.weights = weights
        self.weightsPath = weightsPath
    }
}

/// Turns a model's AST into an IR program: resolves names, evaluates compile-time values,
/// inlines functions (each call gets its own states), checks shapes and state rules, and
/// binds params. Errors are collected; elaboration goes on after each one.
final class Elaborator {
    let modules: ModuleSet
    let diagnostics: DiagnosticEngine
    let builder: IRBuilder
    let options: ElaborationOptions

    struct StateInfo {
        var name: String
        /// `[n]`, or `[m, n]` for a matrix state (held row by row).
        var shape: [Int]
        var initial: [Double]
        var range: SourceRange
        var read: ValueID?
        var next: ValueID?
        /// Where the state is updated (`h <- ...`), for E0401's note.
        var updatedAt: SourceRange?

        var size: Int { shape.reduce(1, *) }
    }

    var states: [StateInfo] = []
    /// Places warned about as unused (a function's body is elaborated once per call).
    var warnedUnused: Set<String> = []
    /// Each token input's vocabulary size, by input index.
    var tokenInputs: [Int: Int] = [:]
    var params: [IRParam] = []
    var usedWeights: Set<String> = []
    /// Functions being inlined, innermost last, with the instance name and place of each call.
    var callStack: [(name: String, instance: String, site: SourceRange)] = []
    var instanceCounters: [String: Int] = [:]
    /// Functions some call inlined (the others are checked by `checkUncalledFunctions`).
    var inlined: Set<String> = []
    /// Diagnostics reported so far, by code, place and message (`report` drops repeats).
    var reported: Set<String> = []
    /// The stdlib cells called (`IRProgram.cells`).
    var cells: [CellCall] = []
    /// Compile-time work done so far (expressions evaluated, constant elements built).
    var evaluations = 0
    var elementWork = 0
    var workLimitReported = false
    /// The expressions behind compile-time Doubles, when the options ask for them.
    var exact: ExactConstants?
    /// Arithmetic for comparing recorded expressions (`sameValue`), made on first use.
    lazy var exactCheck = ExactArithmetic(bits: Elaborator.exactCheckBits)

    init(modules: ModuleSet, diagnostics: DiagnosticEngine, options: ElaborationOptions) {
        self.modules = modules
        self.diagnostics = diagnostics
        self.builder = IRBuilder(diagnostics: diagnostics, limits: options.limits)
        self.options = options
        self.exact = options.recordsExactConstants ? ExactConstants() : nil
        options.symbols?.record(functions: modules.functions)
    }

    func error(_ code: DiagnosticCode, _ message: String, at range: SourceRange?) {
        report(Diagnostic(code, message, at: range))
    }

    var limits: ResourceLimits { options.limits }

    /// Reports E0601 for a value past one of the resource limits, with the flag that raises it.
    func limitError(_ kind: ResourceLimits.Kind, _ message: String, at range: SourceRange?) {
        error(.tooLarge, message + ResourceLimits.hint(kind), at: range)
    }

    func warning(_ code: DiagnosticCode, _ message: String, at range: SourceRange?) {
        report(Diagnostic(code, message, at: range, severity: .warning))
    }

    /// Most calls a diagnostic's notes name: the innermost ones, then the outermost (the
    /// call in the user's own model).
    static let maxCallNotes = 8

    /// Emits a diagnostic found while inlining functions with one note per call it happened
    /// in, innermost first, so an error inside a library function also shows the line of
    /// the user's file that led to it.
    func report(_ diagnostic: Diagnostic) {
        // A function called many times finds its errors once per call: the first report,
        // with its calls, stands for the rest.
        if let range = diagnostic.range {
            let key = "\(diagnostic.code.rawValue) \(range.file.path):\(range.start)-\(range.end) \(diagnostic.message)"
            guard reported.insert(key).inserted else { return }
        }
        var d = diagnostic
        var frames = Array(callStack.reversed())
        if frames.count > Self.maxCallNotes {
            frames = Array(frames.prefix(Self.maxCallNotes - 1)) + [frames.last!]
        }
        for (k, frame) in frames.enumerated() {
            let skipped = k == frames.count - 1 && callStack.count > frames.count ? " (after \(callStack.count - frames.count) more calls)" : ""
            let uncalled = frame.instance.hasSuffix(Self.uncalledInstance)
            d.notes.append((uncalled ? "in '\(frame.name)', checked with unknown arguments (nothing calls it)" : "in the call of '\(frame.name)'\(skipped)", frame.site))
        }
        diagnostics.emit(d)
    }

    /// Counts compile-time work: `elements` constant values computed, or one expression
    /// evaluated. Past the `constantValues` or `evaluations` limit it reports E0601
    /// once and returns false, so exponential inlining or nested comprehensions cannot hang.
    func spend(_ elements: Int, at range: SourceRange, evaluation: Bool = false) -> Bool {
        if evaluation {
            evaluations += 1
        } else {
            // Saturating: a raised limit admits counts near Int.max.
            let (sum, overflow) = elementWork.addingReportingOverflow(elements)
            elementWork = overflow ? Int.max : sum
        }
        guard evaluations > limits.evaluations || elementWork > limits.constantValues else { return true }
        if !workLimitReported {
            workLimitReported = true
            if evaluations > limits.evaluations {
                limitError(.evaluations, "compiling this model evaluates more than \(limits.evaluations) expressions (the limit)", at: range)
            } else {
                limitError(.constantValues, "compiling this model computes more than \(limits.constantValues) constant values (the limit)", at: range)
            }
        }
        return false
    }

    // MARK: Model

    func selectModel() -> ModelDecl? {
        let rootModels = modules.root.declarations.compactMap { d -> ModelDecl? in
            if case .model(let m) = d { return m }
            return nil
        }
        let rootRange = SourceRange(file: modules.root.file, start: 0, end: 0)
        if let name = options.modelName {
            if let m = modules.models[name] { return m }
            error(.modelSelection, "no model named '\(name)' (models: \(modules.models.keys.sorted().joined(separator: ", ")))", at: nil)
            return nil
        }
        if rootModels.count == 1 { return rootModels[0] }
        if rootModels.isEmpty {
            error(.modelSelection, "'\(modules.root.file.path)' declares no model", at: rootRange)
        } else {
            error(.modelSelection, "'\(modules.root.file.path)' declares several models (\(rootModels.map(\.name.name).joined(separator: ", "))); choose one with --model", at: rootRange)
        }
        return nil
    }

    func elaborate() -> IRProgram? {
        guard let model = selectModel() else { return nil }
        let scope = Scope(symbols: options.symbols)
        bindModelParams(model, in: scope)
        var inputs: [IRInput] = []
        var outputs: [ValueID] = []
        var outputRanges: [SourceRange] = []
        var sawOutput = false, sawInput = false
        // Statements a model allows beyond a function's: outputs and params, also in for blocks.
        func modelStatement(_ statement: Statement, in scope: Scope) {
            switch statement.kind {
            case .output(let expr):
                sawOutput = true
                switch eval(expr, in: scope) {
                case .runtime(let id, _), .matrix(let id, _, _):  // a matrix row by row
                    outputs.append(id)
                    outputRanges.append(expr.range)
                case .constant(let t) where t.rank <= 1:
                    outputs.append(builder.constant(t.data, range: expr.range, origin: t.rank == 1 ? t.origin : nil))
                    outputRanges.append(expr.range)
                case .constant(let t): error(.shapeMismatch, "an output must be a vector, found a \(t.shapeDescription) matrix", at: expr.range)
                case .string, .function, .error: break
                }
            case .param(let items):
                for item in items { bindParam(item, in: scope) }
            case .loop(let variable, let lower, let upper, let body):
                loop(variable, lower, upper, body, in: scope, run: modelStatement)
            case .conditional(let c, let then, let otherwise, _):
                conditional(c, then, otherwise, in: scope, run: modelStatement)
            default:
                execute(statement, in: scope)
            }
        }
        for statement in model.body {
            if builder.overLimit { break }
            switch statement.kind {
            case .input(let name, let type):
                sawInput = true
                var input = IRInput(name: name.name, size: 0)
                switch type {
                case .vector(let shape, let domain):
                    if let n = vectorSize(shape, in: scope, what: "an input") {
                        input.size = n
                        if let domain { input.domain = inputDomain(domain, size: n, in: scope) }
                    }
                case .ids(let lower, let upper):
                    if let vocabulary = vocabulary(lower, upper, in: scope) { (input.size, input.vocabulary) = (1, vocabulary) }
                }
                guard checkNew(name, in: scope) else { continue }
                guard input.size > 0 else {
                    scope.define(name.name, .value(.error, name.range))  // reported; uses report nothing more
                    continue
                }
                if let vocabulary = input.vocabulary { tokenInputs[inputs.count] = vocabulary }
                let id = builder.add(.input(inputs.count), size: input.size, range: name.range)
                inputs.append(input)
                scope.define(name.name, .value(.runtime(id, size: input.size), name.range), declared: .input)
            default:
                modelStatement(statement, in: scope)
            }
        }
        checkAllUpdated(from: 0, declaredIn: model.name.name)
        warnUnused(in: scope)
        checkUncalledFunctions()
        // After an error, liveness cannot be judged (a failed line reads nothing): no W0401 then.
        if !diagnostics.hasErrors { warnStatesNeverRead(outputs: outputs) }
        if !sawInput { error(.modelStructure, "model '\(model.name.name)' has no input; declare one with 'input x: [n]'", at: model.name.range) }
        if !sawOutput { error(.modelStructure, "model '\(model.name.name)' has no output; add 'output EXPR'", at: model.name.range) }
        checkUnusedWeights()
        if diagnostics.hasErrors { return nil }
        var program = IRProgram(
            modelName: model.name.name, inputs: inputs,
            states: states.map { IRState(name: $0.name, size: $0.size, initial: $0.initial, next: $0.next!, range: $0.range, matrixShape: $0.shape.count == 2 ? $0.shape : nil) },
            params: params, nodes: builder.nodes, outputs: outputs, paramUses: builder.paramUses, cells: cells)
        program.outputRanges = outputRanges
        program.exactConstants = exact
        return program
    }

    private func bindModelParams(_ model: ModelDecl, in scope: Scope) {
        var overrides: [String: (String, Bool)] = [:]
        for s in options.settings { overrides[s.name] = (s.value, false) }
        for p in model.params {
            guard checkNew(p.name, in: scope) else { continue }
            var value: Value
            if let (text, _) = overrides[p.name.name] {
                overrides[p.name.name]!.1 = true
                value = setting(p, text)
            } else {
                value = evalAny(p.value, in: scope)
            }
            if case .runtime = value {
                error(.notConstant, "model parameter '\(p.name.name)' must be a compile-time value", at: p.value.range)
                value = .error
            }
            scope.define(p.name.name, .value(value, p.name.range))
        }
        for (name, (_, used)) in overrides.sorted(by: { $0.key < $1.key }) where !used {
            let known = model.params.map(\.name.name)
            error(.badSetting, "--set \(name): model '\(model.name.name)' has no parameter '\(name)'" + (known.isEmpty ? "" : " (parameters: \(known.joined(separator: ", ")))"), at: model.name.range)
        }
    }

    /// The value of `--set name=text`. A parameter whose default is a string literal takes
    /// the text as it is (`--set mode=direct`, quotes optional); any other parses it as an
    /// expression.
    private func setting(_ p: ModelParam, _ text: String) -> Value {
        if case .string = p.value.kind {
            let quoted = text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"")
            return .string(quoted ? String(text.dropFirst().dropLast()) : text)
        }
        let file = SourceFile(path: "--set \(p.name.name)", text: text)
        guard let expr = Parser.parseExpression(file, diagnostics: diagnostics) else { return .error }
        return evalAny(expr, in: Scope(symbols: options.symbols))
    }

    // MARK: Statements shared by models and functions

    func execute(_ statement: Statement, in scope: Scope) {
        switch statement.kind {
        case .binding(let name, let expr):
            bind(name, evalAny(expr, in: scope), in: scope)
        case .destructure(let names, let expr):
            for (name, value) in zip(names, destructure(names, expr, in: scope)) { bind(name, value, in: scope) }
        case .state(let name, let shape, let initExpr):
            declareState(name, shape, initExpr, in: scope)
        case .update(let name, let expr):
            update(name, expr, in: scope)
        case .loop(let variable, let lower, let upper, let body):
            loop(variable, lower, upper, body, in: scope) { self.execute($0, in: $1) }
        case .conditional(let c, let then, let otherwise, _):
            conditional(c, then, otherwise, in: scope) { self.execute($0, in: $1) }
        case .input, .output, .param, .return:
            break  // rejected by the parser where not allowed; handled by the caller otherwise
        }
    }

    /// `name = value`: a new name, or, in a for block, a name bound before the block rebound.
    private func bind(_ name: Identifier, _ value: Value, in scope: Scope) {
        if scope.iteration != nil, scope.localDefinition(name.name) == nil, let outer = scope.definingScope(of: name.name) {
            rebind(name, value, in: outer)
        } else if checkNew(name, in: scope) {
            scope.define(name.name, .value(value, name.range), declared: .binding)
        }
    }

    /// A for block: the body once per value of the variable, each time in a scope of its own
    /// (names bound there are the iteration's), except that a binding of a name bound before
    /// the block rebinds that name (`h = block(h)`: a loop-carried value).
    func loop(_ variable: Identifier, _ lower: Expr, _ upper: Expr, _ body: [Statement], in scope: Scope, run: (Statement, Scope) -> Void) {
        guard let lo = constantInteger(lower, in: scope, what: "a loop bound"), let hi = constantInteger(upper, in: scope, what: "a loop bound") else { return }
        guard hi <= lo || hi - lo <= limits.iterations else {
            limitError(.iterations, "a for block of \(hi - lo) iterations exceeds the limit of \(limits.iterations)", at: upper.range)
            return
        }
        for i in lo..<max(lo, hi) {
            // An iteration counts as an evaluation, so nested empty blocks cannot hang.
            guard spend(1, at: variable.range, evaluation: true) else { return }
            let iteration = Scope(parent: scope, iteration: i)
            iteration.define(variable.name, .value(.constant(.scalar(Double(i))), variable.range))
            for statement in body {
                if builder.overLimit { return }
                run(statement, iteration)
            }
            warnUnused(in: iteration)
        }
    }

    /// A for block's binding of a name bound before the block: the name now means `value`.
    private func rebind(_ name: Identifier, _ value: Value, in outer: Scope) {
        guard case .value = outer.localDefinition(name.name) else {
            error(.redefinition, "'\(name.name)' is a state; a for block rebinds values only (update a state with '<-')", at: name.range)
            return
        }
        outer.define(name.name, .value(value, name.range))
    }

    /// Reports a redefinition and returns false when `name` is already defined in `scope`.
    func checkNew(_ name: Identifier, in scope: Scope) -> Bool {
        guard let existing = scope.localDefinition(name.name) else { return true }
        var d = Diagnostic(.redefinition, "'\(name.name)' is already defined; bindings are immutable (use a new name, or a state and '<-')", at: name.range)
        switch existing {
        case .value(_, let r?), .state(_, let r): d.notes.append(("previous definition is here", r))
        case .value(_, nil): break
        }
        report(d)
        return false
    }

    private func declareState(_ name: Identifier, _ shape: ShapeAnnotation, _ initExpr: Expr, in scope: Scope) {
        guard let dims = stateShape(shape, in: scope) else {
            // Reported, or unknown: later uses of the name report nothing more.
            if scope.localDefinition(name.name) == nil { scope.define(name.name, .value(.error, name.range)) }
            return
        }
        guard checkNew(name, in: scope) else { return }
        let n = dims.reduce(1, *)
        // Every state's values count toward the compile-time work budget before they are
        // allocated: thousands of states each millions wide would otherwise exhaust memory.
        guard spend(n, at: name.range) else { return }
        var initial = [Double](repeating: 0, count: n)
        switch eval(initExpr, in: scope) {
        case .constant(let t) where t.isScalar: initial = [Double](repeating: t.scalar, count: n)
        case .constant(let t) where t.shape == dims: initial = t.data
        case .constant(let t):
            error(.stateInitMismatch, "state '\(name.name)' has shape \(Tensor.describe(dims)) but its initial value has shape \(t.shapeDescription)", at: initExpr.range)
        case .runtime, .matrix:
            error(.notConstant, "the initial value of state '\(name.name)' must be a compile-time value", at: initExpr.range)
        case .string, .function, .error: break
        }
        let qualified = (callStack.last.map { "\($0.instance).\(name.name)" } ?? name.name) + scope.loopSuffix
        states.append(StateInfo(name: qualified, shape: dims, initial: initial, range: name.range))
        scope.define(name.name, .state(states.count - 1, name.range))
        if let symbols = scope.symbols { Scope.record(name.name, .state(states.count - 1, name.range), at: nil, in: symbols, stateShape: dims) }
    }

    private func update(_ name: Identifier, _ expr: Expr, in scope: Scope) {
        let value = eval(expr, in: scope)
        if case .value(.error, _)? = scope.localDefinition(name.name) { return }
        guard let entry = scope.lookup(name.name) else {
            error(.updateOfNonState, "'\(name.name)' is not a state; declare it first with 'state \(name.name): [n] = init'", at: name.range)
            return
        }
        guard case .state(let index, _) = entry, scope.localDefinition(name.name) != nil else {
            error(.updateOfNonState, "'\(name.name)' is not a state of this body and cannot be updated with '<-'", at: name.range)
            return
        }
        if states[index].next != nil {
            var d = Diagnostic(.stateUpdatedTwice, "state '\(name.name)' is updated twice in one step; a state is updated exactly once", at: name.range)
            if let first = states[index].updatedAt { d.notes.append(("the first update is here", first)) }
            report(d)
            return
        }
        states[index].updatedAt = name.range
        let (n, dims) = (states[index].size, states[index].shape)
        var next: ValueID?
        switch value {
        case _ where value.runtimeShape?.shape == dims: next = value.runtimeShape!.id
        case .runtime(let id, 1): next = builder.broadcast(id, to: n, range: expr.range)
        case .constant(let t) where t.isScalar: next = builder.constant([Double](repeating: t.scalar, count: n), range: expr.range)
        case .constant(let t) where t.shape == dims: next = builder.constant(t.data, range: expr.range, origin: t.rank == 1 ? t.origin : nil)
        case .error: next = builder.constant([Double](repeating: 0, count: n), range: expr.range)
        default:
            error(.shapeMismatch, "state '\(name.name)' has shape \(Tensor.describe(dims)) but is updated with a value of shape \(value.shapeDescription)", at: expr.range)
            next = builder.constant([Double](repeating: 0, count: n), range: expr.range)
        }
        states[index].next = next
    }

    /// Reports every state declared since `first` that was never updated.
    func checkAllUpdated(from first: Int, declaredIn owner: String) {
        for i in first..<states.count where states[i].next == nil {
            error(.stateNeverUpdated, "state '\(states[i].name)' is never updated in '\(owner)'; add '\(states[i].name.split(separator: ".").last!) <- EXPR'", at: states[i].range)
            states[i].next = builder.constant(states[i].initial, range: states[i].range)
        }
    }

    /// The current value of a state: its new value after its update line, else the previous one.
    func readState(_ index: Int, range: SourceRange) -> Value {
        let shape = states[index].shape
        if let next = states[index].next { return .runtime(next, shape: shape) }
        if let read = states[index].read { return .runtime(read, shape: shape) }
        let id = builder.add(.stateRead(index), size: states[index].size, range: range)
        states[index].read = id
        return .runtime(id, shape: shape)
    }

    // MARK: Shapes of declarations

    /// A positive integer dimension, or nil after reporting why not.
    func dimension(_ expr: Expr, in scope: Scope, what: String) -> Int? {
        guard let n = constantInteger(expr, in: scope, what: "a dimension of \(what)") else { return nil }
        guard n >= 1 else {
            error(.invalidValue, "a dimension of \(what) must be at least 1, found \(n)", at: expr.range)
            return nil
        }
        guard n <= limits.vectorWidth else {
            limitError(.vectorWidth, "dimension \(n) of \(what) exceeds the limit of \(limits.vectorWidth)", at: expr.range)
            return nil
        }
        return n
    }

    /// A token input's `V` from its range `0..<V`.
    private func vocabulary(_ lower: Expr, _ upper: Expr, in scope: Scope) -> Int? {
        guard let lo = constantInteger(lower, in: scope, what: "a token input's first id") else { return nil }
        guard lo == 0 else {
            error(.shapeMismatch, "a token input's ids start at 0 (write 0..<n), found \(lo)", at: lower.range)
            return nil
        }
        guard let n = constantInteger(upper, in: scope, what: "a token input's number of ids") else { return nil }
        guard n >= 1 else {
            error(.invalidValue, "a token input needs at least one id (0..<n with n >= 1), found n = \(n)", at: upper.range)
            return nil
        }
        guard n <= limits.vectorWidth else {
            limitError(.vectorWidth, "a token input's \(n) ids exceed the limit of \(limits.vectorWidth)", at: upper.range)
            return nil
        }
        return n
    }

    /// A state's shape: `[n]`, or `[m, n]` for a matrix state, within the runtime width limit.
    private func stateShape(_ shape: ShapeAnnotation, in scope: Scope) -> [Int]? {
        guard let dims = tensorShape(shape, in: scope, what: "a state") else { return nil }
        guard dims.saturatingProduct <= limits.vectorWidth else {
            limitError(.vectorWidth, "a state of shape \(Tensor.describe(dims)) exceeds the limit of \(limits.vectorWidth) elements", at: shape.range)
            return nil
        }
        return dims
    }

    func vectorSize(_ shape: ShapeAnnotation, in scope: Scope, what: String) -> Int? {
        guard shape.dims.count == 1 else {
            error(.shapeMismatch, "\(what) must be a vector with a shape like [n], found \(shape.dims.count) dimensions", at: shape.range)
            return nil
        }
        return dimension(shape.dims[0], in: scope, what: what)
    }

    func tensorShape(_ shape: ShapeAnnotation, in scope: Scope, what: String) -> [Int]? {
        guard shape.dims.count <= 2 else {
            error(.shapeMismatch, "\(what) has at most 2 dimensions, found \(shape.dims.count)", at: shape.range)
            return nil
        }
        var dims: [Int] = []
        for d in shape.dims {
            guard let n = dimension(d, in: scope, what: what) else { return nil }
            dims.append(n)
        }
        guard dims.saturatingProduct <= limits.tensorElements else {
            limitError(.tensorElements, "\(what) of shape \(Tensor.describe(dims)) exceeds the limit of \(limits.tensorElements) elements", at: shape.range)
            return nil
        }
        return dims
    }
}
