/// The optimizer's check that its folds keep a program's precision: for a program whose
/// inputs declare their values, each output's error bound (Float32 and Float64, by
/// `PrecisionAnalysis`) after the optimizer may exceed the bound of the program as
/// elaborated by at most a factor 2, or by 16 u times the output's largest magnitude (8 to
/// 16 units in its last place; u the unit roundoff). The optimizer tries pipelines from the most folding down and keeps the first that
/// passes; the program as elaborated always does.
struct PrecisionGuard {
    /// The pipelines tried in order, by what they fold.
    static let variants: [(String, [Pass])] = [
        ("every fold", Optimizer.pipeline.map { $0.name == Pass.affineFusion.name ? Pass.affineFusion(everyFold: true) : $0 }),
        ("folds that keep large factors apart", Optimizer.pipeline),
        ("no affine fusion", Optimizer.pipeline.filter { $0.name != Pass.affineFusion.name }),
    ]

    /// Bounds over this many steps at most (the guard runs the analysis once per pipeline).
    static let options = PrecisionAnalysis.Options(steps: 16, maxCases: 16, maxWork: 1_000_000, attributes: false)

    /// Programs whose vector inputs declare their values (token inputs always do).
    static func applies(to program: IRProgram) -> Bool {
        program.inputs.allSatisfy { $0.declaredValues != nil } && program.inputs.contains { $0.domain != nil }
    }

    private let reference: [PrecisionAnalysis.Result]

    init(_ elaborated: IRProgram) {
        let analysis = PrecisionAnalysis(program: elaborated, options: Self.options)
        reference = RunPrecision.allCases.map(analysis.run)
    }

    /// Why `optimized` is less precise than the program as elaborated, or nil when it is not.
    func loss(in optimized: IRProgram) -> String? {
        let analysis = PrecisionAnalysis(program: optimized, options: Self.options)
        for before in reference {
            let after = analysis.run(before.precision)
            for (i, (b, a)) in zip(before.outputs, after.outputs).enumerated() {
                let slack = 16 * before.precision.unitRoundoff * max(abs(b.lo), abs(b.hi))
                if a.error > max(2 * b.error, b.error + slack) {
                    return "the \(before.precision.rawValue) error bound of output element \(i) would grow from \(b.error) to \(a.error)"
                }
            }
        }
        return nil
    }
}
