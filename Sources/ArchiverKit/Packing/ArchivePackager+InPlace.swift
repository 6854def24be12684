import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension ArchivePackager {
    /// Packs by turning the staged video into the tar, when its download reserved the tar's first bytes (see
    /// ``PackingFront``); `nil` when it cannot, and the caller copies instead.
    ///
    /// The staged file's reserved front must already hold exactly the headers the copy would write. Then
    /// `<tar>.partial` becomes a second name (a hard link) of the staged file, whose first `front + size` bytes
    /// are read once: all of them for the tar's SHA-256, the front compared with the expected headers, the body
    /// checked against the download's seal (or SHA-256). With a seal and the download's SHA-256 of exactly these
    /// headers and this body (``PackPlan/PayloadFile/tarMidstate``), the read only checks, and the tar's SHA-256
    /// continues from the download's. Only then is anything written, and only after those bytes:
    /// the padding and the other members, through libarchive; then fsync, and the caller renames and writes the
    /// sidecar as for a copy. The result is byte-for-byte the tar the copy would write.
    ///
    /// Every name in the tar's folder is reached through `folder`'s descriptor (`linkat`, `openat` with
    /// `O_NOFOLLOW`, `fstatat`, `unlinkat`), never by path: a folder replaced by a link after it was opened is
    /// never linked into, written through or unlinked from.
    ///
    /// Crash safety: the bytes `[0, front + size)` are never written here. Bytes after them are left by a pack that
    /// was interrupted, and are cut off first. A `<tar>` that is the staged file itself is the tar of a pack that
    /// was interrupted before it was catalogued: it is unlinked (with its sidecar), never rewritten. A staged file
    /// with any other name (a link elsewhere) is not touched: the copy is used.
    func packInPlace(_ plan: PackPlan, in folder: RootedFile) throws(PackingError) -> (size: Int64, sha256: String)? {
        guard let first = plan.payloadFiles.first, first.dataOffset > 0 else { return nil }
        let reserved = first.dataOffset
        let end = reserved + first.size
        guard let front = try? PackingFront(bagName: plan.bagName, fileName: first.fileName, mtime: plan.mtime),
            Int64(front.reservedBytes) == reserved, let expected = front.header(size: first.size)
        else { return nil }
        let stagedPath = first.stagedPath
        let tarPath = folder.path
        let partialPath = tarPath + ".partial"
        var staged = stat()
        guard lstat(stagedPath, &staged) == 0, staged.st_mode & S_IFMT == S_IFREG, Int64(staged.st_size) >= end,
            Self.fileStarts(with: expected, path: stagedPath)
        else { return nil }
        var existing = stat()
        if fstatat(folder.directory, folder.name, &existing, AT_SYMLINK_NOFOLLOW) == 0,
            existing.st_dev == staged.st_dev, existing.st_ino == staged.st_ino
        {
            // An interrupted pack's tar that was never catalogued: its names go, its bytes are not rewritten.
            _ = folder.unlinkIfPresent(suffix: ".sha256")
            guard folder.unlinkIfPresent(suffix: "") else {
                throw DurableFile.ioError("cannot remove the unfinished \(tarPath)")
            }
        }
        guard folder.unlinkIfPresent(suffix: ".partial") else {
            throw DurableFile.ioError("cannot remove \(partialPath)")
        }
        // The staged file itself (not a link's target: no AT_SYMLINK_FOLLOW) gets its second name in the folder.
        guard linkat(AT_FDCWD, stagedPath, folder.directory, folder.name + ".partial", 0) == 0 else {
            return nil  // e.g. EXDEV: staging on another file system
        }
        let fd = openat(folder.directory, folder.name + ".partial", O_RDWR | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            _ = folder.unlinkIfPresent(suffix: ".partial")
            return nil
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_dev == staged.st_dev,
            info.st_ino == staged.st_ino, info.st_nlink == 2
        else {
            close(fd)
            _ = folder.unlinkIfPresent(suffix: ".partial")
            return nil
        }
        guard Int64(info.st_size) >= end else {
            close(fd)
            throw PackingError(
                code: .sizeMismatch,
                message: "staged \(first.kind) \(stagedPath) has \(info.st_size) bytes but \(first.size) were "
                    + "downloaded (after \(reserved) reserved); re-download it"
            )
        }
        if Int64(info.st_size) > end, ftruncate(fd, off_t(end)) != 0 {
            close(fd)
            throw DurableFile.ioError("cannot cut \(stagedPath) back to \(end) bytes")
        }
        let writer = try ArchiveWriteHandle(fd: fd, path: partialPath, bufferBytes: max(configuration.chunkBytes, 4096))
        var headerMatches = true
        let checker = first.contentSeal?.checker()
        let digest = checker == nil ? HashState(.sha256) : nil
        // The tar's SHA-256 over these bytes was computed while downloading them: continued only when the seal
        // proves that the staged body is those bytes and the front is compared with the headers it was computed for.
        let midstate =
            checker == nil ? nil : first.tarMidstate.flatMap { $0.byteCount == end && $0.prefix == expected ? $0 : nil }
        try writer.hashExisting(end, continuing: midstate) { (chunk, offset) throws(PackingError) in
            var body = chunk
            if offset < reserved {
                let count = Int(min(Int64(chunk.count), reserved - offset))
                let start = Int(offset)
                if !expected[start..<start + count].elementsEqual(UnsafeRawBufferPointer(rebasing: chunk[0..<count])) {
                    headerMatches = false
                }
                body = UnsafeRawBufferPointer(rebasing: chunk[count...])
            }
            checker?.update(body)
            digest?.update(body)
        }
        guard headerMatches else {
            throw PackingError(
                code: .digestMismatch,
                message: "staged \(first.kind) \(stagedPath) no longer holds the tar headers written after its "
                    + "download; the staged copy is corrupt, re-download it"
            )
        }
        if let seal = first.contentSeal, let checker {
            guard seal.matches(checker) else {
                throw PackingError(
                    code: .digestMismatch,
                    message: "staged \(first.kind) \(stagedPath) no longer holds the bytes downloaded (their content "
                        + "seal differs); the staged copy is corrupt, re-download it"
                )
            }
        } else if let sha256 = digest?.finalizeHex(), sha256 != first.sha256 {
            throw PackingError(
                code: .digestMismatch,
                message: "staged \(first.kind) \(stagedPath) no longer matches the digest computed while downloading "
                    + "(sha256 \(sha256), expected \(first.sha256)); the staged copy is corrupt, re-download it"
            )
        }
        try writer.padExisting()
        return try writeRest(plan, payloadFiles: plan.payloadFiles.dropFirst(), into: writer)
    }

    /// Whether the file at `path` (not followed if a link) starts with `bytes`.
    private static func fileStarts(with bytes: [UInt8], path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return DurableFile.firstBytes(of: fd, count: bytes.count) == bytes
    }
}
