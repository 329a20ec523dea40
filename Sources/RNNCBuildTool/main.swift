import Foundation
import RNNCompiler
import RNNRuntime

// RNNCPlugin's tool: compiles one .rnn file of an app target to a .rnnc artifact and writes
// its Swift accessor, printing diagnostics in the `file:line:col: error: message [code]`
// form SwiftPM and Xcode show in place. A tool of its own (not `rnnc compile`) so building
// it for a plugin needs nothing but the compiler.
//
//   RNNCBuildTool SOURCE.rnn ARTIFACT.rnnc ACCESSOR.swift [WEIGHTS.safetensors]

let arguments = CommandLine.arguments.dropFirst()
guard (3...4).contains(arguments.count) else {
    FileHandle.standardError.write(Data("usage: RNNCBuildTool SOURCE.rnn ARTIFACT.rnnc ACCESSOR.swift [WEIGHTS.safetensors]\n".utf8))
    exit(64)
}
let (sourcePath, artifactPath, accessorPath) = (arguments[arguments.startIndex], arguments[arguments.startIndex + 1], arguments[arguments.startIndex + 2])
let weightsPath = arguments.count == 4 ? arguments.last : nil

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
    exit(1)
}

do {
    var compiler = Compiler()
    if let weightsPath, try !compiler.loadWeights(path: weightsPath) { fail(compiler.diagnostics.renderGNU()) }
    let compiled = try compiler.compile(try Compiler.readSource(path: sourcePath))
    let report = compiler.diagnostics.renderGNU()
    if !report.isEmpty { FileHandle.standardError.write(Data((report + "\n").utf8)) }
    guard let compiled, !compiler.diagnostics.hasErrors else { exit(1) }
    let resource = ((artifactPath as NSString).lastPathComponent as NSString).deletingPathExtension
    try compiled.model.write(to: artifactPath, metadata: ["source": (sourcePath as NSString).lastPathComponent])
    let accessor = SwiftAccessor.source(for: compiled.model, source: (sourcePath as NSString).lastPathComponent, resource: resource)
    try OutputFile.write(Array(accessor.utf8), to: accessorPath)
} catch let error as RuntimeError {
    fail("\(sourcePath): \(error)")
} catch {
    fail("\(sourcePath): error: internal compiler error: \(error)")
}
