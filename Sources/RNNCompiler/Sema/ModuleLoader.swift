import Foundation
import RNNRuntime
import RNNStdlib

/// All declarations reachable from a root file through `use`.
package struct ModuleSet {
    package var root: SourceFileAST
    package var files: [SourceFileAST]
    /// Every function of every loaded file, by name.
    package var functions: [String: FunctionDecl]
    /// Every model of every loaded file, by name.
    package var models: [String: ModelDecl]
    /// The standard library's folder (canonical), when one was given.
    package var stdlib: String? = nil

    /// The stdlib module a declaration comes from (`cells.gru`), or nil for the user's files.
    func stdlibModule(of range: SourceRange) -> String? {
        guard let stdlib else { return nil }
        let path = ModuleLoader.canonical(range.file.path)
        guard path.hasPrefix(stdlib + "/"), path.hasSuffix(".rnn") else { return nil }
        return String(path.dropFirst(stdlib.count + 1).dropLast(4)).replacingOccurrences(of: "/", with: ".")
    }
}

/// Finds the standard library: `--stdlib`, then `RNNC_STDLIB`, then a `stdlib` folder next to
/// the running executable or in its `../share/rnnc/`, then the source checkout this binary was
/// built from (where it still exists: a developer's build reads the files being edited), then
/// the copy shipped as the RNNStdlib target's SwiftPM resource (an app that embeds the
/// compiler). The executable is found from the system (`/proc/self/exe` on Linux,
/// the loader's path on macOS), not from `argv[0]`, which is only `rnnc` when a shell found
/// the binary through `PATH`.
public enum StdlibLocator {
    /// The standard library's folder: `override` when given, else the first of the places
    /// above that holds one; nil when none does.
    public static func locate(override: String? = nil) -> String? {
        if let override { return override }
        if let env = ProcessInfo.processInfo.environment["RNNC_STDLIB"], !env.isEmpty { return env }
        var candidates: [URL] = []
        if let exe = executablePath() {
            let folder = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent()
            candidates += [folder.appendingPathComponent("stdlib"), folder.appendingPathComponent("../share/rnnc/stdlib")]
        }
        candidates.append(URL(fileURLWithPath: #filePath).appendingPathComponent("../../../../stdlib"))
        if let resource = StdlibResource.folder { candidates.append(resource) }
        for c in candidates {
            let path = c.standardizedFileURL.path
            if FileManager.default.fileExists(atPath: path + "/logic.rnn") { return path }
        }
        return nil
    }

    /// The running executable's path, as the operating system knows it.
    static func executablePath() -> String? {
        #if os(Linux)
        return try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        #else
        return Bundle.main.executablePath
        #endif
    }
}

/// Reads a root file and everything it imports, reporting missing files and cycles.
final class ModuleLoader {
    private let stdlib: String?
    private let diagnostics: DiagnosticEngine
    private var loaded: [String: SourceFileAST] = [:]
    private var order: [SourceFileAST] = []
    private var inProgress: [String] = []

    init(stdlib: String?, diagnostics: DiagnosticEngine) {
        self.stdlib = stdlib
        self.diagnostics = diagnostics
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    func load(root: SourceFile) -> ModuleSet {
        let rootAST = visit(root, canonicalPath: Self.canonical(root.path))
        var functions: [String: FunctionDecl] = [:]
        var models: [String: ModelDecl] = [:]
        for file in order {
            for decl in file.declarations {
                switch decl {
                case .function(let f):
                    if Builtins.names.contains(f.name.name) {
                        diagnostics.error(.redefinition, "'\(f.name.name)' is a builtin function and cannot be redefined", at: f.name.range)
                    } else if let previous = functions[f.name.name] {
                        var d = Diagnostic(.redefinition, "function '\(f.name.name)' is defined twice", at: f.name.range)
                        d.notes.append(("previous definition is here", previous.name.range))
                        diagnostics.emit(d)
                    } else {
                        functions[f.name.name] = f
                    }
                case .model(let m):
                    if let previous = models[m.name.name] {
                        var d = Diagnostic(.redefinition, "model '\(m.name.name)' is defined twice", at: m.name.range)
                        d.notes.append(("previous definition is here", previous.name.range))
                        diagnostics.emit(d)
                    } else {
                        models[m.name.name] = m
                    }
                case .use: break
                }
            }
        }
        return ModuleSet(root: rootAST, files: order, functions: functions, models: models, stdlib: stdlib.map(Self.canonical))
    }

    private func visit(_ file: SourceFile, canonicalPath: String) -> SourceFileAST {
        inProgress.append(canonicalPath)
        let ast = Parser.parse(file, diagnostics: diagnostics)
        for decl in ast.declarations {
            guard case .use(let use) = decl else { continue }
            guard let path = resolve(use, from: file.path) else { continue }
            let key = Self.canonical(path)
            if inProgress.contains(key) {
                diagnostics.error(.importCycle, "import cycle: \((inProgress + [key]).map { ($0 as NSString).lastPathComponent }.joined(separator: " -> "))", at: use.range)
                continue
            }
            if loaded[key] != nil { continue }
            // Each level of imports is a level of recursion here: a chain of thousands of
            // files must be an error, not a stack overflow.
            guard inProgress.count < CompilerLimits.maxImportDepth else {
                diagnostics.error(.tooLarge, "imports nested more than \(CompilerLimits.maxImportDepth) files deep", at: use.range)
                continue
            }
            let bytes: [UInt8]
            do { bytes = try InputFile.read(path) } catch {
                diagnostics.error(.importNotFound, "cannot read imported file '\(path)': \(error)", at: use.range)
                continue
            }
            _ = visit(SourceFile(path: path, bytes: bytes), canonicalPath: key)
        }
        inProgress.removeLast()
        loaded[canonicalPath] = ast
        order.append(ast)
        return ast
    }

    /// `use "a/b.rnn"` is relative to the importing file; `use a.b` looks for `a/b.rnn`
    /// beside the importing file, then in the standard library.
    private func resolve(_ use: UseDecl, from importer: String) -> String? {
        let dir = (importer as NSString).deletingLastPathComponent
        var candidates: [String] = []
        if use.isQuoted {
            candidates.append(use.path.hasPrefix("/") ? use.path : (dir as NSString).appendingPathComponent(use.path))
        } else {
            candidates.append((dir as NSString).appendingPathComponent(use.path + ".rnn"))
            if let stdlib { candidates.append((stdlib as NSString).appendingPathComponent(use.path + ".rnn")) }
        }
        for c in candidates {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: c, isDirectory: &isDir), !isDir.boolValue { return c }
        }
        var message = "cannot find module '\(use.path)' (looked in: \(candidates.joined(separator: ", ")))"
        if !use.isQuoted, stdlib == nil { message += "; the standard library was not found: pass --stdlib DIR or set RNNC_STDLIB" }
        diagnostics.error(.importNotFound, message, at: use.range)
        return nil
    }
}
