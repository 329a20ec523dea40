import RNNRuntime

/// Everything one run of the pipeline makes from a source: the IR as elaborated (with its
/// weights table), the optimized IR, and the compiled model (step program, scan plan and
/// precision) that the runtime runs and an artifact stores.
public struct CompiledModel: Sendable {
    /// The IR as elaborated: what `--emit ir` prints and the reference interpreter runs.
    package var ir: IRProgram
    /// The IR after the optimizer (the same as `ir` when it is off).
    package var optimized: IRProgram
    /// What the runtime runs and an artifact stores: the step program, the scan plan and the
    /// precision (`write(to:)` saves it as a `.rnnc` file).
    public var model: Artifact.Model

    /// The weights table: each param's name, shape, dtype and origin.
    public var weights: [IRParam] { ir.params }
    /// The step program (`model.program`).
    public var program: StepProgram { model.program }
    /// The scan plan (`model.plan`).
    public var plan: ScanPlan { model.plan }
}

/// How far and how the pipeline runs.
public struct PipelineOptions {
    /// Run the optimizer (`--no-optimize` turns it off).
    public var optimize = true
    /// Run the IR verifier after every pass (`--verify-each`).
    public var verifyEach = false
    /// One line per optimizer pass (`--print-passes`).
    public var trace: ((String) -> Void)?
    /// Diagonalize dense affine states in the scan plan (false keeps matrix recurrences, for comparisons).
    public var diagonalize = true

    /// Options with the command line's defaults where not given.
    public init(optimize: Bool = true, verifyEach: Bool = false, trace: ((String) -> Void)? = nil, diagonalize: Bool = true) {
        self.optimize = optimize
        self.verifyEach = verifyEach
        self.trace = trace
        self.diagonalize = diagonalize
    }
}

extension Compiler {
    /// The pipeline of docs/architecture.md: parse the file and its imports, elaborate the
    /// model into IR, optimize, and lower to the step program and scan plan. Returns nil when
    /// the source has errors (see `diagnostics`); throws only when the IR verifier finds the
    /// optimizer broke the program (an internal error).
    public func compile(_ file: SourceFile, options: PipelineOptions = PipelineOptions()) throws(Optimizer.VerificationFailure) -> CompiledModel? {
        guard let ir = compileToIR(file) else { return nil }
        let optimized = options.optimize ? try Optimizer.optimize(ir, verifyEach: options.verifyEach, trace: options.trace) : ir
        let (program, plan) = ScanLowering.lower(optimized, diagonalize: options.diagonalize)
        return CompiledModel(ir: ir, optimized: optimized, model: Artifact.Model(program: program, plan: plan, precision: ScanLowering.precision(of: ir)))
    }
}
