import ArgumentParser
import RNNRuntime

/// rnnc's exit codes (sysexits.h): 0 success, 64 usage, 65 bad input (a compile error, or
/// malformed weights, data or artifact), 66 an input file that cannot be opened, 70 a
/// runtime or internal failure (including failing to write an output).
package enum ExitStatus {
    package static let usage = ExitCode(64)
    package static let dataError = ExitCode(65)
    package static let missingInput = ExitCode(66)
    package static let runtimeError = ExitCode(70)

    /// Prints a runtime error and gives the exit code that fits it.
    static func report(_ error: RuntimeError) -> ExitCode {
        Console.err("\(error)\n")
        switch error {
        case .badFile, .invalidProgram, .inputMismatch: return dataError
        case .io(let message): return message.hasPrefix("cannot read") ? missingInput : runtimeError
        }
    }
}
