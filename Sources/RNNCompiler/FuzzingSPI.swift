/// What rnnc's libFuzzer targets (Tests/Fuzz, a package of their own) reach beyond the
/// public API: the syntax-tree walks of `rnnc fmt` and `--emit ast`, and elaboration alone.
/// Not API: `@_spi(Fuzzing) import RNNCompiler` is for those targets only.
@_spi(Fuzzing) extension Compiler {
    /// Parses one file (no imports) and, when it has no syntax errors, formats it and dumps its
    /// syntax tree as `rnnc fmt` and `rnnc compile --emit ast` do; nil with syntax errors.
    public func formattedAndDumped(_ file: SourceFile) -> (formatted: String, dump: String)? {
        let ast = parse(file)
        guard !diagnostics.hasErrors else { return nil }
        return (Formatter.format(ast), Dump.ast(ast))
    }

    /// Elaborates the file into IR and returns its values' total width; nil with errors.
    public func elaboratedValueCount(_ file: SourceFile) -> Int? {
        compileToIR(file)?.nodes.reduce(0) { $0 + $1.size }
    }
}
