import Foundation
import PackagePlugin

/// Compiles the `.rnn` files of a target at build time, as swift-protobuf's plugin does for
/// `.proto` files: each file that declares a `model` becomes a `.rnnc` resource of the target
/// and a Swift accessor (`enum ModelName` with its widths, state names and `load()`).
///
/// A `NAME.safetensors` beside `NAME.rnn` binds the model's params (`--weights`). The other
/// `.rnn` files of the target (modules a model imports with `use`) and the weights are inputs
/// of every command, so editing one recompiles the models. Diagnostics go to SwiftPM in the
/// `file:line:col: error: message [code]` form, which Xcode and editors show in place.
@main
struct RNNCPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let sources = target.sourceFiles(withSuffix: ".rnn").map(\.url)
        let weights = target.sourceFiles(withSuffix: ".safetensors").map(\.url)
        let tool = try context.tool(named: "RNNCBuildTool").url
        return try sources.filter(Self.declaresModel).map { source in
            let name = source.deletingPathExtension().lastPathComponent
            let artifact = context.pluginWorkDirectoryURL.appending(path: name + ".rnnc")
            let accessor = context.pluginWorkDirectoryURL.appending(path: name + "+Model.swift")
            var arguments = [source.path, artifact.path, accessor.path]
            let weightsFile = source.deletingPathExtension().appendingPathExtension("safetensors")
            if weights.contains(weightsFile) { arguments.append(weightsFile.path) }
            return .buildCommand(
                displayName: "Compiling \(source.lastPathComponent) with rnnc",
                executable: tool,
                arguments: arguments,
                inputFiles: sources + weights,
                outputFiles: [artifact, accessor]
            )
        }
    }

    /// Whether a source declares a model (a line beginning with `model`); files that only
    /// hold functions are modules the models import.
    static func declaresModel(_ url: URL) throws -> Bool {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").contains { line in
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            return trimmed.hasPrefix("model ") || trimmed.hasPrefix("model\t")
        }
    }
}
