import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension S3Destination {
    /// Verifies one archive by streaming its object through the verifier.
    ///
    /// The GET writes into one end of a socket pair while libarchive reads the other, hashing members and the raw
    /// bytes in one pass. Nothing is written to disk and memory stays flat. The tar's Object Lock state (mode,
    /// retain-until, legal hold) is reported with the verdict.
    public func verify(relativePath: String) async -> ArchiveVerification {
        await verify(relativePath: relativePath, versionId: nil)
    }

    /// Verifies one version of an archive (the current one when `versionId` is `nil`).
    public func verify(relativePath: String, versionId: String?) async -> ArchiveVerification {
        await verifyKeepingManifest(relativePath: relativePath, versionId: versionId).verification
    }

    /// ``verify(relativePath:versionId:)``, also returning the `archive-manifest.json` read in the same pass
    /// (`rebuild-catalog`): the manifest catalogued is the one verified.
    func verifyKeepingManifest(
        relativePath: String,
        versionId: String?
    ) async -> (verification: ArchiveVerification, manifest: ArchiveManifest?) {
        let key = location.key(relativePath)
        let name = describe(relativePath)
        func failure(_ message: String) -> (ArchiveVerification, ArchiveManifest?) {
            (
                ArchiveVerification(path: name, problems: [.init(code: .unreadable, message: Self.printable(message))]),
                nil
            )
        }
        let sidecar: [UInt8]??
        do {
            let bytes = try await client.getSmall(key + ".sha256")
            sidecar = bytes.map { $0.count > ArchiveScan.maximumSidecarBytes ? nil : $0 }
        } catch {
            return failure("cannot read the sidecar: \(error.message)")
        }
        var descriptors: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &descriptors) == 0
        else {
            return failure("cannot create a socket pair to stream the object: \(String(cString: strerror(errno)))")
        }
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        let bufferBytes = ArchiveVerifier.Configuration().bufferBytes
        let maximumTagFileBytes = ArchiveVerifier.Configuration().maximumTagFileBytes
        async let scanned: ArchiveScan = BlockingExecutor.run {
            var scan = ArchiveScan(tarPath: name, maximumTagFileBytes: maximumTagFileBytes)
            do throws(PackingError) {
                // The handle owns the read end and closes it when the scan is done, which stops a GET still writing.
                let reader = try ArchiveReadHandle(
                    fd: readEnd,
                    path: name,
                    bufferBytes: bufferBytes,
                    hashesRawBytes: true
                )
                scan.runStreaming(reader: reader, sidecar: sidecar)
            } catch {
                scan.isTruncated = true
                scan.report(.unreadable, nil, "cannot read the object as a tar: \(error.message)")
            }
            if !scan.isTruncated { scan.checkContents() }
            return scan
        }
        let download: Result<(lock: S3ObjectLock, versionId: String?, size: Int64?), S3Error>
        do {
            download = .success(try await client.get(key, versionId: versionId, into: writeEnd))
        } catch {
            download = .failure(error)
        }
        close(writeEnd)
        var scan = await scanned
        var lock: S3ObjectLock?
        switch download {
        case .success(let object):
            lock = object.lock
            if object.lock.legalHold == nil, object.lock.mode != nil {
                lock?.legalHold = try? await client.objectLock(key, versionId: object.versionId).legalHold
            }
        case .failure(let error):
            if error.code == .noSuchKey {
                scan.problems = [
                    .init(
                        code: .archiveMissing,
                        message: Self.printable("the object does not exist (its sidecar may): \(error.message)")
                    )
                ]
            } else if error.code != .io || scan.problems.isEmpty {
                scan.problems.insert(
                    .init(code: .unreadable, message: Self.printable("cannot read the object: \(error.message)")),
                    at: 0
                )
            }
        }
        var verdict = ArchiveVerification(
            path: name,
            recordingID: scan.manifest?.recordingID,
            sha256: scan.tarSHA256,
            memberCount: scan.members.count,
            payloadBytes: scan.members.filter { $0.key.hasPrefix("data/") }.reduce(0) { $0 + $1.value.size },
            problems: scan.problems
        )
        verdict.objectLock = lock
        return (verdict, scan.manifest)
    }

    /// A problem text that holds what the store sent (its error message, an object key): capped and escaped like
    /// the local verifier's (``ArchiveScan``), so neither can forge an output line or reorder a terminal's text.
    static func printable(_ text: String) -> String {
        SafeText.printable(text, maximumBytes: ArchiveScan.maximumPrintedMessageBytes)
    }

    /// Verifies the object `relativePath` names when it ends in `.tar`, else every archive under that prefix (all
    /// when empty) with ``verifyAll(under:)``.
    ///
    /// - Throws: ``S3Error`` when the listing fails.
    public func verifyAll(at relativePath: String) async throws -> [ArchiveVerification] {
        if relativePath.hasSuffix(".tar") { return [await verify(relativePath: relativePath)] }
        return try await verifyAll(under: relativePath.isEmpty ? "" : relativePath + "/")
    }

    /// Verifies every archive under `relativePrefix` (all when empty), in key order; an orphan sidecar is reported
    /// as ``ArchiveVerification/Code/archiveMissing``.
    ///
    /// - Throws: ``S3Error`` when the listing fails.
    public func verifyAll(under relativePrefix: String = "") async throws(S3Error) -> [ArchiveVerification] {
        let base = location.key(relativePrefix)
        let listPrefix = location.prefix.isEmpty && relativePrefix.isEmpty ? "" : base
        let objects = try await client.list(prefix: listPrefix)
        let keys = Set(objects.map(\.key))
        var results: [ArchiveVerification] = []
        for object in objects {
            guard let relative = location.relativePath(ofKey: object.key) else { continue }
            if object.key.hasSuffix(".tar") {
                results.append(await verify(relativePath: relative))
            } else if object.key.hasSuffix(".tar.sha256"), !keys.contains(String(object.key.dropLast(7))) {
                let tar = String(relative.dropLast(".sha256".count))
                results.append(
                    ArchiveVerification(
                        path: describe(tar),
                        problems: [.init(code: .archiveMissing, message: "the sidecar exists but its archive does not")]
                    )
                )
            }
        }
        return results
    }
}
