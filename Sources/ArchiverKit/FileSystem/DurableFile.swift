import Foundation

/// POSIX helpers for the `.partial` → fsync → rename → directory fsync sequence.
enum DurableFile {
    /// Creates `path` afresh for writing (a stale file or planted link of that name is removed, never followed),
    /// with `mode` whatever the umask; see ``PrivateFile/createExclusive(_:mode:)``.
    static func createForWriting(_ path: String, mode: mode_t = PrivateFile.fileMode) throws(PackingError) -> Int32 {
        do {
            return try PrivateFile.createExclusive(path, mode: mode)
        } catch {
            throw PackingError(
                code: isDiskFull(error.rawValue) ? .diskFull : .io,
                message: "cannot create \(path)",
                cause: error
            )
        }
    }

    /// Opens `path` for reading; with `followsLinks: false` a symbolic link is refused (`ELOOP`).
    static func openForReading(_ path: String, followsLinks: Bool = true) throws(PackingError) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (followsLinks ? 0 : O_NOFOLLOW))
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
    /// - Parameters:
    ///   - path: The file, or what messages call it when `name` is given.
    ///   - followsSymlinks: Whether the last component may be a symbolic link.
    ///   - directory: The folder descriptor `name` is relative to (`openat`); default: the working directory.
    ///   - name: The name to open in `directory`; default: `path`.
    /// - Returns: The open descriptor, blocking again (the caller closes it).
    /// - Throws: ``PackingError`` `.notFound` when missing, `.io` when it is not a regular file or cannot be opened.
    static func openRegularFileForReading(
        _ path: String,
        followsSymlinks: Bool,
        in directory: Int32 = AT_FDCWD,
        name: String? = nil
    ) throws(PackingError) -> Int32 {
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followsSymlinks ? 0 : O_NOFOLLOW)
        let fd = openat(directory, name ?? path, flags)
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
    /// - Throws: What ``openRegularFileForReading(_:followsSymlinks:in:name:)`` throws, or `.io` on a read error.
    static func readSmallRegularFile(
        _ path: String,
        maximumBytes: Int,
        followsSymlinks: Bool,
        in directory: Int32 = AT_FDCWD,
        name: String? = nil
    ) throws(PackingError) -> [UInt8]? {
        let fd = try openRegularFileForReading(path, followsSymlinks: followsSymlinks, in: directory, name: name)
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
    ///
    /// The `.partial` is created with `O_EXCL | O_NOFOLLOW` and `mode` (default ``PrivateFile/fileMode``, 0640)
    /// whatever the umask, so the renamed file is always our own regular file.
    static func writeAtomically(
        _ bytes: [UInt8],
        to path: String,
        mode: mode_t = PrivateFile.fileMode
    ) throws(PackingError) {
        let partial = path + ".partial"
        let fd = try createForWriting(partial, mode: mode)
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

    /// The first `count` bytes of the open file `fd` (read with `pread`, the file position is left alone), or
    /// `nil` when it holds fewer or cannot be read: how a staged video's or a partial's reserved front is read.
    static func firstBytes(of fd: Int32, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let read = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return pread(fd, base + offset, count - offset, off_t(offset))
            }
            if read < 0, errno == EINTR { continue }
            guard read > 0 else { return nil }
            offset += read
        }
        return bytes
    }

    /// An I/O error from the current `errno`; `ENOSPC`/`EDQUOT` give ``PackingError/Code/diskFull``.
    static func ioError(_ message: String) -> PackingError {
        let code = errno
        return PackingError(
            code: isDiskFull(code) ? .diskFull : .io,
            message: message,
            cause: ErrnoFailure(rawValue: code)
        )
    }

    /// Whether `code` means the file system or the user's quota is full.
    static func isDiskFull(_ code: Int32) -> Bool { code == ENOSPC || code == EDQUOT }
}
