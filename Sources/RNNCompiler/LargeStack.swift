import Foundation

/// Holds a closure for another thread; the caller waits for that thread, so no data race.
private final class ClosureBox: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Carries the result back from the other thread.
private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// Runs `body` on a thread with a 1 GiB stack and waits for it.
///
/// Elaboration recurses through nested expressions inside nested inlined calls; the
/// parser and the inliner bound each kind of depth, but their product can exceed a default
/// 8 MiB stack. The memory is reserved, not committed, so an ordinary program costs nothing.
func withLargeStack<T>(_ body: @escaping () -> T) -> T {
    let result = ResultBox<T>()
    let box = ClosureBox { result.value = body() }
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.run()
        done.signal()
    }
    thread.stackSize = 1 << 30
    thread.start()
    done.wait()
    return result.value!
}
