import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One streaming pass over a tar for ``ArchiveVerifier``, then the consistency checks over what it saw.
struct ArchiveScan {
    struct Member {
        var size: Int64
        var sha256: String
        var sha512: String
    }

    /// The tar's path, for messages.
    let tarPath: String
    /// The folder descriptor the tar and sidecar are opened in (`openat`), or `AT_FDCWD`.
    let directory: Int32
    /// The tar's name in ``directory`` (its whole path with `AT_FDCWD`).
    let tarName: String
    let maximumTagFileBytes: Int
    /// The bag directory: the tar's name without `.tar`.
    let bagName: String
    /// Files by name relative to the bag directory.
    var members: [String: Member] = [:]
    /// Tag file bytes (outside `data/`) by relative name.
    var tagFiles: [String: [UInt8]] = [:]
    var problems: [ArchiveVerification.Problem] = []
    var tarSHA256: String?
    var manifest: ArchiveManifest?
    /// Whether the tar could not be read to its end, so content checks would only add noise.
    var isTruncated = false
    /// Payload sizes declared by `archive-manifest.json`, by relative name.
    ///
    /// A payload member whose tar header declares another size fails without being read. Only archives of earlier versions hold the manifest before
    /// the payload; in the current data-first order the payload is read and hashed before the manifest is seen, and
    /// the same mismatch is then reported by ``checkContents()``.
    var declaredPayloadSizes: [String: Int64] = [:]
    /// The tag files kept in memory to be parsed; other members are only hashed, so memory does not grow with
    /// the number or size of unexpected members.
    static let parsedTagFiles: Set<String> =
        Set(
            ["bagit.txt", "bag-info.txt", ArchiveLayout.manifestFileName] + BagIt.manifestNames + BagIt.tagManifestNames
        )
    /// The most members read; an archive of ours holds about fifteen, so memory never grows with a hostile count.
    static let maximumMembers = 1000
    /// The largest sidecar read: one line with a digest and a file name.
    static let maximumSidecarBytes = 4096
    /// The longest member name accepted, in UTF-8 bytes: `PATH_MAX`.
    ///
    /// Ours stay under 300 (a bag name of at most 200 and a short file name); libarchive accepts names of up to
    /// 1 MiB, which, kept for each of ``maximumMembers`` members, would hold a gigabyte.
    static let maximumMemberNameBytes = 4096
    /// The most problems listed per archive; the others are counted in one last problem.
    static let maximumProblems = 100
    /// The most UTF-8 bytes of a member name printed in a problem.
    static let maximumPrintedNameBytes = 512
    /// The most UTF-8 bytes of a problem's message.
    static let maximumPrintedMessageBytes = 2048
    /// Problems past ``maximumProblems``, counted only.
    var omittedProblems = 0

    /// A scan of `tarPath`; with `directory`, the tar is opened as `name` in that folder and `tarPath` only names
    /// it in messages.
    init(tarPath: String, maximumTagFileBytes: Int, directory: Int32 = AT_FDCWD, name: String? = nil) {
        self.tarPath = tarPath
        self.directory = directory
        tarName = name ?? tarPath
        self.maximumTagFileBytes = maximumTagFileBytes
        let name = (tarPath as NSString).lastPathComponent
        bagName = name.hasSuffix(".tar") ? String(name.dropLast(4)) : name
    }

    /// Records a problem, made safe to print: member names and messages come from the archive (and from paths on
    /// disk), so control and bidi characters are escaped and both are capped; past ``maximumProblems`` the rest are
    /// only counted, so a hostile manifest listing a million files cannot grow memory or the report without bound.
    mutating func report(_ code: ArchiveVerification.Code, _ member: String? = nil, _ message: String) {
        guard problems.count < Self.maximumProblems else {
            omittedProblems += 1
            let summary = ArchiveVerification.Problem(
                code: code,
                message: "and \(omittedProblems) more problems, not listed"
            )
            if problems.count == Self.maximumProblems {
                problems.append(summary)
            } else {
                problems[problems.count - 1] = summary
            }
            return
        }
        problems.append(
            ArchiveVerification.Problem(
                code: code,
                member: member.map { SafeText.printable($0, maximumBytes: Self.maximumPrintedNameBytes) },
                message: SafeText.printable(message, maximumBytes: Self.maximumPrintedMessageBytes)
            )
        )
    }

    // MARK: - Reading

    /// Reads the tar: members are parsed and hashed on one thread while a second thread reads the same file
    /// independently (the page cache serves it) for the sidecar's whole-tar SHA-256; both are joined before
    /// anything is reported.
    mutating func run(bufferBytes: Int) {
        // A FIFO, device or symlink is one problem, said first; its sidecar is beside the point.
        do throws(PackingError) {
            close(
                try DurableFile.openRegularFileForReading(tarPath, followsSymlinks: false, in: directory, name: tarName)
            )
        } catch {
            isTruncated = true
            report(.unreadable, nil, "cannot open the tar: \(error.message)")
            return
        }
        let expectedSidecar = readSidecar()
        let path = tarPath
        let (directory, name) = (self.directory, tarName)
        let rawDigest = Mutex<Result<(String, FileIdentity), PackingError>?>(nil)
        let scanned = Mutex(self)
        // Iteration 0 only writes `rawDigest`, iteration 1 only `scanned`, each behind its own lock. If no
        // worker thread is free, the calling thread runs both in turn, so this never waits on the pool.
        DispatchQueue.concurrentPerform(iterations: 2) { iteration in
            if iteration == 0 {
                let result = Result { () throws(PackingError) in
                    try Self.rawSHA256(path: path, in: directory, name: name, bufferBytes: bufferBytes)
                }
                rawDigest.withLock { $0 = result }
            } else {
                scanned.withLock { $0.scanMembers(bufferBytes: bufferBytes) }
            }
        }
        self = scanned.withLock { $0 }
        guard !isTruncated else { return }
        switch rawDigest.withLock({ $0 }) {
        case .success(let (sha256, identity)):
            // Both threads opened the path on their own: a tar renamed over in between would mix two files.
            guard Self.fileIdentity(in: directory, name: name) == identity else {
                isTruncated = true
                report(.unreadable, nil, "the tar was replaced while it was being verified; run verify again")
                return
            }
            tarSHA256 = sha256
            if let expectedSidecar, expectedSidecar != sha256 {
                report(.sidecarMismatch, nil, "the tar's SHA-256 is \(sha256), the sidecar says \(expectedSidecar)")
            }
        case .failure(let error):
            isTruncated = true
            report(.unreadable, nil, "the tar cannot be read to its end (truncated or corrupt): \(error)")
        case nil:
            preconditionFailure("concurrentPerform returned before hashing the tar")
        }
    }

    /// Parses every member and computes its digests; sets ``isTruncated`` when the tar cannot be read to its end.
    private mutating func scanMembers(bufferBytes: Int) {
        let reader: ArchiveReadHandle
        do {
            reader = try ArchiveReadHandle(
                path: tarPath,
                bufferBytes: bufferBytes,
                hashesRawBytes: false,
                in: directory,
                name: tarName
            )
        } catch {
            isTruncated = true
            report(.unreadable, nil, "cannot open the tar: \(error)")
            return
        }
        scanMembers(of: reader)
    }

    /// Parses every member `reader` yields and computes its digests.
    mutating func scanMembers(of reader: ArchiveReadHandle) {
        do {
            var count = 0
            while let entry = try reader.nextEntry() {
                count += 1
                guard count <= Self.maximumMembers else {
                    isTruncated = true
                    report(
                        .unsafeMember,
                        nil,
                        "the tar holds more than \(Self.maximumMembers) members (archives of this tool hold about "
                            + "fifteen); it was not read further"
                    )
                    return
                }
                try consume(entry, from: reader)
            }
        } catch {
            isTruncated = true
            report(.unreadable, nil, "the tar cannot be read to its end (truncated or corrupt): \(error)")
        }
    }

    /// Device and inode of a file: what tells two opens of one path apart when it was renamed over.
    struct FileIdentity: Equatable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    /// The identity of `name` in `directory` (a link is not followed).
    static func fileIdentity(in directory: Int32, name: String) -> FileIdentity? {
        var info = stat()
        guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The SHA-256 of the whole file at `path`, read sequentially through one buffer of `bufferBytes`, and the
    /// identity of the file that was read.
    private static func rawSHA256(
        path: String,
        in directory: Int32,
        name: String,
        bufferBytes: Int
    ) throws(PackingError) -> (String, FileIdentity) {
        let fd = try DurableFile.openRegularFileForReading(path, followsSymlinks: false, in: directory, name: name)
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DurableFile.ioError("cannot stat \(path)") }
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferBytes, alignment: 16)
        defer { buffer.deallocate() }
        let sha256 = HashState(.sha256)
        while true {
            let count = try DurableFile.readSome(fd, into: buffer, path: path)
            if count == 0 { break }
            sha256.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return (sha256.finalizeHex(), identity)
    }

    /// The sidecar's digest, after checking its format and file name.
    private mutating func readSidecar() -> String? {
        let sidecarPath = tarPath + ".sha256"
        let data: [UInt8]?
        do throws(PackingError) {
            // A sidecar is one line: read at most a few KiB, from a regular file only (never a FIFO, a device or a
            // symlink), so a hostile sidecar can neither hang verify nor fill its memory.
            data = try DurableFile.readSmallRegularFile(
                sidecarPath,
                maximumBytes: Self.maximumSidecarBytes,
                followsSymlinks: false,
                in: directory,
                name: tarName + ".sha256"
            )
        } catch  where error.code == .notFound {
            report(.sidecarMissing, nil, "\(sidecarPath) is missing; the archive's integrity cannot be anchored")
            return nil
        } catch {
            report(.sidecarMissing, nil, "cannot read the sidecar: \(error.message)")
            return nil
        }
        return parseSidecar(data)
    }

    /// The digest a sidecar's bytes give, after checking its size, format and file name; `nil` bytes mean too large.
    mutating func parseSidecar(_ data: [UInt8]?) -> String? {
        let sidecarPath = tarPath + ".sha256"
        guard let data else {
            report(
                .sidecarMissing,
                nil,
                "\(sidecarPath) is larger than \(Self.maximumSidecarBytes) bytes, so it is not a one-line sidecar"
            )
            return nil
        }
        let text = String(decoding: data, as: UTF8.self)
        // Lines end in LF or CRLF (a sidecar saved on Windows), as `sha256sum -c` reads them; `"\r\n"` is one
        // Character in Swift, so splitting at `"\n"` alone would keep a CRLF file as one line.
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        let line = lines.first.map(String.init) ?? ""
        let parts = line.split(separator: " ", maxSplits: 1)
        let tarName = (tarPath as NSString).lastPathComponent
        guard lines.count == 1, parts.count == 2, HexDigest.isHex(String(parts[0]), length: 64) else {
            report(.sidecarMissing, nil, "\(sidecarPath) is not in `sha256sum` format")
            return nil
        }
        let named = parts[1].drop(while: { $0 == " " || $0 == "*" })
        if named != tarName {
            report(.sidecarMismatch, nil, "the sidecar names \(named), not \(tarName)")
        }
        return parts[0].lowercased()
    }

    private mutating func consume(_ entry: ArchiveReadHandle.Entry, from reader: ArchiveReadHandle) throws(PackingError)
    {
        guard entry.name.utf8.count <= Self.maximumMemberNameBytes else {
            report(
                .unsafeMember,
                entry.name,
                "member name is \(entry.name.utf8.count) bytes long, more than \(Self.maximumMemberNameBytes); "
                    + "archives of this tool use short names"
            )
            return
        }
        var name = entry.name
        while name.hasSuffix("/") { name.removeLast() }
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        let isSafe =
            !entry.name.hasPrefix("/") && !components.contains("..") && !components.contains(".")
            && !components.contains("") && components.first.map(String.init) == bagName
        guard isSafe else {
            report(.unsafeMember, entry.name, "member name is absolute, contains `..`, or lies outside \(bagName)/")
            return
        }
        guard entry.kind != .other else {
            report(
                .unsafeMember,
                entry.name,
                "member is neither a regular file nor a directory (a link, device or FIFO); archives hold only those"
            )
            return
        }
        guard !entry.isSparse else {
            // Never read: its holes could declare petabytes, and tools disagree on trailing holes.
            report(.unsafeMember, entry.name, "member is a sparse file; archives never hold sparse members")
            return
        }
        guard entry.kind == .file else { return }
        let relative = components.dropFirst().joined(separator: "/")
        guard members[relative] == nil else {
            report(.extraMember, relative, "member appears more than once")
            return
        }
        if let declared = declaredPayloadSizes[relative], entry.size != declared {
            // Fail fast: a member of another size cannot match the manifest, so its bytes are not read at all.
            members[relative] = Member(size: entry.size, sha256: "", sha512: "")
            report(
                .digestMismatch,
                relative,
                "the tar header declares \(entry.size) bytes but archive-manifest.json says \(declared)"
            )
            return
        }
        var digest = DualDigest()
        let keepsBytes = Self.parsedTagFiles.contains(relative) && entry.size <= Int64(maximumTagFileBytes)
        var bytes: [UInt8] = []
        try reader.readData { chunk in
            digest.update(chunk)
            if keepsBytes { bytes.append(contentsOf: chunk) }
        }
        let (sha256, sha512) = digest.finalize()
        members[relative] = Member(size: digest.byteCount, sha256: sha256, sha512: sha512)
        if keepsBytes { tagFiles[relative] = bytes }
        if keepsBytes, relative == ArchiveLayout.manifestFileName, let decoded = try? ArchiveManifest.decode(bytes) {
            declaredPayloadSizes["data/" + decoded.recording.fileName] = decoded.recording.size
            for resource in decoded.resources.values where resource.availability == .archived {
                if let fileName = resource.fileName, let size = resource.size {
                    declaredPayloadSizes["data/" + fileName] = size
                }
            }
        }
    }

    // MARK: - Checks

    mutating func checkContents() {
        let required =
            ["bagit.txt", "bag-info.txt", ArchiveLayout.manifestFileName] + BagIt.manifestNames + BagIt.tagManifestNames
        for name in required {
            guard let member = members[name] else {
                report(.missingMember, name, "required tag file is missing")
                continue
            }
            if tagFiles[name] == nil {
                // Too large to be kept and parsed: said once here, and each check below skips it.
                report(
                    .manifestInvalid,
                    name,
                    "is \(member.size) bytes, more than the \(maximumTagFileBytes) a tag file may hold (those of this "
                        + "tool are a few KiB), so it was not read"
                )
            }
        }
        if let declaration = tagFiles["bagit.txt"], declaration != BagIt.declaration {
            report(.manifestInvalid, "bagit.txt", "is not the BagIt 1.0 declaration with UTF-8 tag files")
        }
        let payload = members.keys.filter { $0.hasPrefix("data/") }
        for (index, algorithm) in BagItAlgorithm.all.enumerated() {
            checkManifest(BagIt.manifestNames[index], algorithm: algorithm, covers: Set(payload), isTagManifest: false)
            let tagNames = members.keys.filter { !$0.hasPrefix("data/") && !BagIt.tagManifestNames.contains($0) }
            checkManifest(
                BagIt.tagManifestNames[index],
                algorithm: algorithm,
                covers: Set(tagNames),
                isTagManifest: true
            )
        }
        checkPayloadOxum(payload)
        checkArchiveManifest(payload)
    }

    private mutating func checkManifest(
        _ name: String,
        algorithm: String,
        covers expected: Set<String>,
        isTagManifest: Bool
    ) {
        guard let bytes = tagFiles[name] else { return }  // missing or too large: reported by checkContents
        guard let entries = BagIt.parseManifest(bytes) else {
            report(.manifestInvalid, name, "is not a valid BagIt manifest")
            return
        }
        var listed: Set<String> = []
        for (path, hex) in entries {
            guard listed.insert(path).inserted else {
                report(.manifestInvalid, name, "lists \(path) twice")
                continue
            }
            if path.hasPrefix("data/") == isTagManifest || BagIt.tagManifestNames.contains(path) {
                report(.manifestInvalid, name, "must not list \(path)")
                continue
            }
            guard let member = members[path] else {
                report(.missingMember, path, "listed in \(name) but not in the archive")
                continue
            }
            let actual = algorithm == "sha256" ? member.sha256 : member.sha512
            if actual != hex {
                report(.digestMismatch, path, "\(algorithm) is \(actual) but \(name) says \(hex)")
            }
        }
        for path in expected.subtracting(listed).sorted() {
            report(.extraMember, path, "present in the archive but not listed in \(name)")
        }
    }

    private mutating func checkPayloadOxum(_ payload: [String]) {
        guard let bytes = tagFiles["bag-info.txt"] else { return }  // missing or too large: reported already
        guard let fields = BagIt.parseTagFile(bytes) else {
            report(.manifestInvalid, "bag-info.txt", "is not a valid tag file")
            return
        }
        guard let oxum = fields.first(where: { $0.label == "Payload-Oxum" })?.value else {
            report(.payloadOxum, "bag-info.txt", "has no Payload-Oxum")
            return
        }
        let actual = BagIt.payloadOxum(sizes: payload.compactMap { members[$0]?.size })
        if oxum != actual {
            report(.payloadOxum, "bag-info.txt", "Payload-Oxum is \(oxum) but the payload is \(actual)")
        }
    }

    private mutating func checkArchiveManifest(_ payload: [String]) {
        let name = ArchiveLayout.manifestFileName
        guard let bytes = tagFiles[name] else { return }  // missing or too large: reported by checkContents
        let decoded: ArchiveManifest
        do throws(PackingError) {
            decoded = try ArchiveManifest.decode(bytes)
        } catch {
            report(.manifestInvalid, name, error.message)
            return
        }
        manifest = decoded
        if RecordingPathComponent.encode(decoded.recordingID) != bagName {
            report(
                .manifestInvalid,
                name,
                "recording id \(decoded.recordingID.debugDescription) does not belong in \(bagName)/"
            )
        }
        var expected: [(kind: String, fileName: String, size: Int64, sha256: String, sha512: String)] = [
            (
                "recording", decoded.recording.fileName, decoded.recording.size, decoded.recording.sha256,
                decoded.recording.sha512
            )
        ]
        for (kind, resource) in decoded.resources.sorted(by: { $0.key < $1.key }) {
            guard resource.availability == .archived else {
                if resource.fileName != nil {
                    report(.manifestInvalid, name, "\(kind) is \(resource.availability) but names a file")
                }
                continue
            }
            guard let fileName = resource.fileName, let size = resource.size, let sha256 = resource.sha256,
                let sha512 = resource.sha512
            else {
                report(.manifestInvalid, name, "archived \(kind) lacks its file name, size or digests")
                continue
            }
            expected.append((kind, fileName, size, sha256, sha512))
        }
        var accounted: Set<String> = []
        for file in expected {
            let path = "data/" + file.fileName
            accounted.insert(path)
            guard let member = members[path] else {
                report(.missingMember, path, "the manifest's \(file.kind) is not in the archive")
                continue
            }
            if member.size != file.size || member.sha256 != file.sha256 || member.sha512 != file.sha512 {
                report(.digestMismatch, path, "size or digest differs from archive-manifest.json's \(file.kind)")
            }
        }
        for path in Set(payload).subtracting(accounted).sorted() {
            report(.extraMember, path, "not accounted for by archive-manifest.json")
        }
    }
}
