import Foundation

/// "Did you mean" for unknown names: the closest known name by edit distance, and the stdlib
/// module that defines a function the program did not import.
package enum Suggestions {
    /// The known name closest to `name`, if it is close: at most one edit for short names,
    /// a third of the name's length for longer ones.
    package static func closest(to name: String, among candidates: some Sequence<String>) -> String? {
        let limit = max(1, name.count / 3)
        var best: (String, Int)?
        for c in candidates where c != name {
            let d = editDistance(name, c, limit: limit)
            if d <= limit, d < (best?.1 ?? .max) || (d == best?.1 && c < best!.0) { best = (c, d) }
        }
        return best?.0
    }

    /// `; did you mean 'x'?`, or nothing.
    static func didYouMean(_ name: String, among candidates: some Sequence<String>) -> String {
        closest(to: name, among: candidates).map { "; did you mean '\($0)'?" } ?? ""
    }

    /// Edit distance with adjacent transpositions (`onse` → `ones` is one edit); stops early
    /// (returning more than `limit`) once it must exceed it.
    package static func editDistance(_ a: String, _ b: String, limit: Int = .max) -> Int {
        let a = Array(a), b = Array(b)
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var row = [Int](repeating: 0, count: b.count + 1)
            row[0] = i
            for j in 1...b.count {
                row[j] = min(previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1), previous[j] + 1, row[j - 1] + 1)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { row[j] = min(row[j], before[j - 2] + 1) }
            }
            if row.min()! > limit { return limit + 1 }
            (before, previous) = (previous, row)
        }
        return previous[b.count]
    }

    /// The stdlib module (`cells.gru`) whose file defines function `name`, found by reading
    /// the stdlib's `fn` lines.
    static func stdlibModule(defining name: String, stdlib: String?) -> String? {
        guard let stdlib, let walker = FileManager.default.enumerator(atPath: stdlib) else { return nil }
        for case let file as String in walker where file.hasSuffix(".rnn") {
            guard let text = try? String(contentsOfFile: (stdlib as NSString).appendingPathComponent(file), encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("fn \(name)(") || line.hasPrefix("fn \(name) (") {
                return String(file.dropLast(4)).replacingOccurrences(of: "/", with: ".")
            }
        }
        return nil
    }
}
