#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes an output file the way users of a compiler expect:
/// - `-` is standard output;
/// - a device, FIFO or socket (`/dev/null`, `/dev/stdout`, a pipe) is written in place, never
///   replaced by a regular file;
/// - a regular file (or a new one) is written atomically: to a temporary file in the same
///   folder, flushed, given the permissions of the file it replaces, then renamed over it, so
///   a reader never sees half a file and a failure leaves the old one intact. The temporary
///   file is removed on failure and when the process is interrupted (SIGINT, SIGTERM, SIGHUP);
///   only SIGKILL can leave one behind, named `.NAME.rnnc-tmp-*`;
/// - a symbolic link is followed: its target is replaced, the link kept.
package enum OutputFile {
    /// Called with the destination once its temporary file exists (tests deliver a signal here).
    nonisolated(unsafe) static var temporaryCreated: ((String) -> Void)?

    package static func write(_ bytes: [UInt8], to path: String) throws(RuntimeError) {
        if path == "-" { return try writeAll(bytes, to: STDOUT_FILENO, path: "standard output") }
        guard !path.isEmpty else { throw .io("cannot write to an empty path") }
        var target = path
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
            guard let resolved = realpath(path, nil) else { throw failure(path, "its link points nowhere") }
            target = String(cString: resolved)
            free(resolved)
        }
        if stat(target, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw .io("cannot write '\(path)': it is a directory")
            default: return try writeInPlace(bytes, to: target, shown: path)
            }
            return try replace(target, with: bytes, mode: info.st_mode & 0o7777, shown: path)
        }
        return try replace(target, with: bytes, mode: nil, shown: path)
    }

    private static func failure(_ path: String, _ reason: String) -> RuntimeError {
        .io("cannot write '\(path)': \(reason)")
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    /// A device, FIFO or socket: opened for writing and written, no temporary file.
    private static func writeInPlace(_ bytes: [UInt8], to path: String, shown: String) throws(RuntimeError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(shown, errnoText()) }
        defer { close(fd) }
        try writeAll(bytes, to: fd, path: shown)
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(RuntimeError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(path, errnoText())
            }
            written += n
        }
    }

    /// Writes a temporary file beside `path` and renames it over `path`.
    private static func replace(_ path: String, with bytes: [UInt8], mode: mode_t?, shown: String) throws(RuntimeError) {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw failure(shown, "no folder '\(folder)'")
        }
        let temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).rnnc-tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode ?? 0o666)
        guard fd >= 0 else { throw failure(shown, errnoText()) }
        PendingTemporary.set(temporary)
        defer { PendingTemporary.clear() }
        temporaryCreated?(path)
        var closed = false
        do throws(RuntimeError) {
            // The new file keeps the permissions of the one it replaces (open applied the umask).
            if let mode, fchmod(fd, mode) != 0 { throw failure(shown, errnoText()) }
            try writeAll(bytes, to: fd, path: shown)
            guard fsync(fd) == 0 else { throw failure(shown, errnoText()) }
            closed = true
            guard close(fd) == 0 else { throw failure(shown, errnoText()) }
            guard rename(temporary, path) == 0 else { throw failure(shown, errnoText()) }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
    }
}

/// The temporary file being written, for the signal handlers to remove. The handlers are
/// installed only while a temporary file exists, and the previous ones are put back after
/// (rnnc is also a library: an app's own handlers must stay its own). A handler may only call
/// async-signal-safe functions (`unlink`, `sigaction`, `raise`), so the path is a fixed C
/// buffer. One write at a time holds it (the lock).
private enum PendingTemporary {
    static let signals = [SIGINT, SIGTERM, SIGHUP]
    nonisolated(unsafe) static let path = UnsafeMutablePointer<CChar>.allocate(capacity: Int(PATH_MAX) + 1)
    nonisolated(unsafe) static let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 3)
    static let lock = NSLock()

    static func set(_ temporary: String) {
        lock.lock()
        let bytes = Array(temporary.utf8.prefix(Int(PATH_MAX)))
        for (i, b) in bytes.enumerated() { path[i] = CChar(bitPattern: b) }
        path[bytes.count] = 0
        var action = sigaction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = { sig in PendingTemporary.interrupted(sig) }
        #else
        action.__sigaction_u.__sa_handler = { sig in PendingTemporary.interrupted(sig) }
        #endif
        sigemptyset(&action.sa_mask)
        for (k, sig) in signals.enumerated() {
            sigaction(sig, &action, previous + k)
            // A signal the process ignores (SIGHUP under nohup) stays ignored: the write goes on.
            if ignores(previous[k]) { sigaction(sig, previous + k, nil) }
        }
    }

    private static func ignores(_ action: sigaction) -> Bool {
        #if canImport(Glibc)
        let handler = action.__sigaction_handler.sa_handler
        #else
        let handler = action.__sigaction_u.__sa_handler
        #endif
        return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    static func clear() {
        for (k, sig) in signals.enumerated() { sigaction(sig, previous + k, nil) }
        lock.unlock()
    }

    /// Removes the temporary file, puts the previous handler back and delivers the signal to it.
    private static func interrupted(_ sig: Int32) {
        unlink(path)
        for (k, s) in signals.enumerated() where s == sig { sigaction(sig, previous + k, nil) }
        raise(sig)
    }
}

/// Writes bytes to `path` as `OutputFile.write` does (atomically for a regular file).
package func writeAtomically(_ bytes: [UInt8], to path: String) throws(RuntimeError) {
    try OutputFile.write(bytes, to: path)
}
