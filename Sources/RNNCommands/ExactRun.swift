import Foundation
import RNNCompiler
import RNNRuntime

/// `rnnc run --dtype exact`: the IR as elaborated, run in exact arithmetic
/// (`ExactInterpreter`), with outputs printed as exact rationals or as the Doubles their
/// certified enclosures decide.
struct ExactRun {
    var compile: CompileOptions
    var file: String
    var maxBits: Int

    /// Compiles with the record of compile-time expressions and runs every sequence.
    func run(_ data: SequenceData, format: DataFormat, initialState: String?) throws -> ExactInterpreter.Result {
        let ir = try compile.compileForExactMode(file)
        guard data.sequences.allSatisfy({ $0.isEmpty }) || data.width == ir.inputWidth else {
            throw RuntimeError.inputMismatch("input tokens have \(data.width) values, but model '\(ir.modelName)' takes \(ir.inputWidth)")
        }
        for (q, sequence) in data.sequences.enumerated() { try ir.inputPorts.checkIDs(sequence, sequence: data.isBatch ? q : nil) }
        // Numbers written in decimal are read as written (0.1 is 1/10); a .npy file holds
        // binary numbers, which are read as the exact values they are.
        guard data.sequences.joined().joined().allSatisfy(\.isFinite) else {
            throw RuntimeError.inputMismatch("exact mode: the input holds a value that is not finite (NaN or infinity)")
        }
        let read: (Double) -> Rational = format == .npy ? { Rational(exactly: $0)! } : { Rational(shortestDecimalOf: $0)! }
        let sequences = data.sequences.map { $0.map { $0.map(read) } }
        var initial: [[[Rational]?]]?
        if let initialState {
            let layout = StateFile.Layout(ir)
            let states = try StateFile.read(path: initialState, layout: layout, sequences: data.sequences.count)
            guard states.joined().joined().allSatisfy(\.isFinite) else {
                throw RuntimeError.inputMismatch("exact mode: \(initialState) holds a state value that is not finite (NaN or infinity)")
            }
            // A state the file leaves out keeps the program's initial value, exactly.
            initial = states.map { zip($0, layout.initial).map { given, own in given == own ? nil : given.map { Rational(exactly: $0)! } } }
        }
        do {
            return try ExactInterpreter(program: ir, constants: ir.exactConstants ?? ExactConstants(), maxBits: maxBits).run(sequences, initialStates: initial)
        } catch {
            throw ExitStatus.report(Self.located(error))
        }
    }

    /// The failure at its place in the source.
    static func located(_ failure: ExactInterpreter.Failure) -> RuntimeError {
        let message = "exact mode: " + failure.message
        guard let range = failure.range else { return .inputMismatch(message) }
        return .badFile(path: range.file.path, line: range.line, column: range.column, message: message, lineText: range.file.lineText(range.line))
    }

    /// The outputs in `format`: exact values as integers or fractions (`-7`, `1/3`), others
    /// as the Double their enclosure rounds to (`0.30901699437494745`, `1.0`: always with a
    /// point or an exponent). A .npy file holds the nearest Doubles.
    static func encode(_ result: ExactInterpreter.Result, width: Int, isBatch: Bool, format: DataFormat) throws(RuntimeError) -> [UInt8] {
        let sequences = result.outputs
        switch format {
        case .npy:
            let nearest = sequences.map { $0.map { $0.map { $0.isPoint ? $0.lo.doubleValue : $0.decidedDouble! } } }
            return try SequenceData(sequences: nearest, width: width, isBatch: isBatch).encode(format: .npy)
        case .text, .csv, .json:
            let write = format == .json ? json : text
            return try SequenceData.encode(cells: sequences.map { $0.map { $0.map(write) } }, isBatch: isBatch, format: format)
        }
    }

    static func text(_ v: RationalInterval) -> String {
        v.isPoint ? v.lo.description : "\(v.decidedDouble!)"
    }

    /// Integers and decided Doubles as JSON numbers, fractions as strings ("1/3").
    static func json(_ v: RationalInterval) -> String {
        v.isPoint && !v.lo.isInteger ? "\"\(v.lo)\"" : text(v)
    }
}

extension CompileOptions {
    /// The IR as elaborated, with the record of how its compile-time Doubles were made.
    func compileForExactMode(_ path: String) throws -> IRProgram {
        var compiler = try makeCompiler()
        compiler.options.recordsExactConstants = true
        let source: SourceFile
        do { source = try Compiler.readSource(path: path) } catch { throw ExitStatus.report(error) }
        let ir = compiler.compileToIR(source)
        compiler.diagnostics.apply(allowed: try allowedCodes(), warningsAsErrors: warningsAsErrors)
        printDiagnostics(compiler)
        guard let ir, !compiler.diagnostics.hasErrors else { throw ExitStatus.dataError }
        return ir
    }
}
