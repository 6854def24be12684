internal import CLibArchive
import Foundation

/// Owns one libarchive writer producing a POSIX pax tar file; the only writer-side code that touches libarchive.
///
/// Uses `pax_restricted`: plain ustar headers where they suffice and pax extended headers only for what ustar
/// cannot hold (non-ASCII or long names, members over 8 GiB), which GNU tar and bsdtar both list without warnings.
/// The output goes through our own write callback, which also hands the tar bytes to a ``BackgroundDigest`` that
/// computes their SHA-256 for the sidecar on a second thread (overlapping the re-hash of the staged files and the
/// writes on this one), so the finished tar is never read back.
///
/// - Important: Blocking. Create, use and finish a writer on one thread, off the cooperative pool.
final class ArchiveWriteHandle {
    /// Metadata shared by every member: deterministic ownership and modes.
    struct MemberMetadata {
        /// Modification time in seconds since 1970.
        var mtime: Int
    }

    /// The tar's length is padded to a multiple of this (tar's traditional record size), as tar(1) does.
    static let bytesInLastBlock = 10240

    private let archive: OpaquePointer
    private let sink: Sink
    private let locale = UTF8LocaleScope()
    private var isClosed = false

    /// Creates `path` afresh (private, never through a link: ``DurableFile/createForWriting(_:mode:)``) and opens a
    /// pax writer on it.
    ///
    /// - Parameters:
    ///   - path: The tar to create.
    ///   - bufferBytes: The size of each of the four buffers of the tar digest's ring, which are also the buffers
    ///     ``addFile(_:size:metadata:reading:)`` reads into.
    /// - Throws: ``PackingError`` when the file cannot be created or libarchive refuses the writer.
    convenience init(path: String, bufferBytes: Int = 128 << 10) throws(PackingError) {
        let fd = try DurableFile.createForWriting(path)
        try self.init(fd: fd, path: path, bufferBytes: bufferBytes)
    }

    /// Opens a pax writer on `fd`, a file open for writing at its current position.
    ///
    /// The handle owns `fd` and closes it. To continue a tar whose first bytes are already in the file, call
    /// ``hashExisting(_:inspect:)`` before adding members.
    ///
    /// - Parameters:
    ///   - fd: The file to write.
    ///   - path: Its path, for messages.
    ///   - bufferBytes: As for ``init(path:bufferBytes:)``.
    /// - Throws: ``PackingError`` when libarchive refuses the writer.
    init(fd: Int32, path: String, bufferBytes: Int) throws(PackingError) {
        sink = Sink(fd: fd, path: path, bufferBytes: bufferBytes)
        guard let archive = archive_write_new() else {
            close(fd)
            throw PackingError(code: .archive, message: "libarchive could not create a writer")
        }
        self.archive = archive
        let context = Unmanaged.passUnretained(sink).toOpaque()
        // No blocking in libarchive (a block size of 0): every header and every data chunk reaches the callback as
        // it is, so member data goes from our read buffer to write(2) without a copy into libarchive's block
        // buffer (and without that buffer). ``finish()`` pads the end to a multiple of 10240 bytes as libarchive's
        // default blocking and tar(1) do, so the output is byte-for-byte the same.
        let status = archive_write_set_format_pax_restricted(archive)
        guard status == ARCHIVE_OK,
            archive_write_set_bytes_per_block(archive, 0) == ARCHIVE_OK,
            archive_write_open2(archive, context, nil, archiveWriteCallback, nil, nil) == ARCHIVE_OK
        else {
            // deinit frees the writer and closes the file: every stored property is initialized here.
            throw Self.failure(archive, "cannot open a pax writer on \(path)")
        }
    }

    deinit {
        if !isClosed {
            // Abandoned (a failure): nothing more reaches the file, not even the end marker.
            archive_write_fail(archive)
            archive_write_free(archive)
            close(sink.fd)
        }
        sink.sha256.shutdown()
    }

    /// Adds a directory member with mode 0755.
    func addDirectory(_ name: String, metadata: MemberMetadata) throws(PackingError) {
        try writeHeader(name, type: clibarchive_ae_ifdir(), permissions: 0o755, size: 0, metadata: metadata)
        try finishEntry(name)
    }

    /// Adds a regular file member with mode 0644 whose contents are `bytes`.
    func addFile(_ name: String, bytes: [UInt8], metadata: MemberMetadata) throws(PackingError) {
        try addFile(name, size: Int64(bytes.count), metadata: metadata) { (write) throws(PackingError) in
            let result = bytes.withUnsafeBytes { buffer in Result { () throws(PackingError) in try write(buffer) } }
            try result.get()
        }
    }

    /// Adds a regular file member with mode 0644 of exactly `size` bytes produced by `produce`.
    ///
    /// `produce` receives a `write` function to call with each chunk. Writing fewer or more than `size`
    /// bytes throws ``PackingError/Code/sizeMismatch``.
    func addFile(
        _ name: String,
        size: Int64,
        metadata: MemberMetadata,
        produce: (_ write: (UnsafeRawBufferPointer) throws(PackingError) -> Void) throws(PackingError) -> Void
    ) throws(PackingError) {
        try writeHeader(name, type: clibarchive_ae_ifreg(), permissions: 0o644, size: size, metadata: metadata)
        var written: Int64 = 0
        try produce { (chunk) throws(PackingError) in
            guard written + Int64(chunk.count) <= size else {
                throw PackingError(code: .sizeMismatch, message: "\(name) grew beyond its declared \(size) bytes")
            }
            var offset = 0
            while offset < chunk.count {
                guard let base = chunk.baseAddress else { break }
                let count = archive_write_data(archive, base + offset, chunk.count - offset)
                guard count > 0 else {
                    // libarchive reports our callback's failure as status -30 with errno 0: the sink has the cause.
                    throw sink.error ?? Self.failure(archive, "cannot write \(name) into \(sink.path)")
                }
                offset += count
            }
            written += Int64(chunk.count)
        }
        guard written == size else {
            throw PackingError(code: .sizeMismatch, message: "\(name) supplied \(written) bytes, declared \(size)")
        }
        try finishEntry(name)
    }

    /// Adds a regular file member with mode 0644 of exactly `size` bytes that `fill` puts, a chunk at a time, into
    /// buffers of the tar digest's ring, so that they are written and hashed for the sidecar without being copied.
    ///
    /// `fill` receives an empty buffer and returns how many bytes it put at its start, 0 at the end; it may check
    /// the bytes (hash them) before returning, as they are exactly what is then written. Supplying fewer or more
    /// than `size` bytes throws ``PackingError/Code/sizeMismatch``.
    func addFile(
        _ name: String,
        size: Int64,
        metadata: MemberMetadata,
        reading fill: (UnsafeMutableRawBufferPointer) throws(PackingError) -> Int
    ) throws(PackingError) {
        let digest = sink.sha256
        try addFile(name, size: size, metadata: metadata) { (write) throws(PackingError) in
            while true {
                let buffer = digest.lendBuffer()
                defer { digest.endLending() }
                let count = try fill(buffer)
                if count == 0 { break }
                try write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
        }
    }

    /// Reads the first `byteCount` bytes of the file, hashing them for the tar's SHA-256 as if written by this handle.
    ///
    /// Each chunk and its offset go to `inspect` too. Nothing is written: call
    /// ``padExisting()`` before adding members.
    ///
    /// With `midstate` (the SHA-256 of exactly these `byteCount` bytes, computed as they were downloaded), the bytes
    /// are read for `inspect` only and the tar's SHA-256 continues from `midstate`: `inspect` must then prove that the
    /// bytes read are the ones that were hashed (the packer checks the content seal and the headers).
    ///
    /// - Precondition: Nothing was added yet and the file's position is 0; it holds at least `byteCount` bytes;
    ///   `midstate`, if any, has taken `byteCount` bytes.
    /// - Throws: ``PackingError`` for a read error or a file shorter than `byteCount`, or what `inspect` throws.
    func hashExisting(
        _ byteCount: Int64,
        continuing midstate: SHA256Midstate? = nil,
        inspect: (_ chunk: UnsafeRawBufferPointer, _ offset: Int64) throws(PackingError) -> Void
    ) throws(PackingError) {
        precondition(sink.byteCount == 0, "hashExisting must come before any member")
        precondition(midstate == nil || midstate?.byteCount == byteCount, "the midstate must cover the bytes read")
        let digest = sink.sha256
        var offset: Int64 = 0
        while offset < byteCount {
            let buffer = digest.lendBuffer()
            defer { digest.endLending() }
            let wanted = Int(min(Int64(buffer.count), byteCount - offset))
            let count = try DurableFile.readSome(
                sink.fd,
                into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]),
                path: sink.path
            )
            guard count > 0 else {
                throw PackingError(
                    code: .sizeMismatch,
                    message: "\(sink.path) ends at byte \(offset), before the \(byteCount) bytes it must hold"
                )
            }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            try inspect(chunk, offset)
            if midstate == nil { digest.update(chunk) }
            offset += Int64(count)
        }
        sink.continued = midstate?.resume()
        sink.byteCount = byteCount
        sink.writebackStart = byteCount  // already on disk: written and synced by the download
    }

    /// Pads the bytes read by ``hashExisting(_:inspect:)`` with zeros to the next 512-byte block, where the next
    /// member starts.
    func padExisting() throws(PackingError) {
        let remainder = Int(sink.byteCount % 512)
        if remainder > 0 {
            let zeros = [UInt8](repeating: 0, count: 512 - remainder)
            let result = zeros.withUnsafeBytes { bytes in Result { () throws(PackingError) in try sink.accept(bytes) } }
            try result.get()
        }
    }

    /// Writes the end-of-archive marker, checks `archive_write_close`, fsyncs and closes the file.
    ///
    /// - Returns: The tar's size and lowercase hex SHA-256.
    func finish() throws(PackingError) -> (size: Int64, sha256: String) {
        isClosed = true
        defer {
            archive_write_free(archive)
            close(sink.fd)
            sink.sha256.shutdown()
        }
        guard archive_write_close(archive) == ARCHIVE_OK else {
            throw sink.error ?? Self.failure(archive, "cannot finish \(sink.path)")
        }
        let remainder = Int(sink.byteCount % Int64(Self.bytesInLastBlock))
        if remainder > 0 {
            let zeros = [UInt8](repeating: 0, count: Self.bytesInLastBlock - remainder)
            let result = zeros.withUnsafeBytes { bytes in Result { () throws(PackingError) in try sink.accept(bytes) } }
            try result.get()
        }
        try DurableFile.sync(sink.fd, path: sink.path)
        return (sink.byteCount, sink.continued?.plainHex() ?? sink.sha256.finalizeHex())
    }

    private func writeHeader(
        _ name: String,
        type: UInt32,
        permissions: UInt32,
        size: Int64,
        metadata: MemberMetadata
    ) throws(PackingError) {
        let status = try Self.writeHeader(
            archive,
            name,
            type: type,
            permissions: permissions,
            size: size,
            metadata: metadata,
            locale: locale
        )
        guard status == ARCHIVE_OK else {
            throw sink.error ?? Self.failure(archive, "cannot write the header of \(name) into \(sink.path)")
        }
    }

    /// Writes one member header with the deterministic metadata of every member; returns libarchive's status.
    static func writeHeader(
        _ archive: OpaquePointer,
        _ name: String,
        type: UInt32,
        permissions: UInt32,
        size: Int64,
        metadata: MemberMetadata,
        locale: UTF8LocaleScope
    ) throws(PackingError) -> Int32 {
        guard let entry = archive_entry_new() else {
            throw PackingError(code: .archive, message: "libarchive could not allocate an entry")
        }
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname_utf8(entry, name)
        archive_entry_set_filetype(entry, type)
        archive_entry_set_perm(entry, permissions)
        archive_entry_set_size(entry, size)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        archive_entry_set_uname_utf8(entry, "root")
        archive_entry_set_gname_utf8(entry, "root")
        archive_entry_set_mtime(entry, time_t(metadata.mtime), 0)
        return locale.run { archive_write_header(archive, entry) }
    }

    /// The exact bytes a writer produces before the data of the first payload: the headers of `<bag>/`,
    /// `<bag>/data/` and `<bag>/data/<fileName>` declared at `size` bytes.
    ///
    /// Written by a libarchive writer of the same format and settings into memory; the writer is then failed, so
    /// no padding or end marker follows.
    static func leadingBytes(
        bagName: String,
        fileName: String,
        size: Int64,
        metadata: MemberMetadata
    ) throws(PackingError) -> [UInt8] {
        let memory = MemorySink()
        guard let archive = archive_write_new() else {
            throw PackingError(code: .archive, message: "libarchive could not create a writer")
        }
        defer {
            archive_write_fail(archive)
            archive_write_free(archive)
        }
        let locale = UTF8LocaleScope()
        let context = Unmanaged.passUnretained(memory).toOpaque()
        guard archive_write_set_format_pax_restricted(archive) == ARCHIVE_OK,
            archive_write_set_bytes_per_block(archive, 0) == ARCHIVE_OK,
            archive_write_open2(archive, context, nil, memoryWriteCallback, nil, nil) == ARCHIVE_OK
        else {
            throw failure(archive, "cannot open a pax writer in memory")
        }
        let root = bagName + "/"
        let members: [(String, UInt32, UInt32, Int64)] = [
            (root, clibarchive_ae_ifdir(), 0o755, 0),
            (root + "data/", clibarchive_ae_ifdir(), 0o755, 0),
            (root + "data/" + fileName, clibarchive_ae_ifreg(), 0o644, size),
        ]
        for (index, (name, type, permissions, memberSize)) in members.enumerated() {
            let status = try writeHeader(
                archive,
                name,
                type: type,
                permissions: permissions,
                size: memberSize,
                metadata: metadata,
                locale: locale
            )
            guard status == ARCHIVE_OK else { throw failure(archive, "cannot write the header of \(name)") }
            if index < 2, archive_write_finish_entry(archive) != ARCHIVE_OK {
                throw failure(archive, "cannot finish \(name)")
            }
        }
        return memory.bytes
    }

    /// Collects a writer's output in memory (for ``leadingBytes(bagName:fileName:size:metadata:)``).
    final class MemorySink {
        var bytes: [UInt8] = []
    }

    private func finishEntry(_ name: String) throws(PackingError) {
        guard archive_write_finish_entry(archive) == ARCHIVE_OK else {
            throw sink.error ?? Self.failure(archive, "cannot finish \(name) in \(sink.path)")
        }
    }

    static func failure(_ archive: OpaquePointer, _ message: String) -> PackingError {
        let text = archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
        return PackingError(
            code: .archive,
            message: message,
            cause: ArchiveFailure(status: Int(ARCHIVE_FATAL), errno: Int(archive_errno(archive)), text: text)
        )
    }

    /// Receives the tar bytes from libarchive: writes them to the file and hashes them.
    final class Sink {
        let fd: Int32
        let path: String
        /// Four buffers of ring (512 KiB by default, as for SHA-512 while downloading): memory stays flat per packer.
        let sha256: BackgroundDigest
        /// Replaces `sha256` for the tar's SHA-256 when it continues from a download's (see
        /// ``ArchiveWriteHandle/hashExisting(_:continuing:inspect:)``): hashed here, on the writer's thread.
        var continued: TwinSHA256?
        var byteCount: Int64 = 0
        /// Where the range not yet handed to writeback starts.
        var writebackStart: Int64 = 0
        /// How many written bytes are handed to writeback at a time.
        static let writebackBytes: Int64 = 8 << 20
        var error: PackingError?

        init(fd: Int32, path: String, bufferBytes: Int) {
            self.fd = fd
            self.path = path
            sha256 = BackgroundDigest(.sha256, bufferBytes: bufferBytes)
        }

        /// Writes `bytes` to the file and hashes them (a buffer lent by ``BackgroundDigest/lendBuffer()`` is queued
        /// for hashing as it is).
        func accept(_ bytes: UnsafeRawBufferPointer) throws(PackingError) {
            try DurableFile.writeAll(fd, bytes, path: path)
            if let continued {
                continued.update(bytes)
            } else {
                sha256.update(bytes)
            }
            byteCount += Int64(bytes.count)
            // Start writing the tar to disk every few MiB rather than leaving all of it to the final fsync: the disk
            // then works while the rest is read and hashed, and the fsync (still what makes the tar durable) waits
            // for less.
            if byteCount - writebackStart >= Self.writebackBytes {
                _ = clibarchive_start_writeback(fd, writebackStart, byteCount - writebackStart)
                writebackStart = byteCount
            }
        }
    }
}

private func archiveWriteCallback(
    _ archive: OpaquePointer?,
    _ context: UnsafeMutableRawPointer?,
    _ buffer: UnsafeRawPointer?,
    _ length: Int
) -> la_ssize_t {
    guard let context else { return -1 }
    let sink = Unmanaged<ArchiveWriteHandle.Sink>.fromOpaque(context).takeUnretainedValue()
    do {
        try sink.accept(UnsafeRawBufferPointer(start: buffer, count: length))
    } catch {
        sink.error = error
        return -1
    }
    return la_ssize_t(length)
}

private func memoryWriteCallback(
    _ archive: OpaquePointer?,
    _ context: UnsafeMutableRawPointer?,
    _ buffer: UnsafeRawPointer?,
    _ length: Int
) -> la_ssize_t {
    guard let context else { return -1 }
    let sink = Unmanaged<ArchiveWriteHandle.MemorySink>.fromOpaque(context).takeUnretainedValue()
    sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: length))
    return la_ssize_t(length)
}
