import Foundation
import PackagePlugin

/// Writes `BuildStamp.swift`, the commit the binary is built from, so `rnnc --version` names
/// it without a checkout at run time. The command reruns when git's HEAD, the branch it
/// names or the index changes (a commit, a checkout, a staged change), and rewrites the file
/// only when the commit changed, so other builds stay incremental. Outside a git checkout
/// (a source archive) the commit is "unknown".
///
/// A build command rather than a prebuild command: SwiftPM runs prebuild commands only for
/// the root package's own build, not when rnnc is built as a dependency's plugin tool.
@main
struct VersionStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildStamp.swift")
        let root = context.package.directoryURL
        let git = root.appending(path: ".git")
        var inputs = [git.appending(path: "HEAD"), git.appending(path: "index"), git.appending(path: "packed-refs")]
        if let head = try? String(contentsOf: inputs[0], encoding: .utf8), head.hasPrefix("ref: ") {
            inputs.append(git.appending(path: head.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        inputs = inputs.filter { FileManager.default.fileExists(atPath: $0.path) }
        let script = """
            commit=$(git -C '\(root.path)' rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
            text="/// The commit this binary was built from (written by the VersionStamp plugin).
            let buildCommit = \\"$commit\\""
            [ -f '\(output.path)' ] && [ "$(cat '\(output.path)')" = "$text" ] || printf '%s\\n' "$text" > '\(output.path)'
            """
        return [
            .buildCommand(
                displayName: "Stamping the build with its commit",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script],
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
