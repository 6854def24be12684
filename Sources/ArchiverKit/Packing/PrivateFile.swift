import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Creating files and directories under the archive root without following planted symbolic links, with
/// private modes whatever the umask.
///
/// Every file the archiver creates (tar and sidecar `.partial`s, staged resources, run reports, the state
/// database, the holds log) is opened with `O_CREAT | O_EXCL | O_NOFOLLOW` after `unlink` removed any stale
/// leftover (`unlink` removes a link itself, never its target), then `fchmod`ed to ``fileMode``. A rename of
/// such a file over its final name therefore always installs our own regular file, even when a link was
/// planted under the final name. Directories are created one component at a time with `mkdir` and checked
/// with `lstat`: a component that exists as anything but a real directory is refused, never followed.
///
/// The archive root itself is the operator's choice and may be a link; everything below it is checked.
enum PrivateFile {
    /// Mode of every file the archiver creates: owner read-write, group read (`0640`).
    static let fileMode: mode_t = 0o640
    /// Mode of every directory the archiver creates: owner all, group read-search (`0750`).
    static let directoryMode: mode_t = 0o750

    /// The group given to everything created (`--group`, config `group`), or -1 for the process's own.
    private static let groupID = Atomic<Int64>(-1)

    /// The group set by ``ArchiveOwnership/useGroup(named:)``, if any.
    static var group: gid_t? {
        let value = groupID.load(ordering: .relaxed)
        return value < 0 ? nil : gid_t(value)
    }

    static func setGroup(_ gid: gid_t?) { groupID.store(gid.map { Int64($0) } ?? -1, ordering: .relaxed) }

    /// Gives the open file `fd` the configured group, if one is set.
    static func applyGroup(_ fd: Int32) throws(ErrnoFailure) {
        guard let group else { return }
        guard fchown(fd, uid_t.max, group) == 0 else { throw ErrnoFailure(rawValue: errno) }
    }

    /// Creates `path` for writing with `O_EXCL | O_NOFOLLOW` and mode `mode` (umask ignored), removing a stale
    /// file or link of that name first.
    ///
    /// - Returns: The open descriptor (the caller closes it).
    /// - Throws: ``ErrnoFailure`` from `unlink`, `open` or `fchmod`.
    static func createExclusive(_ path: String, mode: mode_t = fileMode) throws(ErrnoFailure) -> Int32 {
        if unlink(path) != 0 && errno != ENOENT { throw ErrnoFailure(rawValue: errno) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ErrnoFailure(rawValue: errno) }
        do throws(ErrnoFailure) {
            guard fchmod(fd, mode) == 0 else { throw ErrnoFailure(rawValue: errno) }
            try applyGroup(fd)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Opens `path` read-write, creating it with `mode` if missing, refusing a symbolic link or anything but a
    /// regular file; a file we create gets `mode` whatever the umask.
    ///
    /// For files that are reopened across runs (a resumable download's `.partial`, the lock file).
    /// - Throws: ``ErrnoFailure`` (`ELOOP` for a link, `EINVAL` for a non-regular file).
    static func openOrCreate(_ path: String, mode: mode_t = fileMode) throws(ErrnoFailure) -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ErrnoFailure(rawValue: errno) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let code = errno
            close(fd)
            throw ErrnoFailure(rawValue: code)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw ErrnoFailure(rawValue: EINVAL)
        }
        if status.st_uid == geteuid() {
            if status.st_mode & 0o7777 != mode { _ = fchmod(fd, mode) }
            if let group, status.st_gid != group { _ = fchown(fd, uid_t.max, group) }
        }
        return fd
    }

    /// Whether `path` is a symbolic link (`lstat`).
    static func isSymbolicLink(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFLNK
    }

    /// Whether `path` exists as a regular file, not through a link (`lstat`).
    static func isRegularFile(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
    }

    /// Creates the directories of `relative` below `root` one component at a time, mode ``directoryMode``.
    ///
    /// `root` must exist (it is not created). A component that already exists must be a real directory:
    /// a symbolic link or a file is refused.
    ///
    /// - Parameters:
    ///   - relative: Path components below `root`, for example `[".userplane-archiver", "staging", "job-3"]`.
    ///   - root: The archive root.
    /// - Returns: The full path of the last directory.
    /// - Throws: ``PrivateFile/UnsafePath`` naming the component and what to do.
    @discardableResult
    static func makeDirectories(_ relative: [String], under root: String) throws(UnsafePath) -> String {
        var path = root
        for component in relative where !component.isEmpty && component != "." {
            guard component != ".." else {
                throw UnsafePath(path: path + "/..", message: "\"..\" is not allowed in a path below the archive root")
            }
            path += "/" + component
            if mkdir(path, directoryMode) == 0 {
                try privatize(directory: path)
                continue
            }
            let code = errno
            var status = stat()
            guard code == EEXIST, lstat(path, &status) == 0 else {
                throw UnsafePath(
                    path: path,
                    message: "cannot create \(path): \(String(cString: strerror(code))); check the archive root's "
                        + "permissions and free space"
                )
            }
            switch status.st_mode & S_IFMT {
            case S_IFDIR: continue
            case S_IFLNK:
                throw UnsafePath(
                    path: path,
                    message: "\(path) is a symbolic link; the archiver never follows links below the archive root. "
                        + "Inspect it, remove the link (rm \(path)) and re-run",
                    reason: .symbolicLink
                )
            default:
                throw UnsafePath(
                    path: path,
                    message: "\(path) exists and is not a directory; move it away and re-run",
                    reason: .notADirectory
                )
            }
        }
        return path
    }

    /// Gives a directory we just created mode 0750, the configured group and then the setgid bit (so what is
    /// created inside, SQLite's `-wal`/`-shm` included, inherits the group); a setgid bit inherited from the
    /// parent is kept.
    static func privatize(directory path: String) throws(UnsafePath) {
        var created = stat()
        var setgid = lstat(path, &created) == 0 ? created.st_mode & S_ISGID : 0
        if let group {
            guard lchown(path, uid_t.max, group) == 0 else {
                let code = errno
                throw UnsafePath(
                    path: path,
                    message: "cannot give \(path) to group \(group): \(String(cString: strerror(code))); the user "
                        + "running the archiver must be a member of that group (--group / config group)"
                )
            }
            setgid = S_ISGID
        }
        _ = chmod(path, directoryMode | setgid)
    }

    /// ``makeDirectories(_:under:)`` for a directory URL below `root`.
    @discardableResult
    static func makeDirectories(_ directory: URL, under root: URL) throws(UnsafePath) -> String {
        let rootPath = root.standardizedFileURL.path
        let path = directory.standardizedFileURL.path
        guard path == rootPath || path.hasPrefix(rootPath == "/" ? "/" : rootPath + "/") else {
            throw UnsafePath(path: path, message: "\(path) is not below the archive root \(rootPath)")
        }
        let relative = path.dropFirst(rootPath.count).split(separator: "/").map(String.init)
        return try makeDirectories(relative, under: rootPath)
    }

    /// Removes `name` inside the directory `parent` and, if it is a directory, everything in it, without
    /// following any symbolic link (a link is unlinked, never entered).
    ///
    /// - Returns: `false` when something could not be removed.
    @discardableResult
    static func removeTree(named name: String, in parent: Int32) -> Bool {
        let child = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if child < 0 {
            // Not a directory (a file or a link): remove the name itself.
            return unlinkat(parent, name, 0) == 0 || errno == ENOENT
        }
        var removedAll = true
        for entryName in entries(of: child) where !removeTree(named: entryName, in: child) { removedAll = false }
        close(child)
        return unlinkat(parent, name, AT_REMOVEDIR) == 0 && removedAll
    }

    /// The names in the open directory `directory` (without `.` and `..`); `directory` stays open.
    static func entries(of directory: Int32) -> [String] {
        let copy = dup(directory)
        guard copy >= 0 else { return [] }
        guard let stream = fdopendir(copy) else {
            close(copy)
            return []
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Opens the directory `relative` below `root` for `openat`-style use, refusing any component that is a
    /// symbolic link.
    ///
    /// - Returns: The descriptor, or `nil` when it does not exist or is not a real directory.
    static func openDirectory(_ relative: [String], under root: String) -> Int32? {
        try? openDirectoryNoFollow(relative, under: root)
    }

    /// Opens the directory `relative` below `root` one component at a time, never following a link.
    ///
    /// Each component is opened with `openat(O_DIRECTORY | O_NOFOLLOW)` relative to the one before, so no
    /// component below the root is followed when it is a symbolic link, even one planted between two calls. The
    /// root itself is the operator's choice and may be a link.
    ///
    /// - Returns: The descriptor of the last directory (the caller closes it).
    /// - Throws: ``UnsafePath`` whose ``UnsafePath/reason`` says whether a component is missing, a symbolic
    ///   link, not a directory, or cannot be opened, and whose message names it and says what to do.
    static func openDirectoryNoFollow(_ relative: [String], under root: String) throws(UnsafePath) -> Int32 {
        var fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw UnsafePath(
                path: root,
                message: "cannot open the archive root \(root): \(String(cString: strerror(code))); check that it "
                    + "exists and that this user may read it",
                reason: code == ENOENT ? .missing : .unusable
            )
        }
        var path = root
        for component in relative {
            path += "/" + component
            guard !component.isEmpty, component != ".", component != ".." else {
                close(fd)
                throw UnsafePath(path: path, message: "\(path) is not a plain path below the archive root")
            }
            let next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else {
                let code = errno
                var status = stat()
                let kind = fstatat(fd, component, &status, AT_SYMLINK_NOFOLLOW) == 0 ? status.st_mode & S_IFMT : 0
                close(fd)
                throw refusal(path: path, code: code, kind: kind)
            }
            close(fd)
            fd = next
        }
        return fd
    }

    /// Why `path` could not be opened as a directory: `code` is `openat`'s errno, `kind` the `S_IFMT` bits of
    /// what is there (0 when nothing is).
    private static func refusal(path: String, code: Int32, kind: mode_t) -> UnsafePath {
        switch kind {
        case S_IFLNK:
            return UnsafePath(
                path: path,
                message: "\(path) is a symbolic link; the archiver never follows links below the archive root. "
                    + "Inspect it and put the real folder back in its place (or remove the link: rm \(path))",
                reason: .symbolicLink
            )
        case 0 where code == ENOENT:
            return UnsafePath(path: path, message: "\(path) does not exist", reason: .missing)
        case 0, S_IFDIR:
            return UnsafePath(
                path: path,
                message: "cannot open \(path): \(String(cString: strerror(code))); check its permissions",
                reason: .unusable
            )
        default:
            return UnsafePath(
                path: path,
                message: "\(path) is not a directory; move it away and put the real folder back in its place",
                reason: .notADirectory
            )
        }
    }

    /// A path below the archive root that is a link, not a directory, or cannot be created.
    struct UnsafePath: Error, Sendable, CustomStringConvertible {
        /// What is wrong with the path.
        enum Reason: Sendable, Equatable {
            /// A component does not exist.
            case missing
            /// A component is a symbolic link, which is never followed.
            case symbolicLink
            /// A component is a file, FIFO, device or socket, not a directory.
            case notADirectory
            /// The path is not allowed, or cannot be created or opened (permissions, I/O).
            case unusable
        }

        /// The offending path.
        var path: String
        /// What happened and what to do.
        var message: String
        /// What is wrong with the path.
        var reason: Reason = .unusable
        var description: String { message }
        /// Whether only an operator can clear it.
        ///
        /// A link, or something that is not a directory, where a folder should be: trying again later in the same
        /// run cannot help, so the job is not retried in this run.
        var needsOperator: Bool { reason == .symbolicLink || reason == .notADirectory }
    }
}

/// Who may read what the archiver writes: the group of every file and directory it creates.
package enum ArchiveOwnership {
    /// Gives every file and directory created from now on (by this process) the group `name`, with the setgid
    /// bit on directories so that files created inside (SQLite's `-wal`/`-shm` too) inherit it.
    ///
    /// - Returns: `false` (and nothing changes) when no group has that name.
    package static func useGroup(named name: String) -> Bool {
        guard let entry = getgrnam(name) else { return false }
        PrivateFile.setGroup(entry.pointee.gr_gid)
        return true
    }

    /// Makes `directory` (the archive root the caller just created) private: 0750, the group, setgid.
    ///
    /// - Throws: An error naming the directory when the group cannot be set.
    package static func privatize(directory: String) throws {
        try PrivateFile.privatize(directory: directory)
    }
}
