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

    /// Opens `path` for reading only if it is a regular file; never blocks on a FIFO or a device.
    ///
    /// The file is opened with `O_NONBLOCK` (a FIFO without a writer would otherwise block `open` for ever), then
    /// `fstat` must report a regular file, and only then is `O_NONBLOCK` cleared. With `followsSymlinks` false the
    /// last path component must not be a symbolic link (`O_NOFOLLOW`).
    ///
    /// - Throws: ``PackingError`` `.notFound` when missing, `.io` when it is not a regular file or cannot be opened.
    static func openRegularFileForReading(_ path: String, followsSymlinks: Bool) throws(PackingError) -> Int32 {
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followsSymlinks ? 0 : O_NOFOLLOW)
        let fd = open(path, flags)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP && !followsSymlinks {
                throw PackingError(
                    code: .io,
                    message: "\(path) is a symbolic link, which is not followed; pass the path of the file itself",
                    cause: ErrnoFailure(rawValue: code)
                )
            }
            throw PackingError(
                code: code == ENOENT ? .notFound : .io,
                message: "cannot open \(path)",
                cause: ErrnoFailure(rawValue: code)
            )
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = ioError("cannot stat \(path)")
            close(fd)
            throw error
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw PackingError(
                code: .io,
                message: "\(path) is not a regular file (a FIFO, device, socket or directory); pass a regular file"
            )
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Reads a small regular file whole, refusing one larger than `maximumBytes` without reading it all.
    ///
    /// - Returns: The bytes, or `nil` when the file holds more than `maximumBytes`.
    /// - Throws: What ``openRegularFileForReading(_:followsSymlinks:)`` throws, or `.io` on a read error.
    static func readSmallRegularFile(
        _ path: String,
        maximumBytes: Int,
        followsSymlinks: Bool
    ) throws(PackingError) -> [UInt8]? {
        let fd = try openRegularFileForReading(path, followsSymlinks: followsSymlinks)
        defer { close(fd) }
        var bytes: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try readSome(fd, into: buffer, path: path)
            if count == 0 { return bytes }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            if bytes.count > maximumBytes { return nil }
        }
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
