import Testing
@testable import RNNCompiler
@testable import RNNRuntime

/// Which affine transitions run as delay plans (`ScanLowering.nilpotentPowers`).
struct DelayPlanTests {
    static func rows(_ n: Int, _ entry: (Int, Int) -> Double) -> [[Int: Double]] {
        (0..<n).map { i in Dictionary(uniqueKeysWithValues: (0..<n).compactMap { j in entry(i, j) == 0 ? nil : (j, entry(i, j)) }) }
    }

    /// A shift by `by` of a width-`n` register: `A^m = 0` for `m = ceil(n / by)`.
    @Test(arguments: [(6, 2, 2), (9, 1, 8), (4, 4, 0)])
    func shiftRegistersHaveTheirPowers(n: Int, by: Int, powers: Int) throws {
        let a = Self.rows(n) { i, j in j == i + by ? 1 : 0 }
        if powers == 0 {
            #expect(ScanLowering.nilpotentPowers(a) == nil, "a zero A is diagonal")
            return
        }
        let found = try #require(ScanLowering.nilpotentPowers(a))
        #expect(found.count == powers)
        // The last power shifts by `by * powers`, the furthest a value travels.
        #expect(found.last!.enumerated().allSatisfy { i, row in row.allSatisfy { $0.0 == i + by * powers && $0.1 == 1 } })
    }

    /// A strictly triangular matrix is nilpotent too, and its powers thin out.
    @Test func strictlyTriangularMatricesAreDelays() throws {
        #expect(try #require(ScanLowering.nilpotentPowers(Self.rows(6) { i, j in j > i ? 0.5 : 0 })).count == 5)
    }

    /// A register longer than `maxPowers + 1`, a rotation and a dense matrix keep their other plans.
    @Test func otherTransitionsAreRefused() {
        let n = ScanPlan.Recurrence.maxPowers + 2
        #expect(ScanLowering.nilpotentPowers(Self.rows(n) { i, j in j == i + 1 ? 1 : 0 }) == nil)
        #expect(ScanLowering.nilpotentPowers(Self.rows(2) { i, j in i == j ? 0 : (i < j ? -1 : 1) }) == nil)
        #expect(ScanLowering.nilpotentPowers(Self.rows(200) { i, j in Double((i * 7 + j) % 5) - 2 }) == nil)
    }
}
