public import Foundation

/// Packs a staged recording into `<encodedId>.tar` (pax, a BagIt 1.0 bag) plus its `<encodedId>.tar.sha256` sidecar.
///
/// Every member lies under `<encodedId>/` where the directory name is ``RecordingPathComponent/encode(_:)`` of the
/// recording id, in a fixed, data-first order: the bag directory, `data/`, the resources in kind order (video,
/// thumbnail, console-log, network-log, actions, then unknown kinds sorted), `data/recording.json`, `bagit.txt`,
/// `bag-info.txt`, `archive-manifest.json`, the two payload manifests, the two tag manifests. The video comes
/// first so that its staged file can already hold the tar's first bytes (see ``PackingFront``); archives written
/// by earlier versions put the tag files before `data/`, and every reader accepts both orders. Metadata is
/// deterministic: mode 0644 for files and 0755 for directories, uid/gid 0 with owner names `root`, and every
/// mtime is the recording's `createdAt` (whole seconds). The recording's own creation time was chosen over the
/// archive time so that members carry a meaningful, reproducible date; the archive time is in the manifest.
///
/// Packing is all-or-nothing: the tar is written to `<tar>.partial`, every staged file is checked again from the very
/// buffer that is copied into the tar against what its download computed, then fsync, rename, directory fsync; the
/// sidecar is written the same way. A failure or crash leaves no `.tar` (at most a `.partial`). The check proves the
/// tar holds exactly the bytes that were hashed while downloading, so their SHA-256 and SHA-512 are the downloaded
/// ones: a file this process downloaded is checked against the download's ``ContentSeal`` (a secret-keyed Poly1305,
/// about 7 times cheaper than SHA-256), any other against its SHA-256 (SHA-512, the slower digest, is never
/// recomputed).
///
/// The video is normally not copied: its download reserved the bytes of the tar's first three headers in front of
/// its body (see ``PackingFront``, ``StagedResource/dataOffset``), so the staged file itself becomes the tar (see
/// `packInPlace`): `<tar>.partial` is linked to it, its bytes are read once (the checks above and the tar's SHA-256)
/// and the other members are appended. Where the download already computed the tar's SHA-256 over those bytes
/// (``TwinSHA256``, on CPUs with SHA extensions: ``StagedResource/tarMidstate``), that read only checks them (the seal
/// and the headers) and the sidecar's digest continues the download's, so the video is never hashed by the packer.
/// The copy is used whenever that cannot be done safely (a plain staged file, a front that is not exactly the
/// expected headers, staging on another file system, a staged file with other names); both give the same bytes.
public struct ArchivePackager: Sendable {
    /// Packer settings.
    public struct Configuration: Sendable {
        /// Size of each read from a staged file into the tar: the size of each of the four buffers of the ring that
        /// hands the tar's bytes to the sidecar digest's thread, which the staged files are read into directly.
        ///
        /// Default: 128 KiB.
        public var chunkBytes: Int = 128 << 10
        /// The `Source-Organization` written to `bag-info.txt`.
        ///
        /// Default: `nil`, meaning `Userplane workspace <workspaceId>`.
        public var sourceOrganization: String?
        /// The directory the tar's folder is named from: below it, the folder is opened once, one component at a
        /// time without following any link, and the tar and its sidecar are renamed into it (and it is fsynced)
        /// through that descriptor, so a folder swapped for a link meanwhile never receives them.
        ///
        /// Default: `nil`, meaning the tar's folder itself, opened by its path.
        public var root: URL?

        /// Creates the default configuration.
        public init() {}
    }

    /// The settings in use.
    public var configuration: Configuration

    /// Creates a packer.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Packs `staged` into `tarURL` and writes the sidecar next to it.
    ///
    /// Blocking: call off the cooperative pool.
    ///
    /// - Parameters:
    ///   - staged: The recording and its staged files.
    ///   - tarURL: `<dir>/<encodedId>.tar`, where `encodedId` is ``RecordingPathComponent/encode(_:)`` of the id.
    /// - Returns: The archive's path, size, SHA-256 and manifest.
    /// - Throws: ``PackingError`` with `.invalidInput` for an inconsistent staged recording, `.digestMismatch` or
    ///   `.sizeMismatch` when a staged file changed since its download, `.io` / `.archive` for write failures.
    public func pack(_ staged: StagedRecording, to tarURL: URL) throws(PackingError) -> PackedArchive {
        let bagName = RecordingPathComponent.encode(staged.recordingID)
        guard tarURL.lastPathComponent == bagName + ".tar" else {
            throw PackingError(
                code: .invalidInput,
                message:
                    "the archive for recording \(bagName) must be named \(bagName).tar, not \(tarURL.lastPathComponent)"
            )
        }
        let folder = try RootedFile.folder(of: tarURL, under: configuration.root)
        return try pack(staged, to: tarURL, in: folder)
    }

    /// ``pack(_:to:)`` into `folder`, the tar's folder already open: every name in it (`<tar>.partial`, the tar,
    /// the sidecar) is created, linked, renamed and removed through that descriptor, never by path, so a folder
    /// replaced by a link after it was opened never receives a byte.
    func pack(_ staged: StagedRecording, to tarURL: URL, in folder: RootedFile) throws(PackingError) -> PackedArchive {
        let bagName = RecordingPathComponent.encode(staged.recordingID)
        let plan = try PackPlan(staged: staged, bagName: bagName, sourceOrganization: configuration.sourceOrganization)
        let sidecarPath = tarURL.path + ".sha256"
        let result: (size: Int64, sha256: String)
        do throws(PackingError) {
            do {
                if let inPlace = try packInPlace(plan, in: folder) {
                    result = inPlace
                } else {
                    result = try write(plan, in: folder)
                }
            } catch {
                _ = folder.unlinkIfPresent(suffix: ".partial")
                throw error
            }
            _ = folder.unlinkIfPresent(suffix: ".sha256")  // a stale sidecar must never vouch for the new tar
            do {
                try folder.commit(suffix: ".partial")
            } catch {
                _ = folder.unlinkIfPresent(suffix: ".partial")
                throw error
            }
            try folder.writeAtomically(Array("\(result.sha256)  \(bagName).tar\n".utf8), suffix: ".sha256")
        } catch  where error.code == .diskFull {
            let directory = tarURL.deletingLastPathComponent().path
            throw PackingError(
                code: .diskFull,
                message: "disk full while packing \(staged.recordingID): free space in \(directory) and re-run "
                    + "(earlier archives are intact)",
                cause: error.cause
            )
        }
        return PackedArchive(
            tarURL: tarURL,
            sidecarURL: URL(fileURLWithPath: sidecarPath),
            size: result.size,
            sha256: result.sha256,
            manifest: plan.manifest
        )
    }

    /// The copy: `<tar>.partial` created afresh in `folder` (``RootedFile/createAfresh(suffix:)``) and written.
    private func write(_ plan: PackPlan, in folder: RootedFile) throws(PackingError) -> (size: Int64, sha256: String) {
        let fd = try folder.createAfresh(suffix: ".partial")
        let writer = try ArchiveWriteHandle(
            fd: fd,
            path: folder.path + ".partial",
            bufferBytes: max(configuration.chunkBytes, 4096)
        )
        let metadata = ArchiveWriteHandle.MemberMetadata(mtime: plan.mtime)
        let root = plan.bagName + "/"
        try writer.addDirectory(root, metadata: metadata)
        try writer.addDirectory(root + "data/", metadata: metadata)
        for file in plan.payloadFiles {
            try streamFile(file, into: writer, name: root + "data/" + file.fileName, metadata: metadata)
        }
        return try writeRest(plan, payloadFiles: [], into: writer)
    }

    /// Adds what follows the first payloads: `payloadFiles`, `recording.json`, the tag files, the manifests; then
    /// finishes the tar.
    func writeRest(
        _ plan: PackPlan,
        payloadFiles: ArraySlice<PackPlan.PayloadFile>,
        into writer: ArchiveWriteHandle
    ) throws(PackingError) -> (size: Int64, sha256: String) {
        let metadata = ArchiveWriteHandle.MemberMetadata(mtime: plan.mtime)
        let root = plan.bagName + "/"
        for file in payloadFiles {
            try streamFile(file, into: writer, name: root + "data/" + file.fileName, metadata: metadata)
        }
        try writer.addFile(
            root + "data/" + ArchiveLayout.recordingFileName,
            bytes: plan.recordingJSON,
            metadata: metadata
        )
        for (name, bytes) in plan.tagFiles {
            try writer.addFile(root + name, bytes: bytes, metadata: metadata)
        }
        var tagEntries = plan.tagFiles
        for algorithm in BagItAlgorithm.all {
            let entries = plan.payloadDigests.map {
                ("data/" + $0.fileName, algorithm == "sha256" ? $0.sha256 : $0.sha512)
            }
            let bytes = BagIt.manifest(entries)
            try writer.addFile(root + "manifest-\(algorithm).txt", bytes: bytes, metadata: metadata)
            tagEntries.append(("manifest-\(algorithm).txt", bytes))
        }
        for algorithm in BagItAlgorithm.all {
            let entries = tagEntries.map { (name, bytes) in
                (
                    name,
                    HashState.hex(algorithm == "sha256" ? .sha256 : .sha512, of: bytes)
                )
            }
            try writer.addFile(
                root + "tagmanifest-\(algorithm).txt",
                bytes: BagIt.manifest(entries),
                metadata: metadata
            )
        }
        return try writer.finish()
    }

    /// Streams one staged file into the tar, checking each chunk in the very buffer it is read into and written from;
    /// its size and its seal (or, without one, its SHA-256) must match the download's (see the type's discussion).
    func streamFile(
        _ file: PackPlan.PayloadFile,
        into writer: ArchiveWriteHandle,
        name: String,
        metadata: ArchiveWriteHandle.MemberMetadata
    ) throws(PackingError) {
        let path = file.stagedPath
        let fd = try DurableFile.openForReading(path, followsLinks: false)
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw DurableFile.ioError("cannot stat \(path)") }
        // A reserved front comes before the body; bytes after it are left by an interrupted in-place pack.
        let fits =
            file.dataOffset == 0
            ? Int64(status.st_size) == file.size : Int64(status.st_size) >= file.dataOffset + file.size
        guard fits else {
            throw PackingError(
                code: .sizeMismatch,
                message: "staged \(file.kind) \(path) has \(status.st_size) bytes but \(file.size) were downloaded "
                    + "(after \(file.dataOffset) reserved); re-download it"
            )
        }
        guard lseek(fd, off_t(file.dataOffset), SEEK_SET) == off_t(file.dataOffset) else {
            throw DurableFile.ioError("cannot seek in \(path)")
        }
        var remaining = file.size
        let read = { (buffer: UnsafeMutableRawBufferPointer) throws(PackingError) -> Int in
            let wanted = Int(min(Int64(buffer.count), remaining))
            guard wanted > 0 else { return 0 }
            let count = try DurableFile.readSome(fd, into: .init(rebasing: buffer[0..<wanted]), path: path)
            remaining -= Int64(count)
            return count
        }
        if let seal = file.contentSeal {
            let checker = seal.checker()
            try writer.addFile(name, size: file.size, metadata: metadata) { (buffer) throws(PackingError) in
                let count = try read(buffer)
                checker.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                return count
            }
            guard seal.matches(checker) else {
                throw PackingError(
                    code: .digestMismatch,
                    message: "staged \(file.kind) \(path) no longer holds the bytes downloaded (their content seal "
                        + "differs); the staged copy is corrupt, re-download it"
                )
            }
            return
        }
        let digest = HashState(.sha256)
        try writer.addFile(name, size: file.size, metadata: metadata) { (buffer) throws(PackingError) in
            let count = try read(buffer)
            digest.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            return count
        }
        let sha256 = digest.finalizeHex()
        guard sha256 == file.sha256 else {
            throw PackingError(
                code: .digestMismatch,
                message: "staged \(file.kind) \(path) no longer matches the digest computed while downloading "
                    + "(sha256 \(sha256), expected \(file.sha256)); the staged copy is corrupt, re-download it"
            )
        }
    }
}
