import Foundation

/// POSIX helpers for the `.partial` → fsync → rename → directory fsync sequence.
enum DurableFile {
    /// Opens `path` for writing, creating or truncating it, with mode 0644.
    static func createForWriting(_ path: String) throws(PackingError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("cannot create \(path)") }
        return fd
    }

    /// Opens `path` for reading.
    static func openForReading(_ path: String) throws(PackingError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw PackingError(
                code: code == ENOENT ? .notFound : .io,
                message: "cannot open \(path)",
                cause: ErrnoFailure(rawValue: code)
            )
        }
        return fd
    }

    /// Writes all of `buffer` to `fd`, retrying on short writes and `EINTR`.
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws(PackingError) {
        var offset = 0
        while offset < buffer.count {
            guard let base = buffer.baseAddress else { return }
            let written = write(fd, base + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw ioError("cannot write \(path)")
            }
            offset += written
        }
    }

    /// Reads up to `buffer.count` bytes, retrying on `EINTR`; returns 0 at end of file.
    static func readSome(
        _ fd: Int32,
        into buffer: UnsafeMutableRawBufferPointer,
        path: String
    ) throws(PackingError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        while true {
            let count = read(fd, base, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw ioError("cannot read \(path)") }
        }
    }

    /// Flushes `fd` to stable storage.
    static func sync(_ fd: Int32, path: String) throws(PackingError) {
        guard fsync(fd) == 0 else { throw ioError("cannot fsync \(path)") }
    }

    /// Renames `source` over `destination`, then fsyncs the directory holding `destination`.
    static func commit(_ source: String, to destination: String) throws(PackingError) {
        guard rename(source, destination) == 0 else { throw ioError("cannot rename \(source) to \(destination)") }
        let directory = (destination as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot open directory \(directory) to fsync it") }
        defer { close(fd) }
        try sync(fd, path: directory)
    }

    /// Writes `bytes` to `path` atomically and durably (`path.partial`, fsync, rename, directory fsync).
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(PackingError) {
        let partial = path + ".partial"
        let fd = try createForWriting(partial)
        do {
            let result = bytes.withUnsafeBytes { buffer in
                Result { () throws(PackingError) in try writeAll(fd, buffer, path: partial) }
            }
            try result.get()
            try sync(fd, path: partial)
        } catch {
            close(fd)
            unlink(partial)
            throw error
        }
        close(fd)
        do {
            try commit(partial, to: path)
        } catch {
            unlink(partial)
            throw error
        }
    }

    static func ioError(_ message: String) -> PackingError {
        PackingError(code: .io, message: message, cause: ErrnoFailure(rawValue: errno))
    }
}
