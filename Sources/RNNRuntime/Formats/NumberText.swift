/// One number written as text (a CSV field, a JSON number, a `--stream` value), or nil.
/// Swift's `Double(_:)` reads C strings, so a NUL byte ends the number early (`"1\0" + "9"`
/// reads as 1); text with one is no number here.
package func parseNumber(_ text: some StringProtocol) -> Double? {
    guard !text.utf8.contains(0) else { return nil }
    return Double(String(text))
}
