public import Foundation

/// Archives as objects in an S3-compatible bucket: `PREFIX/<ws>/<YYYY>/<MM>/<id>.tar` and `.tar.sha256`, written
/// once with Object Lock when asked (product.md §11.1).
///
/// The tar is packed in local staging (``packingURL(relativePath:)``, under the state directory), uploaded, and
/// then removed locally. A key that already holds an object is never written again: when an earlier run was killed
/// after its upload, the object already there is verified by streaming it and adopted when it is a valid archive
/// of the same recording, so a re-run writes no new version.
public struct S3Destination: ArchiveDestination {
    /// Object Lock settings for new objects.
    public struct Lock: Sendable, Hashable {
        /// The retention mode.
        public var mode: S3ObjectLockMode
        /// How long after the upload the objects stay locked.
        public var retainFor: Duration

        /// Creates lock settings.
        public init(mode: S3ObjectLockMode, retainFor: Duration) {
            self.mode = mode
            self.retainFor = retainFor
        }
    }

    /// The client (one bucket).
    public var client: S3Client
    /// Bucket and prefix.
    public var location: S3Location
    /// Object Lock for new objects, or `nil` to write without.
    public var lock: Lock?
    /// The local directory the tars are packed in before their upload; the queue stages the downloads below it
    /// too (see `WorkerQueue.Configuration.stagingBase`), on the file system the tars are packed on.
    public var stagingDirectory: URL

    /// Creates a destination.
    ///
    /// - Parameters:
    ///   - client: A client for `location.bucket`.
    ///   - location: Bucket and prefix.
    ///   - lock: Object Lock for new objects.
    ///   - stagingDirectory: Where tars are packed before upload and downloads are staged (`--staging`; default a
    ///     directory under the state directory).
    public init(client: S3Client, location: S3Location, lock: Lock?, stagingDirectory: URL) {
        self.client = client
        self.location = location
        self.lock = lock
        self.stagingDirectory = stagingDirectory
    }

    /// ``stagingDirectory``.
    public var packingRoot: URL { stagingDirectory }

    /// `<staging>/<relativePath>`.
    public func packingURL(relativePath: String) -> URL {
        stagingDirectory.appendingPathComponent(relativePath)
    }

    /// `s3://bucket/prefix/relativePath`.
    public func describe(_ relativePath: String) -> String {
        "s3://\(location.bucket)/\(location.key(relativePath))"
    }

    /// Confirms credentials and bucket, and Object Lock when ``lock`` is set.
    ///
    /// - Throws: ``S3Error``.
    public func preflight() async throws(S3Error) {
        try await client.preflight(requiringObjectLock: lock != nil)
    }

    /// Uploads the tar, then its sidecar, each with `If-None-Match: *` and the lock headers; removes the local
    /// copies afterwards.
    ///
    /// - Throws: ``S3Error``; `.alreadyExists` only when the object already there is not a valid archive of this
    ///   recording.
    public func putOnce(_ packed: PackedArchive, relativePath: String) async throws -> StoredArchive {
        let key = location.key(relativePath)
        let objectLock = lock.map {
            S3ObjectLock(mode: $0.mode, retainUntil: Date().addingTimeInterval(Double($0.retainFor.components.seconds)))
        }
        var stored: StoredArchive
        let tar: Result<S3StoredObject, S3Error> = await Self.attempt { () async throws(S3Error) -> S3StoredObject in
            try await client.putOnce(
                key,
                file: packed.tarURL.path,
                size: packed.size,
                sha256: packed.sha256,
                contentType: "application/x-tar",
                lock: objectLock
            )
        }
        switch tar {
        case .success(let object):
            stored = StoredArchive(relativePath: relativePath, versionId: object.versionId, etag: object.etag)
            stored.lock = objectLock
        case .failure(let error) where error.code == .alreadyExists:
            stored = try await adopt(relativePath: relativePath, recordingID: packed.manifest.recordingID)
        case .failure(let error):
            throw error
        }
        if !stored.wasAdopted {
            let line = Array("\(packed.sha256)  \((relativePath as NSString).lastPathComponent)\n".utf8)
            let sidecar: Result<S3StoredObject, S3Error> = await Self.attempt {
                () async throws(S3Error) -> S3StoredObject in
                try await client.putOnce(
                    key + ".sha256",
                    bytes: line,
                    contentType: "text/plain; charset=utf-8",
                    lock: objectLock
                )
            }
            switch sidecar {
            case .success(let object):
                stored.sidecarVersionId = object.versionId
            case .failure(let error) where error.code == .alreadyExists:
                // A sidecar left by an interrupted run for the tar just stored: it must name the same digest.
                guard try await client.getSmall(key + ".sha256") == line else { throw error }
                stored.sidecarVersionId = try await client.head(key + ".sha256")?.versionId
            case .failure(let error):
                throw error
            }
        }
        unlink(packed.tarURL.path)
        unlink(packed.sidecarURL.path)
        stored.bucket = location.bucket
        stored.key = key
        return stored
    }

    /// Runs `body`, capturing its typed error.
    static func attempt<Value: Sendable>(
        _ body: () async throws(S3Error) -> Value
    ) async -> Result<Value, S3Error> {
        do {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }

    /// Takes over an archive an interrupted run stored: it must verify (a missing sidecar is written now) and hold
    /// the same recording.
    private func adopt(relativePath: String, recordingID: String) async throws -> StoredArchive {
        let key = location.key(relativePath)
        let verdict = await verify(relativePath: relativePath)
        let onlySidecarMissing = !verdict.problems.isEmpty && verdict.problems.allSatisfy { $0.code == .sidecarMissing }
        guard verdict.isValid || onlySidecarMissing, verdict.recordingID == recordingID, let sha256 = verdict.sha256
        else {
            let problem = verdict.problems.first.map { ": \($0)" } ?? ""
            throw S3Error(
                code: .alreadyExists,
                message: "\(describe(relativePath)) already exists and is not a valid archive of recording "
                    + "\(SafeText.escaped(recordingID))\(problem); it is never overwritten: inspect it (verify "
                    + "\(describe(relativePath))) and remove it once its retention allows"
            )
        }
        let head = try await client.head(key)
        var stored = StoredArchive(relativePath: relativePath, versionId: head?.versionId, lock: head?.lock)
        stored.etag = head?.etag  // the catalog records the ETag of an adopted object like that of an uploaded one
        stored.wasAdopted = true
        if onlySidecarMissing {
            let line = Array("\(sha256)  \((relativePath as NSString).lastPathComponent)\n".utf8)
            let sidecar = try await client.putOnce(
                key + ".sha256",
                bytes: line,
                contentType: "text/plain; charset=utf-8",
                lock: head?.lock.mode == nil ? nil : head?.lock
            )
            stored.sidecarVersionId = sidecar.versionId
        } else {
            stored.sidecarVersionId = try await client.head(key + ".sha256")?.versionId
        }
        return stored
    }

    /// Every `.tar` and orphan sidecar under the prefix, relative to it (one listing).
    public func inventory() async throws -> ArchiveInventory {
        let prefix = location.prefix.isEmpty ? "" : location.prefix + "/"
        let keys = try await client.list(prefix: prefix).compactMap { location.relativePath(ofKey: $0.key) }
        let tars = Set(keys.filter { $0.hasSuffix(".tar") })
        let orphans = keys.filter { $0.hasSuffix(".tar.sha256") && !tars.contains(String($0.dropLast(7))) }
        return ArchiveInventory(files: (Array(tars) + orphans).sorted())
    }

    /// The paths the listing holds as `.tar` objects.
    public func present(_ relativePaths: [String]) async throws -> Set<String> {
        Set(try await list()).intersection(relativePaths)
    }

    /// Deletes the recorded versions of the tar and the sidecar.
    ///
    /// - Throws: ``S3Error/Code/stillRetained`` while Object Lock protects them.
    public func delete(_ stored: StoredArchive) async throws {
        let key = location.key(stored.relativePath)
        try await client.delete(key, versionId: stored.versionId)
        try await client.delete(key + ".sha256", versionId: stored.sidecarVersionId)
    }

    /// Sets or clears the S3 legal hold on the recorded versions of the tar and the sidecar.
    public func setLegalHold(_ stored: StoredArchive, on: Bool) async throws {
        let key = location.key(stored.relativePath)
        try await client.setLegalHold(key, versionId: stored.versionId, on: on)
        try await client.setLegalHold(key + ".sha256", versionId: stored.sidecarVersionId, on: on)
    }
}
