import Foundation
import Testing
@testable import RNNRuntime

/// Output paths: regular files replaced atomically with their permissions, special files
/// written in place, links followed, clear errors, nothing left behind.
@Suite(.serialized) struct OutputFileTests {
    let folder: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rnnc-out-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains("rnnc-tmp") }
    }

    @Test func replacesARegularFileKeepingItsPermissions() throws {
        let path = folder + "/out.json"
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o600)
        try OutputFile.write(Array("new".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        var info = stat()
        stat(path, &info)
        #expect(info.st_mode & 0o777 == 0o600)
        try OutputFile.write(Array("fresh".utf8), to: folder + "/new.json")
        #expect(try String(contentsOfFile: folder + "/new.json", encoding: .utf8) == "fresh")
        #expect(try leftovers().isEmpty)
    }

    @Test func devicesAreWrittenInPlace() throws {
        try OutputFile.write(Array("discarded".utf8), to: "/dev/null")
        var info = stat()
        stat("/dev/null", &info)
        #expect(info.st_mode & S_IFMT == S_IFCHR, "/dev/null is still a device")
    }

    @Test func aFifoIsWrittenNotReplaced() throws {
        let path = folder + "/pipe"
        #expect(mkfifo(path, 0o600) == 0)
        let received = UncheckedBox<[UInt8]>([])
        let reader = Thread {
            let handle = FileHandle(forReadingAtPath: path)
            received.value = [UInt8](handle?.readDataToEndOfFile() ?? Data())
        }
        reader.start()
        try OutputFile.write(Array("through the pipe".utf8), to: path)
        while !reader.isFinished { usleep(1000) }
        #expect(String(decoding: received.value, as: UTF8.self) == "through the pipe")
        var info = stat()
        lstat(path, &info)
        #expect(info.st_mode & S_IFMT == S_IFIFO)
    }

    @Test func linksAreFollowed() throws {
        let target = folder + "/target.csv", link = folder + "/link.csv"
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try OutputFile.write(Array("new".utf8), to: link)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "new")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
    }

    @Test func failuresSayWhy() throws {
        func message(_ path: String) -> String {
            do { try OutputFile.write([1], to: path) } catch { return error.description }
            return "no error"
        }
        #expect(message(folder).contains("is a directory"))
        #expect(message(folder + "/missing/x.json").contains("no folder"))
        #expect(message("").contains("empty path"))
        #expect(try leftovers().isEmpty)
    }
}

/// Set by the test's own SIGHUP handler.
nonisolated(unsafe) private var hangups = 0

extension OutputFileTests {
    /// A hook that sends SIGHUP while `path`'s temporary file exists. Other suites write files
    /// in parallel: only this write is interrupted. Test threads (dispatch workers) block
    /// signals, so it unblocks SIGHUP first; a real interrupt reaches a thread that does not.
    func hangUp(writing path: String) -> (String) -> Void {
        { destination in
            guard destination == path else { return }
            var set = sigset_t(), old = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, SIGHUP)
            pthread_sigmask(SIG_UNBLOCK, &set, &old)
            raise(SIGHUP)
            pthread_sigmask(SIG_SETMASK, &old, nil)
        }
    }

    /// A signal while the temporary file exists removes it and reaches the handler that was
    /// there before (here the test's own, which counts), and the old file stays whole.
    @Test func anInterruptedWriteLeavesNothingBehind() throws {
        let path = folder + "/kept.json"
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        let before = signal(SIGHUP) { _ in hangups += 1 }
        defer { signal(SIGHUP, before) }
        OutputFile.temporaryCreated = hangUp(writing: path)
        defer { OutputFile.temporaryCreated = nil }
        #expect(throws: RuntimeError.self) { try OutputFile.write(Array("new".utf8), to: path) }
        #expect(hangups == 1)
        #expect(try leftovers().isEmpty)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
    }
}

extension OutputFileTests {
    /// Under `nohup` SIGHUP is ignored: a hangup mid-write changes nothing, the write completes.
    @Test func anIgnoredSignalDoesNotStopTheWrite() throws {
        let path = folder + "/nohup.json"
        let before = signal(SIGHUP, SIG_IGN)
        defer { signal(SIGHUP, before) }
        OutputFile.temporaryCreated = hangUp(writing: path)
        defer { OutputFile.temporaryCreated = nil }
        try OutputFile.write(Array("written".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "written")
        #expect(try leftovers().isEmpty)
    }
}

/// A value a test thread fills in (the test waits for the thread before reading it).
final class UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
