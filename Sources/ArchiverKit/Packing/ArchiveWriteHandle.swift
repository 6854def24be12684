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

    /// The size of each write to the tar file: about 1 MiB, and a multiple of ``bytesInLastBlock`` so that the
    /// total stays a multiple of it too.
    static let bytesPerBlock: Int32 = 100 * bytesInLastBlock
    /// The tar's length is padded to a multiple of this (tar's traditional record size).
    static let bytesInLastBlock: Int32 = 10240

    private let archive: OpaquePointer
    private let sink: Sink
    private let locale = UTF8LocaleScope()
    private var isClosed = false

    /// Creates `path` afresh (private, never through a link: ``DurableFile/createForWriting(_:mode:)``) and opens a
    /// pax writer on it.
    init(path: String) throws(PackingError) {
        let fd = try DurableFile.createForWriting(path)
        sink = Sink(fd: fd, path: path)
        guard let archive = archive_write_new() else {
            close(fd)
            throw PackingError(code: .archive, message: "libarchive could not create a writer")
        }
        self.archive = archive
        let context = Unmanaged.passUnretained(sink).toOpaque()
        // Hand the file ~1 MiB writes instead of libarchive's default 10 KiB blocks (a hundred times fewer
        // write(2) calls and sidecar-hash updates), while still padding the end to a multiple of 10240 bytes as
        // tar(1) does, so the output is byte-for-byte what the default blocking produced.
        let status = archive_write_set_format_pax_restricted(archive)
        guard status == ARCHIVE_OK,
            archive_write_set_bytes_per_block(archive, Self.bytesPerBlock) == ARCHIVE_OK,
            archive_write_set_bytes_in_last_block(archive, Self.bytesInLastBlock) == ARCHIVE_OK,
            archive_write_open2(archive, context, nil, archiveWriteCallback, nil, nil) == ARCHIVE_OK
        else {
            // deinit frees the writer and closes the file: every stored property is initialized here.
            throw Self.failure(archive, "cannot open a pax writer on \(path)")
        }
    }

    deinit {
        if !isClosed {
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
        try DurableFile.sync(sink.fd, path: sink.path)
        return (sink.byteCount, sink.sha256.finalizeHex())
    }

    private func writeHeader(
        _ name: String,
        type: UInt32,
        permissions: UInt32,
        size: Int64,
        metadata: MemberMetadata
    ) throws(PackingError) {
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
        let status = locale.run { archive_write_header(archive, entry) }
        guard status == ARCHIVE_OK else {
            throw sink.error ?? Self.failure(archive, "cannot write the header of \(name) into \(sink.path)")
        }
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
        /// 1 MiB of ring (4 × 256 KiB), as for SHA-512 while downloading: memory stays flat per packer.
        let sha256 = BackgroundDigest(.sha256)
        var byteCount: Int64 = 0
        /// Where the range not yet handed to writeback starts.
        var writebackStart: Int64 = 0
        /// How many written bytes are handed to writeback at a time.
        static let writebackBytes: Int64 = 8 << 20
        var error: PackingError?

        init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
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
    let bytes = UnsafeRawBufferPointer(start: buffer, count: length)
    do {
        try DurableFile.writeAll(sink.fd, bytes, path: sink.path)
    } catch {
        sink.error = error
        return -1
    }
    sink.sha256.update(bytes)
    sink.byteCount += Int64(length)
    // Start writing the tar to disk every few MiB rather than leaving all of it to the final fsync: the disk then
    // works while the rest is read and hashed, and the fsync (still what makes the tar durable) waits for less.
    if sink.byteCount - sink.writebackStart >= ArchiveWriteHandle.Sink.writebackBytes {
        _ = clibarchive_start_writeback(sink.fd, sink.writebackStart, sink.byteCount - sink.writebackStart)
        sink.writebackStart = sink.byteCount
    }
    return la_ssize_t(length)
}
