import Foundation
import PackagePlugin

/// Writes `BuildStamp.swift` (the commit the binary is built from) before every build, so
/// `rnnc --version` names it without a checkout at run time. A prebuild command runs on
/// every build; the file is rewritten only when the commit changes, so unchanged builds stay
/// incremental.
@main
struct VersionStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "BuildStamp.swift")
        let root = context.package.directoryURL.path
        // `git describe` marks a tree with uncommitted changes; outside a checkout (a source
        // archive) the commit is "unknown".
        let script = """
            commit=$(git -C '\(root)' describe --always --dirty --abbrev=12 --exclude='*' 2>/dev/null || echo unknown)
            text="/// The commit this binary was built from (written by the VersionStamp plugin).
            let buildCommit = \\"$commit\\""
            [ -f '\(output.path)' ] && [ "$(cat '\(output.path)')" = "$text" ] || printf '%s\\n' "$text" > '\(output.path)'
            """
        return [
            .prebuildCommand(
                displayName: "Stamping the build with its commit",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script],
                outputFilesDirectory: context.pluginWorkDirectoryURL
            )
        ]
    }
}
