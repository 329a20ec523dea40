import ArgumentParser
import RNNCompiler
import RNNRuntime

/// Options shared by every command that compiles a .rnn file.
package struct CompileOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp("Override a model parameter, e.g. --set d=64 (repeatable; the value is an rnn constant expression).", valueName: "name=value"))
    package var settings: [String] = []

    @Option(help: ArgumentHelp("A safetensors file whose tensors bind the model's params by name (repeatable: the files' tensors merge; a param two files bind is an error).", valueName: "file"))
    package var weights: [String] = []

    @Option(help: ArgumentHelp("Bind only the weights whose names start with this prefix, with the prefix removed (e.g. 'encoder.'). Dots in names become underscores.", valueName: "prefix"))
    package var weightsPrefix: String = ""

    @Option(help: "The model to compile when the file declares several.")
    package var model: String?

    @Option(help: ArgumentHelp("The standard library folder (default: $RNNC_STDLIB, then next to the rnnc binary, then the source checkout).", valueName: "dir"))
    package var stdlib: String?

    @Option(name: .customLong("limit"), help: ArgumentHelp("Raise (or lower) one of the compiler's resource limits, e.g. --limit tensor-elements=2^28 (repeatable; limits: \(ResourceLimits.Kind.allCases.map(\.rawValue).joined(separator: ", ")); defaults and meanings in docs/language.md).", valueName: "name=count"))
    package var limits: [String] = []

    @Flag(name: .customLong("no-optimize"), help: "Skip the optimizer (run the IR as elaborated).")
    package var noOptimize = false

    @Flag(help: "Run the IR verifier after every optimizer pass.")
    package var verifyEach = false

    @Flag(help: "Print each optimizer pass and the node count after it (to standard error).")
    package var printPasses = false

    /// How diagnostics are printed on standard error.
    package enum DiagnosticsFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json, gnu
    }

    @Option(help: "How to print diagnostics: text (for people), json (one object, for editors and tools; see docs/diagnostics.md), or gnu (one `file:line:col: error: message [code]` line each, as SwiftPM and Xcode read them).")
    package var diagnosticsFormat: DiagnosticsFormat = .text

    @Flag(help: "Treat every warning as an error (the command fails).")
    package var warningsAsErrors = false

    @Option(name: .customLong("allow"), help: ArgumentHelp("Do not report this warning code, e.g. --allow W0201 (repeatable).", valueName: "code"))
    package var allowedWarnings: [String] = []

    /// The codes of --allow, checked: warnings only.
    func allowedCodes() throws -> Set<DiagnosticCode> {
        Set(try allowedWarnings.map { text in
            guard let code = DiagnosticCode(rawValue: text), code.isWarning else {
                throw ValidationError("--allow \(text): not a warning code (warnings: \(DiagnosticCode.allCases.filter(\.isWarning).map(\.rawValue).joined(separator: ", ")))")
            }
            return code
        })
    }

    package init() {}

    /// The options given that only a .rnn source uses (an artifact is compiled already).
    package var sourceOnlyOptionsGiven: [String] {
        var given: [String] = []
        if !settings.isEmpty { given.append("--set") }
        if !weights.isEmpty { given.append("--weights") }
        if !weightsPrefix.isEmpty { given.append("--weights-prefix") }
        if model != nil { given.append("--model") }
        if stdlib != nil { given.append("--stdlib") }
        if warningsAsErrors { given.append("--warnings-as-errors") }
        if !allowedWarnings.isEmpty { given.append("--allow") }
        if diagnosticsFormat != .text { given.append("--diagnostics-format") }
        if !limits.isEmpty { given.append("--limit") }
        if noOptimize { given.append("--no-optimize") }
        if verifyEach { given.append("--verify-each") }
        if printPasses { given.append("--print-passes") }
        return given
    }

    /// Refuses source-only options for an artifact, rather than ignoring them (ArgumentParser
    /// runs `validate()` itself).
    package func refuseSourceOnlyOptions(for file: String) throws {
        let given = sourceOnlyOptionsGiven
        if file.hasSuffix(".rnnc"), !given.isEmpty {
            throw ValidationError("\(given.joined(separator: ", ")) \(given.count == 1 ? "applies" : "apply") to .rnn sources; '\(file)' is an artifact, compiled already")
        }
    }

    package func validate() throws {
        for s in settings {
            let parts = s.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ValidationError("--set expects name=value, found '\(s.prefix(80))'") }
            let name = parts[0]
            guard let first = name.first, first.isLetter || first == "_", name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), name.allSatisfy(\.isASCII) else {
                throw ValidationError("--set \(s.prefix(80)): '\(name.prefix(80))' is not a parameter name")
            }
            guard !parts[1].isEmpty else { throw ValidationError("--set \(s.prefix(80)): no value after '='") }
        }
        _ = try allowedCodes()
        _ = try resourceLimits()
    }

    /// The defaults with every `--limit` applied.
    func resourceLimits() throws -> ResourceLimits {
        var result = ResourceLimits()
        for text in limits {
            if let problem = result.set(Substring(text)) { throw ValidationError("--limit \(text.prefix(80)): \(problem)") }
        }
        return result
    }

    /// Runs the pipeline (`Compiler.compile`) on `path` with these options, printing
    /// diagnostics; throws the matching exit code on failure.
    func compileModel(_ path: String) throws -> CompiledModel {
        try compile(path, layerChain: false).compiled
    }

    /// The compiled model and its layer chain (`--target layers`); E0603 when it has none.
    func compileLayerChain(_ path: String) throws -> (compiled: CompiledModel, chain: LayerChain) {
        let (compiled, chain) = try compile(path, layerChain: true)
        return (compiled, chain!)
    }

    private func compile(_ path: String, layerChain: Bool) throws -> (compiled: CompiledModel, chain: LayerChain?) {
        let compiler = try makeCompiler()
        let source: SourceFile
        do { source = try Compiler.readSource(path: path) } catch { throw ExitStatus.report(error) }
        let trace: ((String) -> Void)? = printPasses ? { Console.err($0 + "\n") } : nil
        let compiled: CompiledModel?
        do {
            compiled = try compiler.compile(source, options: PipelineOptions(optimize: !noOptimize, verifyEach: verifyEach, trace: trace))
        } catch {
            printDiagnostics(compiler)
            Console.err("internal error: \(error)\n")
            throw ExitStatus.runtimeError
        }
        let chain = layerChain ? compiled.flatMap(compiler.layerChain) : nil
        compiler.diagnostics.apply(allowed: try allowedCodes(), warningsAsErrors: warningsAsErrors)
        printDiagnostics(compiler)
        guard let compiled, !compiler.diagnostics.hasErrors, !layerChain || chain != nil else { throw ExitStatus.dataError }
        return (compiled, chain)
    }

    func makeCompiler() throws -> Compiler {
        var options = ElaborationOptions(modelName: model)
        options.limits = try resourceLimits()
        options.settings = settings.map { s in
            let parts = s.split(separator: "=", maxSplits: 1)
            return (String(parts[0]).trimmingCharacters(in: .whitespaces), parts.count > 1 ? String(parts[1]) : "")
        }
        var compiler = Compiler(stdlibPath: StdlibLocator.locate(override: stdlib), options: options)
        for path in weights {
            do {
                guard try compiler.loadWeights(path: path, prefix: weightsPrefix) else {
                    printDiagnostics(compiler)
                    throw ExitStatus.dataError
                }
            } catch let error as RuntimeError {
                throw ExitStatus.report(error)
            }
        }
        return compiler
    }

    func printDiagnostics(_ compiler: Compiler) {
        if diagnosticsFormat == .json { return Console.err(compiler.diagnostics.renderJSON() + "\n") }
        if diagnosticsFormat == .gnu {
            let lines = compiler.diagnostics.renderGNU()
            return lines.isEmpty ? () : Console.err(lines + "\n")
        }
        guard !compiler.diagnostics.diagnostics.isEmpty else { return }
        Console.err(compiler.diagnostics.render(color: Console.colorsErrors) + "\n")
        let errors = compiler.diagnostics.errorCount
        if errors > 0 { Console.err("\(errors) error\(errors == 1 ? "" : "s")\n") }
    }
}

import Foundation
