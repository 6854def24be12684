internal import CLibArchive
import Foundation

/// Owns one libarchive reader over a tar file; the only reader-side code that touches libarchive.
///
/// Reads the file exactly once, sequentially, through our own read callback, which also computes the
/// SHA-256 of the raw file for the sidecar check. Member data is handed out in libarchive's own blocks,
/// so memory stays flat for members of any size. A handle that does not hash the raw bytes seeks over the data of
/// members it does not read (when its descriptor can seek), so reaching a member at the end of a large tar costs
/// a few reads, not the whole file.
///
/// - Important: Blocking. Use a reader on one thread, off the cooperative pool.
final class ArchiveReadHandle {
    /// One member header.
    struct Entry {
        /// The kind of member.
        enum Kind: Equatable {
            case file
            case directory
            /// Symlinks, hard links, devices, FIFOs: never produced by the packer.
            case other
        }
        /// The member name as stored, decoded as UTF-8.
        var name: String
        var kind: Kind
        /// The declared size in bytes.
        var size: Int64
        /// Whether the member is sparse (GNU sparse headers or `GNU.sparse.*` pax keys).
        ///
        /// Its data has holes that a reader would have to invent, and its declared size need not match the bytes
        /// stored. Never produced by the packer.
        var isSparse = false
        /// Permission bits.
        var permissions: UInt32 = 0
        /// Modification time in seconds since 1970.
        var mtime: Int = 0
        /// Owner and group ids and names.
        var uid: Int64 = 0
        var gid: Int64 = 0
        var uname: String?
        var gname: String?
    }

    private let archive: OpaquePointer
    private let source: Source
    /// The current member's declared size and sparseness, for ``readData(limit:_:)``.
    private var currentSize: Int64 = 0
    private var currentIsSparse = false
    private let locale = UTF8LocaleScope()

    /// Opens `path` for reading as a tar (any tar dialect, no compression).
    ///
    /// - Parameters:
    ///   - path: The tar file.
    ///   - bufferBytes: Size of the buffer the file is read through.
    ///   - hashesRawBytes: Whether the read callback computes the raw file's SHA-256 for
    ///     ``finishRawDigest()``; pass `false` when another reader computes it.
    ///   - directory: The folder descriptor the file is opened in, as `name` (default: `path` as it is).
    ///   - name: The file's name in `directory`.
    /// - Throws: ``PackingError`` when the file cannot be opened or is not a readable tar.
    convenience init(
        path: String,
        bufferBytes: Int,
        hashesRawBytes: Bool = true,
        in directory: Int32 = AT_FDCWD,
        name: String? = nil
    ) throws(PackingError) {
        // Never a FIFO or device (verify must not hang on one) and never through a symlink.
        let fd = try DurableFile.openRegularFileForReading(path, followsSymlinks: false, in: directory, name: name)
        try self.init(fd: fd, path: path, bufferBytes: bufferBytes, hashesRawBytes: hashesRawBytes)
    }

    /// Reads a tar from an open descriptor (a file, or the read end of a stream such as an S3 object being
    /// downloaded); the handle owns `fd` and closes it.
    ///
    /// - Parameters:
    ///   - fd: The descriptor to read.
    ///   - path: What `fd` reads, for messages.
    ///   - bufferBytes: Size of the read buffer.
    ///   - hashesRawBytes: Whether to hash the raw bytes for ``finishRawDigest()``.
    /// - Throws: ``PackingError`` when libarchive cannot start reading.
    init(fd: Int32, path: String, bufferBytes: Int, hashesRawBytes: Bool) throws(PackingError) {
        source = Source(fd: fd, path: path, bufferBytes: bufferBytes, hashesRawBytes: hashesRawBytes)
        guard let archive = archive_read_new() else {
            close(fd)
            throw PackingError(code: .archive, message: "libarchive could not create a reader")
        }
        self.archive = archive
        archive_read_support_format_tar(archive)
        let context = Unmanaged.passUnretained(source).toOpaque()
        guard archive_read_open2(archive, context, nil, archiveReadCallback, archiveSkipCallback, nil) == ARCHIVE_OK
        else {
            // deinit frees the reader and closes the file: every stored property is initialized here.
            throw source.error ?? ArchiveWriteHandle.failure(archive, "\(path) is not a readable tar")
        }
    }

    deinit {
        archive_read_free(archive)
        close(source.fd)
    }

    /// The next member header, or `nil` at the end of the archive.
    func nextEntry() throws(PackingError) -> Entry? {
        var entryPointer: OpaquePointer?
        let status = locale.run { archive_read_next_header(archive, &entryPointer) }
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry = entryPointer else {
            throw source.error ?? ArchiveWriteHandle.failure(archive, "cannot read a member header")
        }
        let name: String = locale.run {
            if let utf8 = archive_entry_pathname_utf8(entry) { return String(cString: utf8) }
            if let raw = archive_entry_pathname(entry) { return String(cString: raw) }
            return ""
        }
        let type = archive_entry_filetype(entry)
        var kind: Entry.Kind = .other
        if archive_entry_hardlink(entry) == nil {
            if type == clibarchive_ae_ifreg() {
                kind = .file
            } else if type == clibarchive_ae_ifdir() {
                kind = .directory
            }
        }
        currentSize = max(Int64(archive_entry_size(entry)), 0)
        currentIsSparse = archive_entry_sparse_count(entry) > 0
        return Entry(
            name: name,
            kind: kind,
            size: currentSize,
            isSparse: currentIsSparse,
            permissions: UInt32(archive_entry_perm(entry)),
            mtime: Int(archive_entry_mtime(entry)),
            uid: Int64(archive_entry_uid(entry)),
            gid: Int64(archive_entry_gid(entry)),
            uname: archive_entry_uname(entry).map { String(cString: $0) },
            gname: archive_entry_gname(entry).map { String(cString: $0) }
        )
    }

    /// Streams the current member's data to `consume`, in libarchive's blocks, exactly its declared size.
    ///
    /// Sparse members are refused (their holes would have to be invented, and a small tar can declare petabytes
    /// of them), and so is any data beyond the declared size or beyond `limit`, or a member shorter than declared:
    /// what is hashed is always what `tar -x` would write.
    ///
    /// - Parameters:
    ///   - limit: The most bytes to accept; a member declared larger fails before any byte is read.
    ///   - consume: Receives the data, in order.
    /// - Throws: ``PackingError`` for a sparse or oversized member, data that does not match the declared size, or
    ///   a read error.
    func readData(limit: Int64 = .max, _ consume: (UnsafeRawBufferPointer) -> Void) throws(PackingError) {
        guard !currentIsSparse else {
            throw PackingError(code: .archive, message: "the member is sparse; archives never hold sparse members")
        }
        guard currentSize <= limit else {
            throw PackingError(code: .archive, message: "the member declares \(currentSize) bytes, more than \(limit)")
        }
        var position: Int64 = 0
        while true {
            var block: UnsafeRawPointer?
            var size = 0
            var offset: la_int64_t = 0
            let status = archive_read_data_block(archive, &block, &size, &offset)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN else {
                throw source.error ?? ArchiveWriteHandle.failure(archive, "cannot read member data")
            }
            guard Int64(offset) == position, position + Int64(size) <= currentSize else {
                throw PackingError(
                    code: .archive,
                    message: "member data at offset \(offset) (+\(size) bytes) does not follow on from byte "
                        + "\(position) of the declared \(currentSize)"
                )
            }
            consume(UnsafeRawBufferPointer(start: block, count: size))
            position += Int64(size)
        }
        guard position == currentSize else {
            throw PackingError(
                code: .archive,
                message: "member data ends at byte \(position) of the declared \(currentSize)"
            )
        }
    }

    /// How many bytes were read from the file so far; data skipped with a seek is not counted.
    var bytesRead: Int64 { source.bytesRead }

    /// Reads whatever libarchive left unread (padding after the end marker) and returns the whole file's digest.
    ///
    /// - Precondition: The handle was opened with `hashesRawBytes`.
    ///
    /// - Returns: The file's size and lowercase hex SHA-256.
    func finishRawDigest() throws(PackingError) -> (size: Int64, sha256: String) {
        precondition(source.hashesRawBytes, "finishRawDigest needs a handle that hashes the raw bytes")
        try source.withBuffer { (buffer) throws(PackingError) in
            while true {
                let count = try DurableFile.readSome(source.fd, into: buffer, path: source.path)
                if count == 0 { break }
                source.absorb(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
        }
        return (source.byteCount, source.sha256.finalizeHex())
    }

    /// Feeds libarchive from the file and hashes every byte it hands over.
    final class Source {
        let fd: Int32
        let path: String
        let buffer: UnsafeMutableRawBufferPointer
        let hashesRawBytes: Bool
        let sha256 = HashState(.sha256)
        var byteCount: Int64 = 0
        /// How many bytes were read from the descriptor (skipped bytes are not).
        var bytesRead: Int64 = 0
        var error: PackingError?

        init(fd: Int32, path: String, bufferBytes: Int, hashesRawBytes: Bool) {
            self.fd = fd
            self.path = path
            self.hashesRawBytes = hashesRawBytes
            buffer = .allocate(byteCount: bufferBytes, alignment: 16)
        }

        deinit { buffer.deallocate() }

        func absorb(_ bytes: UnsafeRawBufferPointer) {
            if hashesRawBytes { sha256.update(bytes) }
            byteCount += Int64(bytes.count)
        }

        func withBuffer<Value>(
            _ body: (UnsafeMutableRawBufferPointer) throws(PackingError) -> Value
        ) throws(PackingError) -> Value {
            try body(buffer)
        }
    }
}

private func archiveReadCallback(
    _ archive: OpaquePointer?,
    _ context: UnsafeMutableRawPointer?,
    _ out: UnsafeMutablePointer<UnsafeRawPointer?>?
) -> la_ssize_t {
    guard let context, let out else { return -1 }
    let source = Unmanaged<ArchiveReadHandle.Source>.fromOpaque(context).takeUnretainedValue()
    do {
        let count = try DurableFile.readSome(source.fd, into: source.buffer, path: source.path)
        let bytes = UnsafeRawBufferPointer(rebasing: source.buffer[0..<count])
        source.bytesRead += Int64(count)
        source.absorb(bytes)
        out.pointee = UnsafeRawPointer(source.buffer.baseAddress)
        return la_ssize_t(count)
    } catch {
        source.error = error
        return -1
    }
}

/// Seeks over member data libarchive skips, when the raw bytes are not hashed and the descriptor is a seekable file.
///
/// Otherwise 0 (nothing skipped), and libarchive then reads the bytes and discards them. Never past the end of the
/// file, so a truncated tar still fails to read as one.
private func archiveSkipCallback(
    _ archive: OpaquePointer?,
    _ context: UnsafeMutableRawPointer?,
    _ request: la_int64_t
) -> la_int64_t {
    guard let context, request > 0 else { return 0 }
    let source = Unmanaged<ArchiveReadHandle.Source>.fromOpaque(context).takeUnretainedValue()
    guard !source.hashesRawBytes else { return 0 }
    var info = stat()
    guard fstat(source.fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return 0 }
    let position = lseek(source.fd, 0, SEEK_CUR)
    guard position >= 0 else { return 0 }
    let skipped = min(Int64(request), max(Int64(info.st_size) - Int64(position), 0))
    guard skipped > 0, lseek(source.fd, off_t(skipped), SEEK_CUR) >= 0 else { return 0 }
    source.byteCount += skipped
    return la_int64_t(skipped)
}
