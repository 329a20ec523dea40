import RNNRuntime

/// What `Compiler.compile(path:options:)` and `Compiler.compile(source:path:options:)`
/// take: the command line's `compile` options as values.
public struct CompileOptions: Sendable {
    /// The model to compile (`--model`); nil picks the only model of the root file.
    public var model: String?
    /// Overrides of the model's parameters (`--set n=32`), each value as source text (`"32"`,
    /// `"[1, 2]"`).
    public var settings: [String: String]
    /// Safetensors files whose tensors bind `param`s by name (`--weights`), in order.
    public var weights: [String]
    /// Only tensors whose names start with this bind, with it removed (`--weights-prefix`).
    public var weightsPrefix: String
    /// Run the optimizer (`--no-optimize` turns it off).
    public var optimize: Bool
    /// The standard library's folder; nil finds it as ``StdlibLocator`` does.
    public var stdlib: String?

    /// Options with the command line's defaults where not given.
    public init(model: String? = nil, settings: [String: String] = [:], weights: [String] = [], weightsPrefix: String = "",
                optimize: Bool = true, stdlib: String? = nil) {
        self.model = model
        self.settings = settings
        self.weights = weights
        self.weightsPrefix = weightsPrefix
        self.optimize = optimize
        self.stdlib = stdlib
    }
}

/// A source that does not compile: its diagnostics (errors and warnings), rendered as the
/// command line prints them by `description`.
public struct CompileError: Error, CustomStringConvertible, Sendable {
    /// Every diagnostic of the compile, errors and warnings, in the order they were found.
    public let diagnostics: [Diagnostic]
    /// The diagnostics as `rnnc` prints them (`file:line:col: error[E0202]: ...`), one after another.
    public var description: String { diagnostics.map { $0.render(color: false) }.joined(separator: "\n") }
}

extension Compiler {
    /// Compiles the `.rnn` file at `path`: the library's one-liner for `rnnc compile`.
    ///
    /// ```swift
    /// let compiled = try Compiler.compile(path: "model.rnn", options: CompileOptions(settings: ["n": "32"]))
    /// try compiled.model.write(to: "model.rnnc")
    /// ```
    ///
    /// Throws `RuntimeError` when a file cannot be read, ``CompileError`` with the
    /// diagnostics when the source or its weights have errors.
    public static func compile(path: String, options: CompileOptions = CompileOptions()) throws -> CompiledModel {
        try compile(readSource(path: path), options: options)
    }

    /// Compiles a program given as text; `path` names it in diagnostics and is where its
    /// relative `use` imports are looked up from.
    public static func compile(source: String, path: String = "main.rnn", options: CompileOptions = CompileOptions()) throws -> CompiledModel {
        try compile(SourceFile(path: path, text: source), options: options)
    }

    private static func compile(_ file: SourceFile, options: CompileOptions) throws -> CompiledModel {
        let settings = options.settings.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        var compiler = Compiler(stdlibPath: StdlibLocator.locate(override: options.stdlib),
                                options: ElaborationOptions(modelName: options.model, settings: settings))
        for path in options.weights {
            guard try compiler.loadWeights(path: path, prefix: options.weightsPrefix) else {
                throw CompileError(diagnostics: compiler.diagnostics.diagnostics)
            }
        }
        guard let compiled = try compiler.compile(file, options: PipelineOptions(optimize: options.optimize)),
              !compiler.diagnostics.hasErrors else {
            throw CompileError(diagnostics: compiler.diagnostics.diagnostics)
        }
        return compiled
    }
}
