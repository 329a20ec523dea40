import Foundation
import RNNRuntime

/// The compiler's entry points: `compile` runs the whole pipeline (Pipeline.swift); `parse`
/// and `compileToIR` stop after a stage, for `--emit` and tools.
public struct Compiler {
    /// The standard library's folder that `use` imports fall back to.
    public var stdlibPath: String?
    /// The model, settings and weights to compile with.
    public var options: ElaborationOptions
    /// Everything the compiler reported so far, errors and warnings.
    public let diagnostics = DiagnosticEngine()

    /// A compiler that finds the standard library as ``StdlibLocator`` does unless told where.
    public init(stdlibPath: String? = StdlibLocator.locate(), options: ElaborationOptions = ElaborationOptions()) {
        self.stdlibPath = stdlibPath
        self.options = options
    }

    /// Parses one file (no imports): the `--emit ast` stage.
    package func parse(_ file: SourceFile) -> SourceFileAST {
        Parser.parse(file, diagnostics: diagnostics)
    }

    /// Loads the file and its imports and elaborates the selected model into IR.
    /// Returns nil when there are errors (see `diagnostics`).
    package func compileToIR(_ file: SourceFile) -> IRProgram? {
        withLargeStack {
            let modules = ModuleLoader(stdlib: stdlibPath, diagnostics: diagnostics).load(root: file)
            // Syntax errors make elaboration report follow-on errors; stop here instead.
            if diagnostics.hasErrors { return nil }
            return Elaborator(modules: modules, diagnostics: diagnostics, options: options).elaborate()
        }
    }

    /// Reads a safetensors weights file into `options.weights`, reporting E0505 when it is
    /// malformed. Returns false when the file is missing (a RuntimeError) or malformed.
    ///
    /// Tensor names map to param names: a name must start with `prefix` (other tensors are
    /// ignored), the prefix is removed, and every `.` becomes `_` — so PyTorch's
    /// `weight_ih_l0` binds `param weight_ih_l0`, and `encoder.rnn.weight_ih_l0` with prefix
    /// `encoder.` binds `param rnn_weight_ih_l0`.
    /// Called again, it adds another file's tensors (a param two files bind is an error).
    public mutating func loadWeights(path: String, prefix: String = "") throws(RuntimeError) -> Bool {
        let file: SafeTensors.File
        do {
            file = try SafeTensors.read(path: path)
        } catch {
            if case .io = error { throw error }
            diagnostics.error(.weightsFile, "cannot load weights: \(error)", at: nil)
            return false
        }
        // A second file adds its tensors to the first's; a param two files bind is an error.
        var mapped = options.weights ?? SafeTensors.File(tensors: [], metadata: file.metadata)
        let earlier = Set(mapped.tensors.map(\.name))
        var origin: [String: String] = [:]
        for var tensor in file.tensors where tensor.name.hasPrefix(prefix) {
            let original = tensor.name
            tensor.name = String(tensor.name.dropFirst(prefix.count)).replacingOccurrences(of: ".", with: "_")
            if let other = origin[tensor.name] {
                diagnostics.error(.weightsFile, "tensors '\(other)' and '\(original)' in \(path) both map to param name '\(tensor.name)'", at: nil)
                return false
            }
            if earlier.contains(tensor.name) {
                diagnostics.error(.weightsFile, "param name '\(tensor.name)' is bound by both \(options.weightsPath ?? "an earlier file") and \(path)", at: nil)
                return false
            }
            origin[tensor.name] = original
            mapped.tensors.append(tensor)
        }
        options.weights = mapped
        options.weightsPath = options.weightsPath.map { $0 + ", " + path } ?? path
        return true
    }

    /// Reads a source file from disk.
    public static func readSource(path: String) throws(RuntimeError) -> SourceFile {
        let bytes = try InputFile.read(path)
        // An artifact or weights file given where a source belongs: say what it is, instead
        // of lexing it (thousands of errors).
        if InputFile.isBinary(bytes) {
            let what = (try? SafeTensors.decode(bytes, path: path)).map { $0.metadata["format"] == Artifact.formatName ? "a compiled rnnc artifact (run it with 'rnnc run')" : "a safetensors weights file (bind it with --weights)" } ?? "a binary file"
            throw .badFile(path: path, line: nil, column: nil, message: "this is \(what), not an .rnn source", lineText: nil)
        }
        return SourceFile(path: path, bytes: bytes)
    }
}
