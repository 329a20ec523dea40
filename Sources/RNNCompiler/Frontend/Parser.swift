/// Recursive-descent parser for .rnn files (grammar: grammar/rnn.ebnf).
///
/// Rules the parser keeps:
/// - Each parse function consumes at least one token or fails; every loop makes progress.
/// - A syntax error is reported once, then the parser skips to the next token that starts
///   a line and can start a statement (or a declaration at top level) and goes on, so one
///   run reports several errors.
/// - Expressions nest at most `CompilerLimits.maxNesting` deep; deeper input is an error,
///   never a stack overflow.
package struct Parser {
    private let tokens: [Token]
    private let comments: [SourceRange]
    private var index = 0
    private var depth = 0
    /// for blocks open around the statement being parsed.
    private var loopDepth = 0
    private let file: SourceFile
    private let diagnostics: DiagnosticEngine

    /// Thrown after a diagnostic has been emitted, to unwind to the nearest recovery point.
    private struct Failure: Error {}

    package static func parse(_ file: SourceFile, diagnostics: DiagnosticEngine) -> SourceFileAST {
        var parser = Parser(file: file, diagnostics: diagnostics)
        return parser.parseFile()
    }

    /// Parses a single expression (used for `--set name=value`).
    package static func parseExpression(_ file: SourceFile, diagnostics: DiagnosticEngine) -> Expr? {
        var parser = Parser(file: file, diagnostics: diagnostics)
        guard let e = try? parser.parseExpr() else { return nil }
        if parser.current.kind != .eof {
            parser.diagnostics.error(.expectedToken, "expected end of expression, found \(parser.current.kind.display)", at: parser.current.range)
            return nil
        }
        return e
    }

    private init(file: SourceFile, diagnostics: DiagnosticEngine) {
        self.file = file
        self.diagnostics = diagnostics
        (self.tokens, self.comments) = Lexer.tokenizeWithComments(file, diagnostics: diagnostics)
    }

    // MARK: Token helpers

    private var current: Token { tokens[index] }
    private var previous: Token { tokens[max(0, index - 1)] }

    private mutating func advance() -> Token {
        let t = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    private func check(_ p: Punct) -> Bool { current.kind == .punct(p) }
    private func check(_ k: Keyword) -> Bool { current.kind == .keyword(k) }

    private mutating func accept(_ p: Punct) -> Bool {
        if check(p) { _ = advance(); return true }
        return false
    }

    @discardableResult
    private mutating func expect(_ p: Punct, _ context: String) throws -> Token {
        if check(p) { return advance() }
        throw fail(.expectedToken, "expected '\(p.rawValue)' \(context), found \(current.kind.display)")
    }

    private mutating func expectIdentifier(_ context: String) throws -> Identifier {
        if case .identifier(let name) = current.kind {
            let t = advance()
            return Identifier(name: name, range: t.range)
        }
        throw fail(.expectedToken, "expected a name \(context), found \(current.kind.display)")
    }

    private func fail(_ code: DiagnosticCode, _ message: String, at range: SourceRange? = nil) -> Failure {
        diagnostics.error(code, message, at: range ?? current.range)
        return Failure()
    }

    // MARK: Declarations

    private mutating func parseFile() -> SourceFileAST {
        var decls: [Declaration] = []
        while current.kind != .eof {
            let start = index
            do {
                if let d = try parseDeclaration() { decls.append(d) }
            } catch {
                if index == start { _ = advance() }
                synchronizeTopLevel()
            }
        }
        return SourceFileAST(file: file, declarations: decls, comments: comments)
    }

    /// Skips to the next `use`, `fn` or `model` that starts a line.
    private mutating func synchronizeTopLevel() {
        while current.kind != .eof {
            if current.startsLine, check(.use) || check(.fn) || check(.model) { return }
            _ = advance()
        }
    }

    private mutating func parseDeclaration() throws -> Declaration? {
        switch current.kind {
        case .keyword(.use): return .use(try parseUse())
        case .keyword(.fn): return .function(try parseFunction())
        case .keyword(.model): return .model(try parseModel())
        case .punct(.semicolon): _ = advance(); return nil
        default:
            throw fail(.expectedDeclaration, "expected 'use', 'fn' or 'model' at top level, found \(current.kind.display)")
        }
    }

    private mutating func parseUse() throws -> UseDecl {
        let start = advance().range
        if case .string(let path) = current.kind {
            let t = advance()
            // An unterminated path (E0102, already reported) names no module to look for.
            let text = file.text(t.range)
            guard text.count >= 2, text.hasSuffix("\"") else { throw Failure() }
            return UseDecl(path: path, isQuoted: true, range: start.to(t.range))
        }
        var parts = [try expectIdentifier("after 'use'").name]
        while accept(.dot) { parts.append(try expectIdentifier("after '.' in 'use'").name) }
        return UseDecl(path: parts.joined(separator: "/"), isQuoted: false, range: start.to(previous.range))
    }

    private mutating func parseFunction() throws -> FunctionDecl {
        let start = advance().range
        let name = try expectIdentifier("after 'fn'")
        try expect(.lparen, "after the function name")
        var params: [FunctionParam] = []
        while !check(.rparen) {
            let p = try expectIdentifier("for a function parameter")
            let shape = accept(.colon) ? try parseShape() : nil
            let value = accept(.equal) ? try parseExpr() : nil
            params.append(FunctionParam(name: p, shape: shape, defaultValue: value))
            if !accept(.comma) { break }
        }
        try expect(.rparen, "to close the parameter list")
        if accept(.equal) {
            let e = try parseExpr()
            _ = accept(.semicolon)
            return FunctionDecl(name: name, params: params, body: [], result: e, range: start.to(e.range))
        }
        let (body, close) = try parseBlock(in: .function)
        var statements = body
        var result: Expr?
        var moreResults: [Expr] = []
        var returnRange: SourceRange?
        if let last = statements.last, case .return(let values) = last.kind {
            result = values[0]
            moreResults = Array(values.dropFirst())
            returnRange = last.range
            statements.removeLast()
        }
        for s in statements {
            if case .return = s.kind {
                diagnostics.error(.statementNotAllowed, "'return' must be the last statement of a function body", at: s.range)
            }
        }
        if result == nil {
            diagnostics.error(.missingReturn, "function '\(name.name)' must end with 'return EXPR'", at: close)
        }
        return FunctionDecl(name: name, params: params, body: statements, result: result, moreResults: moreResults, range: start.to(close), returnRange: returnRange)
    }

    private mutating func parseModel() throws -> ModelDecl {
        let start = advance().range
        let name = try expectIdentifier("after 'model'")
        var params: [ModelParam] = []
        if accept(.lparen) {
            while !check(.rparen) {
                let p = try expectIdentifier("for a model parameter")
                try expect(.equal, "after a model parameter name (model parameters need a default value)")
                params.append(ModelParam(name: p, value: try parseExpr()))
                if !accept(.comma) { break }
            }
            try expect(.rparen, "to close the model parameter list")
        }
        let (body, close) = try parseBlock(in: .model)
        return ModelDecl(name: name, params: params, body: body, range: start.to(close))
    }

    private enum BlockKind { case model, function }

    /// `{ statement* }`; recovers inside the block. Returns the statements and the `}` range.
    private mutating func parseBlock(in kind: BlockKind) throws -> ([Statement], SourceRange) {
        try expect(.lbrace, "to open the body")
        var statements: [Statement] = []
        while !check(.rbrace) && current.kind != .eof {
            let start = index
            do {
                if accept(.semicolon) { continue }
                let s = try parseStatement(in: kind)
                checkAllowed(s, in: kind)
                statements.append(s)
                _ = accept(.semicolon)
            } catch {
                if index == start { _ = advance() }
                synchronizeStatement()
            }
        }
        let close = try expect(.rbrace, "to close the body").range
        return (statements, close)
    }

    private func checkAllowed(_ s: Statement, in kind: BlockKind) {
        let what: String?
        switch (s.kind, kind) {
        case (.input, .function): what = "'input' is only allowed in a model"
        case (.output, .function): what = "'output' is only allowed in a model; a function returns its value"
        case (.param, .function): what = "'param' is only allowed in a model; pass tensors to functions as arguments"
        case (.return, .model): what = "'return' is only allowed in a function; a model uses 'output'"
        default: what = nil
        }
        if let what { diagnostics.error(.statementNotAllowed, what, at: s.range) }
    }

    /// Skips to the next token that starts a line and can start a statement, or to `}`.
    private mutating func synchronizeStatement() {
        while current.kind != .eof && !check(.rbrace) {
            if current.startsLine {
                switch current.kind {
                case .identifier, .keyword(.input), .keyword(.output), .keyword(.state), .keyword(.param), .keyword(.return), .keyword(.for), .keyword(.if):
                    return
                case .keyword(.fn), .keyword(.model), .keyword(.use):
                    return
                default: break
                }
            }
            _ = advance()
        }
    }

    // MARK: Statements

    private mutating func parseStatement(in kind: BlockKind) throws -> Statement {
        let start = current.range
        func done(_ k: Statement.Kind) -> Statement { Statement(kind: k, range: start.to(previous.range)) }
        switch current.kind {
        case .keyword(.for):
            let (variable, lower, upper) = try parseForHead()
            loopDepth += 1
            defer { loopDepth -= 1 }
            if loopDepth > CompilerLimits.maxNesting {
                throw fail(.nestingTooDeep, "for blocks nested more than \(CompilerLimits.maxNesting) levels deep")
            }
            let (body, _) = try parseBlock(in: kind)
            rejectInputAndReturn(in: body, block: "a for block")
            return done(.loop(variable: variable, lower: lower, upper: upper, body: body))
        case .keyword(.if):
            return try parseIfStatement(in: kind)
        case .keyword(.input):
            _ = advance()
            let name = try expectIdentifier("after 'input'")
            try expect(.colon, "after the input name")
            if current.kind == .punct(.lbracket) {
                let shape = try parseShape()
                return done(.input(name, .vector(shape, domain: check(.in) ? try parseInputDomain() : nil)))
            }
            let lower = try parseExpr()
            try expect(.rangeUpTo, "for a token input's ids, like 'input token: 0..<256' (or a shape like [n] for a vector)")
            return done(.input(name, .ids(lower: lower, upper: try parseExpr())))
        case .keyword(.output):
            _ = advance()
            return done(.output(try parseExpr()))
        case .keyword(.state):
            _ = advance()
            let name = try expectIdentifier("after 'state'")
            try expect(.colon, "after the state name")
            let shape = try parseShape()
            try expect(.equal, "after the state's shape (a state needs an initial value)")
            return done(.state(name, shape, try parseExpr()))
        case .keyword(.param):
            _ = advance()
            var items: [ParamItem] = []
            repeat {
                let name = try expectIdentifier("for a param")
                try expect(.colon, "after the param name")
                let shape = try parseShape()
                var key: Identifier?
                if check(.from) {
                    _ = advance()
                    guard case .string(let text) = current.kind else {
                        throw fail(.expectedToken, "expected the weights file's key as a string after 'from' (from \"layers.{i}.weight\"), found \(current.kind.display)")
                    }
                    key = Identifier(name: text, range: advance().range)
                }
                let initial = accept(.equal) ? try parseExpr() : nil
                items.append(ParamItem(name: name, shape: shape, key: key, initializer: initial))
            } while accept(.comma)
            return done(.param(items))
        case .keyword(.return):
            _ = advance()
            var values = [try parseExpr()]
            while accept(.comma) { values.append(try parseExpr()) }
            return done(.return(values))
        case .identifier:
            let name = try expectIdentifier("")
            if accept(.arrow) { return done(.update(name, try parseExpr())) }
            if accept(.equal) { return done(.binding(name, try parseExpr())) }
            if check(.comma) {
                var names = [name]
                while accept(.comma) { names.append(try expectIdentifier("after ',' in a list of names to bind")) }
                try expect(.equal, "after the names to bind ('a, b = f(x)')")
                return done(.destructure(names, try parseExpr()))
            }
            throw fail(.expectedToken, "expected '=' or '<-' after '\(name.name)', found \(current.kind.display)")
        default:
            throw fail(.expectedStatement, "expected a statement, found \(current.kind.display)")
        }
    }

    /// `if c { ... } [else if ... | else { ... }]`, a statement.
    private mutating func parseIfStatement(in kind: BlockKind) throws -> Statement {
        let start = advance().range  // 'if'
        let condition = try parseCondition()
        loopDepth += 1
        defer { loopDepth -= 1 }
        if loopDepth > CompilerLimits.maxNesting {
            throw fail(.nestingTooDeep, "blocks nested more than \(CompilerLimits.maxNesting) levels deep")
        }
        let (then, close) = try parseBlock(in: kind)
        rejectInputAndReturn(in: then, block: "an if block")
        var otherwise: [Statement] = []
        var end = close
        if check(.else) {
            _ = advance()
            if check(.if) {
                let chained = try parseIfStatement(in: kind)
                otherwise = [chained]
                end = chained.range
            } else {
                let (body, close) = try parseBlock(in: kind)
                rejectInputAndReturn(in: body, block: "an if block")
                otherwise = body
                end = close
            }
        }
        return Statement(kind: .conditional(condition: condition, then: then, else: otherwise, thenClose: close), range: start.to(end))
    }

    /// Inputs belong at a model's top level and a function returns at its end, so neither
    /// may sit in a for or if block.
    private func rejectInputAndReturn(in body: [Statement], block: String) {
        for s in body {
            switch s.kind {
            case .input: diagnostics.error(.statementNotAllowed, "'input' is not allowed in \(block)", at: s.range)
            case .return: diagnostics.error(.statementNotAllowed, "'return' is not allowed in \(block); the function returns after it", at: s.range)
            default: break
            }
        }
    }

    /// The condition of an if, before its `{`.
    private mutating func parseCondition() throws -> Expr {
        try nested { try $0.parseDisjunction() }
    }

    /// `in [lower, upper]` or `in {v1, v2, ...}` after an input's shape.
    private mutating func parseInputDomain() throws -> InputDomain {
        let start = advance().range
        if accept(.lbrace) {
            var values = [try parseExpr()]
            while accept(.comma) { values.append(try parseExpr()) }
            let close = try expect(.rbrace, "to close the input's set of values, like {0, 1}").range
            return .set(values, range: start.to(close))
        }
        try expect(.lbracket, "after 'in': an interval like [0, 1] or a set like {0, 1}")
        let lower = try parseExpr()
        try expect(.comma, "between the interval's bounds, like [0, 1]")
        let upper = try parseExpr()
        let close = try expect(.rbracket, "to close the interval, like [0, 1]").range
        return .interval(lower: lower, upper: upper, range: start.to(close))
    }

    private mutating func parseShape() throws -> ShapeAnnotation {
        let open = try expect(.lbracket, "to begin a shape like [n] or [m, n]").range
        var dims = [try parseExpr()]
        while accept(.comma) { dims.append(try parseExpr()) }
        let close = try expect(.rbracket, "to close the shape").range
        return ShapeAnnotation(dims: dims, range: open.to(close))
    }

    // MARK: Expressions

    mutating func parseExpr() throws -> Expr {
        try nested { parser in
            parser.check(.if) ? try parser.parseIfExpression() : try parser.parseDisjunction()
        }
    }

    /// `if c { a } else { b }` (or `else if ...`): an expression picked at compile time.
    private mutating func parseIfExpression() throws -> Expr {
        let start = advance().range  // 'if'
        let condition = try parseCondition()
        let then = try parseBracedExpression("after the condition of 'if'")
        guard check(.else) else {
            throw fail(.expectedToken, "expected 'else' after an if expression's first branch (an if expression needs both), found \(current.kind.display)")
        }
        _ = advance()
        let otherwise = check(.if) ? try nested { try $0.parseIfExpression() } : try parseBracedExpression("after 'else'")
        return try node(.conditional(condition, then: then, else: otherwise), start.to(previous.range))
    }

    /// `{ expr }`, a branch of an if expression.
    private mutating func parseBracedExpression(_ context: String) throws -> Expr {
        try expect(.lbrace, context)
        let e = try parseExpr()
        try expect(.rbrace, "to close the branch (a branch of an if expression holds one expression)")
        return e
    }

    private mutating func parseDisjunction() throws -> Expr {
        var lhs = try parseConjunction()
        while accept(.or) {
            let rhs = try parseConjunction()
            lhs = try node(.logical(.or, lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    private mutating func parseConjunction() throws -> Expr {
        var lhs = try parseComparison()
        while accept(.and) {
            let rhs = try parseComparison()
            lhs = try node(.logical(.and, lhs, rhs), lhs.range.to(rhs.range))
        }
        return lhs
    }

    /// `a < b`: one comparison at most (`a < b < c` is an error, not a chain).
    private mutating func parseComparison() throws -> Expr {
        let lhs = try parseAdditive()
        if check(.arrow) {
            throw fail(.expectedToken, "'<-' updates a state and cannot appear in an expression; to compare with a negative number write '< -'")
        }
        guard case .punct(let p) = current.kind, let op = ComparisonOp(rawValue: p.rawValue) else { return lhs }
        _ = advance()
        let rhs = try parseAdditive()
        if case .punct(let q) = current.kind, ComparisonOp(rawValue: q.rawValue) != nil {
            throw fail(.expectedToken, "comparisons do not chain: write 'a < b && b < c' instead of 'a < b < c'")
        }
        return try node(.compare(op, lhs, rhs), lhs.range.to(rhs.range))
    }

    /// Parses one level deeper, failing past `CompilerLimits.maxNesting` levels.
    private mutating func nested(_ parse: (inout Parser) throws -> Expr) throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        if depth > CompilerLimits.maxNesting {
            throw fail(.nestingTooDeep, "expression nested more than \(CompilerLimits.maxNesting) levels deep")
        }
        return try parse(&self)
    }

    /// A new operation node, failing when its tree grows deeper than
    /// `CompilerLimits.maxExpressionDepth` (a chain nests without parentheses).
    private func node(_ kind: Expr.Kind, _ range: SourceRange) throws -> Expr {
        let e = Expr(kind, range)
        if e.depth > CompilerLimits.maxExpressionDepth {
            throw fail(.nestingTooDeep, "expression more than \(CompilerLimits.maxExpressionDepth) operations deep: split it with bindings")
        }
        return e
    }

    private mutating func parseAdditive() throws -> Expr {
        var lhs = try parseMultiplicative()
        while true {
            let op: BinaryOp
            if check(.plus) { op = .add } else if check(.minus) { op = .sub } else { return lhs }
            _ = advance()
            let rhs = try parseMultiplicative()
            lhs = try node(.binary(op, lhs, rhs), lhs.range.to(rhs.range))
        }
    }

    private mutating func parseMultiplicative() throws -> Expr {
        var lhs = try parseUnary()
        while true {
            let op: BinaryOp
            if check(.star) { op = .mul } else if check(.slash) { op = .div } else if check(.at) { op = .matmul } else { return lhs }
            _ = advance()
            let rhs = try parseUnary()
            lhs = try node(.binary(op, lhs, rhs), lhs.range.to(rhs.range))
        }
    }

    private mutating func parseUnary() throws -> Expr {
        if check(.minus) || check(.plus) || check(.bang) {
            let t = advance()
            let operand = try nested { try $0.parseUnary() }
            let op: UnaryOp = t.kind == .punct(.minus) ? .neg : t.kind == .punct(.plus) ? .plus : .not
            return try node(.unary(op, operand), t.range.to(operand.range))
        }
        return try parsePower()
    }

    private mutating func parsePower() throws -> Expr {
        let base = try parsePostfix()
        guard accept(.caret) else { return base }
        let exponent = try nested { try $0.parseUnary() }
        return try node(.binary(.pow, base, exponent), base.range.to(exponent.range))
    }

    private mutating func parsePostfix() throws -> Expr {
        var e = try parsePrimary()
        while check(.lbracket) {
            _ = advance()
            var subs = [try parseSubscript()]
            while accept(.comma) { subs.append(try parseSubscript()) }
            let close = try expect(.rbracket, "to close the subscript").range
            e = try node(.index(e, subs), e.range.to(close))
        }
        return e
    }

    private mutating func parseSubscript() throws -> Subscript {
        let lower: Expr? = check(.colon) ? nil : try parseExpr()
        guard accept(.colon) else {
            guard let lower else { throw fail(.expectedExpression, "expected an index") }
            return .index(lower)
        }
        let upper: Expr? = (check(.rbracket) || check(.comma)) ? nil : try parseExpr()
        return .range(lower, upper)
    }

    private mutating func parsePrimary() throws -> Expr {
        let t = current
        switch t.kind {
        case .number(let v):
            _ = advance()
            return Expr(.number(v), t.range)
        case .string(let text):
            _ = advance()
            return Expr(.string(text), t.range)
        case .identifier(let name):
            _ = advance()
            guard accept(.lparen) else { return Expr(.name(name), t.range) }
            var args: [CallArgument] = []
            while !check(.rparen) {
                var label: Identifier?
                if case .identifier(let l) = current.kind, tokens[index + 1].kind == .punct(.colon) {
                    label = Identifier(name: l, range: advance().range)
                    _ = advance()
                }
                args.append(CallArgument(label: label, value: try parseExpr()))
                if !accept(.comma) { break }
            }
            let close = try expect(.rparen, "to close the argument list of '\(name)'").range
            return try node(.call(Identifier(name: name, range: t.range), args), t.range.to(close))
        case .punct(.lparen):
            _ = advance()
            let inner = try parseExpr()
            try expect(.rparen, "to close the parenthesis")
            return inner
        case .punct(.lbracket):
            _ = advance()
            if check(.for) { return try parseComprehension(open: t.range) }
            var items: [Expr] = []
            while !check(.rbracket) {
                items.append(try parseExpr())
                if !accept(.comma) { break }
            }
            let close = try expect(.rbracket, "to close the list").range
            return try node(.list(items), t.range.to(close))
        default:
            throw fail(.expectedExpression, "expected an expression, found \(t.kind.display)")
        }
    }

    /// `for NAME in A..<B`, shared by for blocks and comprehensions.
    private mutating func parseForHead() throws -> (Identifier, Expr, Expr) {
        _ = advance()  // 'for'
        let variable = try expectIdentifier("after 'for'")
        guard check(.in) else { throw fail(.expectedToken, "expected 'in' after the loop variable, found \(current.kind.display)") }
        _ = advance()
        let lower = try parseExpr()
        try expect(.rangeUpTo, "in the range 'a..<b'")
        return (variable, lower, try parseExpr())
    }

    private mutating func parseComprehension(open: SourceRange) throws -> Expr {
        let (variable, lower, upper) = try parseForHead()
        try expect(.colon, "after the range of the comprehension")
        let body = try parseExpr()
        let close = try expect(.rbracket, "to close the comprehension").range
        return try node(.comprehension(variable: variable, lower: lower, upper: upper, body: body), open.to(close))
    }
}
