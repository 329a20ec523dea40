/// Every diagnostic the compiler can emit, with a stable code.
///
/// The catalogue is grouped by phase; docs/diagnostics.md lists each code with a
/// minimal program that triggers it. Codes are never reused.
public enum DiagnosticCode: String, Sendable, CaseIterable {
    // MARK: Lexer and parser (E01xx)
    case unexpectedCharacter = "E0101"
    case unterminatedString = "E0102"
    case invalidNumber = "E0103"
    case expectedToken = "E0104"
    case expectedExpression = "E0105"
    case expectedDeclaration = "E0106"
    case expectedStatement = "E0107"
    case nestingTooDeep = "E0108"
    case statementNotAllowed = "E0109"

    // MARK: Names, imports and calls (E02xx)
    case undefinedName = "E0201"
    case undefinedFunction = "E0202"
    case redefinition = "E0203"
    case importNotFound = "E0204"
    case importCycle = "E0205"
    case badArguments = "E0206"
    case recursiveCall = "E0207"
    case modelSelection = "E0208"
    case badSetting = "E0209"
    case missingReturn = "E0210"
    case valueCount = "E0211"

    // MARK: Values and shapes (E03xx)
    case shapeMismatch = "E0301"
    case matmulMismatch = "E0302"
    case notConstant = "E0303"
    case notInteger = "E0304"
    case indexOutOfRange = "E0305"
    case unsupportedRuntimeOp = "E0306"
    case annotationMismatch = "E0307"
    case invalidValue = "E0308"
    case raggedLiteral = "E0309"
    case wrongKind = "E0310"
    case compileError = "E0311"

    // MARK: States (E04xx)
    case stateUpdatedTwice = "E0401"
    case stateNeverUpdated = "E0402"
    case updateOfNonState = "E0403"
    case stateInitMismatch = "E0404"

    // MARK: Params and weights (E05xx)
    case paramUnbound = "E0501"
    case weightShapeMismatch = "E0502"
    case weightDtype = "E0503"
    case extraWeight = "E0504"
    case weightsFile = "E0505"
    case paramInitMismatch = "E0506"

    // MARK: Limits and model structure (E06xx)
    case tooLarge = "E0601"
    case modelStructure = "E0602"
    case noLayerChain = "E0603"

    // MARK: Warnings (Wxxxx): reported, but the program compiles
    case nonFiniteWeights = "W0501"
    case unusedBinding = "W0201"
    case unusedInput = "W0202"
    case unusedParam = "W0203"
    case unusedFunction = "W0204"
    case stateNeverRead = "W0401"

    /// Whether the code is a warning (the program still compiles) rather than an error.
    public var isWarning: Bool { rawValue.hasPrefix("W") }
}

/// Fixed limits that keep the compiler from exhausting its stack or time on hostile input:
/// nesting depths (the stack does not grow with a flag) and the optimizer's own work caps,
/// past which it still compiles the program, unoptimized. The limits a user can raise are
/// `ResourceLimits`.
package enum CompilerLimits {
    /// Deepest nesting of expressions in the parser, and of inlined calls in sema.
    package static let maxNesting = 200
    /// Deepest expression tree, however it is written: long chains `a + b + c + ...` and
    /// `x[0][0]...` nest without parentheses.
    package static let maxExpressionDepth = 2_000
    package static let maxInlineDepth = 64
    /// Deepest chain of `use` imports (a imports b imports c ...).
    package static let maxImportDepth = 256
    /// Most multiply-adds the optimizer spends on fusing one pair of affine maps (it keeps
    /// them apart beyond that).
    package static let maxFusionWork = 1 << 28
}
