#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Reads an input file whole: a regular file, a device or pipe (`/dev/stdin`, a FIFO, `<(...)`),
/// or `-` for standard input. Reads stop at `maxBytes`, so a device that never ends cannot
/// exhaust memory, and every failure says why (no such file, permission denied, a directory).
package enum InputFile {
    /// The largest input rnnc reads: 4 GiB.
    package static let maxBytes = 1 << 32

    package static func read(_ path: String, maxBytes: Int = InputFile.maxBytes) throws(RuntimeError) -> [UInt8] {
        if path == "-" { return try readAll(STDIN_FILENO, shown: "standard input", maxBytes: maxBytes) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno)).lowercased()
            throw .io("cannot read '\(path)': \(reason)")
        }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { throw .io("cannot read '\(path)': it is a directory") }
        return try readAll(fd, shown: path, maxBytes: maxBytes)
    }

    private static func readAll(_ fd: Int32, shown: String, maxBytes: Int) throws(RuntimeError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("cannot read '\(shown)': \(String(cString: strerror(errno)).lowercased())")
            }
            if n == 0 { return bytes }
            guard bytes.count + n <= maxBytes else { throw .io("cannot read '\(shown)': it is larger than \(maxBytes) bytes") }
            bytes += chunk[0..<n]
        }
    }

    /// Whether `bytes` look like a binary file rather than text: a NUL byte in the first 8 KiB.
    package static func isBinary(_ bytes: [UInt8]) -> Bool { bytes.prefix(8192).contains(0) }
}
