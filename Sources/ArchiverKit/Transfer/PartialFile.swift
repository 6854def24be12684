internal import CLibArchive
import Foundation
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// The `<destination>.partial` file of one download, with running SHA-256/SHA-512 digests of its content.
///
/// The digests always describe exactly the partial's bytes: opening an existing partial re-hashes its prefix,
/// ``append(_:)`` hashes what it writes, and ``truncate()`` resets both. With direct I/O (``DirectAppender``) the last
/// appended bytes may wait in its buffer; ``commit()`` and ``close()`` write them, and a process killed before that
/// leaves a shorter partial, which the next open re-hashes as it is. With a ``PackingFront`` the body starts
/// after the front's reserved bytes (``dataOffset``): they hold the front's placeholder while downloading and the
/// tar headers for the real size after ``commit()``; ``length`` and the digests cover the body only. The resume validator (the ETag, or
/// `Last-Modified` when there is no ETag) lives in a sidecar `<destination>.partial.etag`; never the URL.
///
/// - Important: Blocking file I/O. Used from one thread at a time (the transfer's blocking thread); see
///   ``DownloadSink``.
final class PartialFile {
    let destination: URL
    let partialURL: URL
    let validatorURL: URL
    private var descriptor: FileDescriptor?
    /// The body's length (the reserved front excluded).
    private(set) var length: Int = 0
    /// The front reserved before the body, if any.
    let front: PackingFront?
    /// Where the body starts: the front's reserved bytes, or 0.
    var dataOffset: Int { front?.reservedBytes ?? 0 }
    /// Where the range not yet handed to writeback starts.
    private var writebackStart = 0
    /// How many appended bytes are handed to writeback at a time.
    static let writebackBytes = 8 << 20
    /// SHA-256 (and the content seal, if asked for) on the calling thread, SHA-512 on the pipeline's hashing thread.
    private let hasher: DigestPipeline
    /// The validator from the sidecar, or the one last stored.
    private(set) var validator: String?
    /// Appends with direct I/O past the page cache, when asked for and the file system allows it.
    private var direct: DirectAppender?
    /// The body size whose tar headers the digests' tar SHA-256 started behind (``hashTarStream(bodySize:)``).
    private var tarBodySize: Int?

    /// Opens (creating if needed) the partial of `destination` and re-hashes what it already holds.
    ///
    /// A partial without a validator sidecar cannot be resumed safely, so it is truncated. With `seals: true` the
    /// digests include a ``ContentSeal`` of the same bytes (the re-hashed prefix included).
    ///
    /// With `front`, a partial that does not start with the front's placeholder (one of an earlier version, or
    /// another file) is not resumed but restarted.
    ///
    /// With `directWriteBufferBytes` > 0 the body is appended with direct I/O through a ``DirectAppender`` of that
    /// buffer size, on file systems where that goes straight to a local disk; elsewhere, or with 0, through the page
    /// cache.
    init(
        destination: URL,
        readBufferBytes: Int,
        seals: Bool = false,
        front: PackingFront? = nil,
        directWriteBufferBytes: Int = 0
    ) throws(TransferError) {
        hasher = DigestPipeline(seals: seals)
        self.front = front
        self.destination = destination
        self.partialURL = URL(fileURLWithPath: destination.path + ".partial")
        self.validatorURL = URL(fileURLWithPath: destination.path + ".partial.etag")
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor(rawValue: Self.openPartial(partialURL.path))
        } catch {
            throw Self.ioError("cannot open \(partialURL.lastPathComponent)", Errno(rawValue: error.rawValue))
        }
        self.descriptor = descriptor
        // Read the validator only from a regular file of ours: a planted link is not followed.
        let stored =
            PrivateFile.isRegularFile(validatorURL.path)
            ? (try? String(contentsOf: validatorURL, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            : nil
        validator = (stored?.isEmpty ?? true) ? nil : stored
        if validator == nil || !Self.startsWithPlaceholder(descriptor, front) {
            try truncate()
        } else {
            try rehashPrefix(descriptor, bufferBytes: readBufferBytes)
        }
        direct = DirectAppender(
            fd: descriptor.rawValue,
            offset: dataOffset + length,
            bufferBytes: directWriteBufferBytes
        )
    }

    /// Whether appended bytes go past the page cache (a ``DirectAppender`` the file system has not refused).
    var writesDirectly: Bool { direct?.usesDirectIO ?? false }

    deinit { close() }

    /// Opens the resumable partial without following a link: a link or non-regular file planted under its
    /// name is removed (the link itself, never its target) and a fresh private file is created.
    private static func openPartial(_ path: String) throws(ErrnoFailure) -> Int32 {
        do {
            return try PrivateFile.openOrCreate(path)
        } catch  where error.rawValue == ELOOP || error.rawValue == EINVAL {
            return try PrivateFile.createExclusive(path)
        }
    }

    /// Whether a partial is one of this front: it starts with the placeholder, or with the headers for the body it
    /// holds (killed in ``commit()`` between writing them and the rename).
    private static func startsWithPlaceholder(_ descriptor: FileDescriptor, _ front: PackingFront?) -> Bool {
        guard let front else { return true }
        guard let bytes = DurableFile.firstBytes(of: descriptor.rawValue, count: front.reservedBytes) else {
            return false
        }
        if bytes == front.placeholder { return true }
        guard let end = try? descriptor.seek(offset: 0, from: .end), end > Int64(front.reservedBytes) else {
            return false
        }
        return bytes == front.header(size: end - Int64(front.reservedBytes))
    }

    private func rehashPrefix(_ descriptor: FileDescriptor, bufferBytes: Int) throws(TransferError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferBytes, 4096), alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        do {
            while true {
                let count = try descriptor.read(fromAbsoluteOffset: Int64(dataOffset + total), into: buffer)
                if count == 0 { break }
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                total += count
            }
        } catch {
            throw Self.ioError("cannot read \(partialURL.lastPathComponent)", error)
        }
        length = total
        writebackStart = total
    }

    /// Writes `bytes` at the end of the partial and adds them to the digests.
    func append(_ bytes: UnsafeRawBufferPointer) throws(TransferError) {
        guard let descriptor else { throw TransferError(code: .io, message: "partial file is closed") }
        if let direct {
            do {
                try direct.append(bytes)
            } catch {
                throw Self.ioError("cannot write \(partialURL.lastPathComponent)", error)
            }
            hasher.update(bytes)
            length += bytes.count
            return
        }
        var written = 0
        do {
            while written < bytes.count {
                written += try descriptor.write(
                    toAbsoluteOffset: Int64(dataOffset + length + written),
                    UnsafeRawBufferPointer(rebasing: bytes[written...])
                )
            }
        } catch {
            throw Self.ioError("cannot write \(partialURL.lastPathComponent)", error)
        }
        hasher.update(bytes)
        length += bytes.count
        // Start writing the partial to disk every few MiB rather than leaving all of it to the fsync in ``commit()``
        // (still what makes it durable): the disk works while the rest arrives, and the fsync waits for less.
        if length - writebackStart >= Self.writebackBytes {
            _ = clibarchive_start_writeback(
                descriptor.rawValue,
                Int64(dataOffset + writebackStart),
                Int64(length - writebackStart)
            )
            writebackStart = length
        }
    }

    /// Empties the partial (back to the front's placeholder, if any), resets the digests and forgets the validator.
    func truncate() throws(TransferError) {
        guard let descriptor else { throw TransferError(code: .io, message: "partial file is closed") }
        do {
            try direct?.reset(to: dataOffset)
            try descriptor.resize(to: 0)
            if let front {
                _ = try front.placeholder.withUnsafeBytes { try descriptor.writeAll(toAbsoluteOffset: 0, $0) }
            }
        } catch {
            throw Self.ioError("cannot truncate \(partialURL.lastPathComponent)", error)
        }
        length = 0
        writebackStart = 0
        hasher.reset()
        tarBodySize = nil
        storeValidator(nil)
    }

    /// Remembers the resume validator in the sidecar (best effort: without it the next run restarts from zero).
    func storeValidator(_ newValue: String?) {
        guard newValue != validator else { return }
        validator = newValue
        if let newValue {
            // Never through a planted link: a fresh private file, written in place (best effort).
            guard let fd = try? PrivateFile.createExclusive(validatorURL.path) else { return }
            defer { _ = Glibc.close(fd) }
            _ = Array(newValue.utf8).withUnsafeBytes { try? DurableFile.writeAll(fd, $0, path: validatorURL.path) }
        } else {
            unlink(validatorURL.path)
        }
    }

    /// The hex digests (and the seal, if asked for) of the bytes written so far.
    var digests: (sha256: String, sha512: String, seal: ContentSeal?) {
        hasher.finalize()
    }

    /// Before the first byte of the body: also computes the SHA-256 of the tar the committed file will start.
    ///
    /// That is the front's headers for a body of `bodySize` bytes, then the body, hashed in the same pass as the
    /// body's own SHA-256 (see ``DigestPipeline/hashesTarStream(behind:)``). Does nothing once the body has a byte,
    /// without a front or a seal, or where the CPU does not allow it.
    func hashTarStream(bodySize: Int) {
        guard length == 0, tarBodySize != bodySize, let header = front?.header(size: Int64(bodySize)) else { return }
        tarBodySize = hasher.hashesTarStream(behind: header) ? bodySize : nil
    }

    /// The tar's SHA-256 over the front's headers and the whole body, to be continued by the packer: `nil` unless
    /// ``hashTarStream(bodySize:)`` started it for a body of exactly ``length`` bytes (the headers ``commit()``
    /// writes).
    var tarMidstate: SHA256Midstate? {
        guard let tarBodySize, tarBodySize == length else { return nil }
        return hasher.tarMidstate
    }

    /// Makes the partial durable and atomically renames it over the destination, then syncs the directory.
    ///
    /// With a front, the tar headers for the body's real size are first written over the placeholder (when they
    /// have its length; otherwise the placeholder stays and packing copies the body).
    func commit() throws(TransferError) {
        guard let descriptor else { throw TransferError(code: .io, message: "partial file is closed") }
        try flush()
        if let header = front?.header(size: Int64(length)) {
            do {
                _ = try header.withUnsafeBytes { try descriptor.writeAll(toAbsoluteOffset: 0, $0) }
            } catch {
                throw Self.ioError("cannot write the tar header into \(partialURL.lastPathComponent)", error)
            }
        }
        guard fsync(descriptor.rawValue) == 0 else {
            throw Self.ioError("cannot fsync \(partialURL.lastPathComponent)", Errno(rawValue: errno))
        }
        close()
        guard rename(partialURL.path, destination.path) == 0 else {
            throw Self.ioError("cannot rename to \(destination.lastPathComponent)", Errno(rawValue: errno))
        }
        unlink(validatorURL.path)
        try Self.syncDirectory(of: destination)
    }

    /// Closes the descriptor and stops the hashing thread; the partial and its sidecar stay on disk for a later
    /// resume.
    func close() {
        // What is gathered for direct I/O goes to disk first, so that the partial holds every byte counted in
        // ``length`` (best effort: a later open re-hashes whatever is there).
        try? flush()
        if let descriptor { try? descriptor.close() }
        descriptor = nil
        hasher.shutdown()
    }

    /// Writes the bytes gathered for direct I/O, if any.
    private func flush() throws(TransferError) {
        do {
            try direct?.flush()
        } catch {
            throw Self.ioError("cannot write \(partialURL.lastPathComponent)", error)
        }
    }

    static func syncDirectory(of file: URL) throws(TransferError) {
        let directory = file.deletingLastPathComponent().path
        let fd = open(directory, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw ioError("cannot open directory for fsync", Errno(rawValue: errno)) }
        defer { _ = Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw ioError("cannot fsync directory", Errno(rawValue: errno)) }
    }

    /// Hashes an existing complete file.
    static func digests(
        of file: URL,
        bufferBytes: Int
    ) throws(TransferError) -> (bytes: Int, sha256: String, sha512: String) {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(FilePath(file.path), .readOnly)
        } catch {
            throw ioError("cannot open \(file.lastPathComponent)", error)
        }
        defer { try? descriptor.close() }
        let hasher = DigestPipeline()
        defer { hasher.shutdown() }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferBytes, 4096), alignment: 16)
        defer { buffer.deallocate() }
        var total = 0
        do {
            while true {
                let count = try descriptor.read(into: buffer)
                if count == 0 { break }
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                total += count
            }
        } catch {
            throw ioError("cannot read \(file.lastPathComponent)", error)
        }
        let digests = hasher.finalize()
        return (total, digests.sha256, digests.sha512)
    }

    static func ioError(_ message: String, _ error: any Error) -> TransferError {
        let errno = error as? Errno
        if errno == .noSpace || errno == .diskQuotaExceeded {
            return TransferError(
                code: .diskFull,
                message:
                    "disk full: \(message): free some space and re-run (the partial download is kept; finished archives are intact)",
                cause: errno
            )
        }
        return TransferError(code: .io, message: "\(message): \(error)", cause: errno)
    }
}
