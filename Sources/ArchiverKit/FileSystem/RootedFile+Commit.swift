import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension RootedFile {
    /// The folder of `fileURL`, named once: below `root` it is opened one component at a time without following
    /// any link (``init(relativePath:under:)``); without a root, the folder is opened by its own path.
    ///
    /// Every later step (``commit(suffix:to:)``, ``writeAtomically(_:suffix:)``) then names the file relative to
    /// that descriptor, so a folder swapped for a link between two steps never receives a rename or a write.
    ///
    /// - Throws: ``PackingError`` `.invalidInput` when `fileURL` is not below `root`, `.io` (with the
    ///   ``PrivateFile/UnsafePath`` message: a link, a missing folder) when the folder cannot be opened safely.
    static func folder(of fileURL: URL, under root: URL?) throws(PackingError) -> RootedFile {
        let filePath = fileURL.standardizedFileURL.path
        let rootURL = root?.standardizedFileURL ?? fileURL.standardizedFileURL.deletingLastPathComponent()
        let rootPath = rootURL.path
        let prefix = rootPath == "/" ? "/" : rootPath + "/"
        guard filePath.hasPrefix(prefix), filePath.count > prefix.count else {
            throw PackingError(code: .invalidInput, message: "\(filePath) is not below \(rootPath)")
        }
        do {
            return try RootedFile(relativePath: String(filePath.dropFirst(prefix.count)), under: rootURL)
        } catch {
            throw PackingError(code: .io, message: error.message, cause: error)
        }
    }

    /// Renames `name + from` over `name + to` inside the folder, then flushes the folder: both through its
    /// descriptor, never by path.
    ///
    /// - Throws: ``PackingError`` `.io` (or `.diskFull`) naming the file.
    func commit(suffix from: String, to: String = "") throws(PackingError) {
        guard rename(suffix: from, to: to) else {
            throw DurableFile.ioError("cannot rename \(path + from) to \(path + to)")
        }
        guard syncDirectory() else { throw DurableFile.ioError("cannot fsync the folder \(directoryPath)") }
    }

    /// Writes `bytes` to `name + suffix` atomically and durably: `name + suffix + ".partial"` is created afresh in
    /// the folder (a stale file or link of that name is removed, never followed; mode 0640 whatever the umask),
    /// written, fsynced and renamed into place with ``commit(suffix:to:)``.
    ///
    /// - Throws: ``PackingError`` `.io` or `.diskFull`; the `.partial` is removed.
    func writeAtomically(_ bytes: [UInt8], suffix: String) throws(PackingError) {
        let partial = suffix + ".partial"
        let fd = try createAfresh(suffix: partial)
        do throws(PackingError) {
            let written = bytes.withUnsafeBytes { buffer in
                Result { () throws(PackingError) in try DurableFile.writeAll(fd, buffer, path: path + partial) }
            }
            try written.get()
            try DurableFile.sync(fd, path: path + partial)
            close(fd)
        } catch {
            close(fd)
            _ = unlinkIfPresent(suffix: partial)
            throw error
        }
        do {
            try commit(suffix: partial, to: suffix)
        } catch {
            _ = unlinkIfPresent(suffix: partial)
            throw error
        }
    }

    /// Creates `name + suffix` afresh in the folder and opens it for writing: whatever had that name (a stale file,
    /// a link) is removed first, never followed, and the new file is created with `O_EXCL | O_NOFOLLOW` through
    /// the folder's descriptor, mode 0640 whatever the umask, with the archive group.
    ///
    /// - Returns: The descriptor (the caller closes it).
    /// - Throws: ``PackingError`` `.io` or `.diskFull` naming the file; nothing is left under the name.
    func createAfresh(suffix: String) throws(PackingError) -> Int32 {
        guard unlinkIfPresent(suffix: suffix) else { throw DurableFile.ioError("cannot remove \(path + suffix)") }
        let fd = openat(
            directory,
            name + suffix,
            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
            PrivateFile.fileMode
        )
        guard fd >= 0 else { throw DurableFile.ioError("cannot create \(path + suffix)") }
        do throws(PackingError) {
            guard fchmod(fd, PrivateFile.fileMode) == 0 else {
                throw DurableFile.ioError("cannot chmod \(path + suffix)")
            }
            do {
                try PrivateFile.applyGroup(fd)
            } catch {
                throw PackingError(code: .io, message: "cannot give \(path + suffix) its group", cause: error)
            }
        } catch {
            close(fd)
            _ = unlinkIfPresent(suffix: suffix)
            throw error
        }
        return fd
    }
}
