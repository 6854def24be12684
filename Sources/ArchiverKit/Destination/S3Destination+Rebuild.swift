package import Foundation

extension S3Destination {
    /// Rebuilds the `state.sqlite` of an `s3://` archive, in its local state directory, from the objects under the
    /// prefix (product.md §10, §11.1), as ``ArchiveStore/rebuildCatalog(archiveRoot:verifier:now:)`` does for a
    /// local root: the new file is written aside and renamed into place, and refused while the current one opens
    /// cleanly.
    ///
    /// See ``catalogue(into:now:report:)`` for what is read and recorded. The state directory's `holds.jsonl` is
    /// replayed, merged by time with the bucket's hold records, then every archive whose object version S3 reports
    /// under legal hold gets a catalog hold unless one already covers it.
    ///
    /// - Parameters:
    ///   - stateRoot: The local state directory (`--state-dir`).
    ///   - now: The time stamped as each archive's `verifiedAt` and `storedAt`.
    /// - Returns: What was catalogued, rejected and replayed (paths relative to the prefix).
    /// - Throws: ``StoreError`` (``StoreError/Code/catalogIntact`` for an intact state file), ``S3Error`` when the
    ///   listing fails (then no state file is written).
    package func rebuildCatalog(stateRoot: URL, now: Date = Date()) async throws -> ArchiveStore.RebuildReport {
        try await ArchiveStore.rebuildCatalog(stateRoot: stateRoot, now: now) { store, report in
            try await catalogue(into: store, now: now, report: &report)
        }
    }

    /// Rebuilds the catalog of an `s3://` archive into another engine's store (a shared PostgreSQL database), whose
    /// catalog must be empty; then replays the state directory's `holds.jsonl`, if there is one, the bucket's hold
    /// records and the S3 legal holds, as ``rebuildCatalog(stateRoot:now:)`` does.
    ///
    /// - Parameters:
    ///   - store: The open store to fill.
    ///   - describing: How to name the store in messages (a URL without its password).
    ///   - stateRoot: The local state directory, for its `holds.jsonl`.
    ///   - now: The time stamped as each archive's `verifiedAt` and `storedAt`.
    /// - Returns: What was catalogued, rejected and replayed (paths relative to the prefix).
    /// - Throws: ``StoreError`` (``StoreError/Code/catalogIntact`` when the store already catalogues archives or
    ///   holds), ``S3Error`` when the listing fails.
    package func rebuildCatalog(
        into store: some StateStore,
        describing: String,
        stateRoot: URL,
        now: Date = Date()
    ) async throws -> ArchiveStore.RebuildReport {
        try await ArchiveStore.requireEmptyCatalog(store, describing: describing)
        var report = ArchiveStore.RebuildReport()
        try await catalogue(into: store, now: now, report: &report)
        try await ArchiveStore.restoreHolds(stateRoot: stateRoot, into: store, now: now, report: &report)
        return report
    }

    /// Lists the prefix, catalogues every valid archive in it, and reads the hold records under
    /// `.userplane-archiver/holds/` (see ``readHoldRecords(in:)``) for the replay that follows.
    ///
    /// Each `.tar` object's current version is found with `HEAD` (version id, ETag, size, lock), then that version is
    /// streamed through the verifier as `verify s3://...` does (sidecar, BagIt manifests, archive manifest; never to
    /// disk, memory flat whatever its size). A valid one is catalogued from its own `archive-manifest.json`, with
    /// what an archive run records for an S3 archive: bucket, key, version ids, ETag, lock mode and retain-until as
    /// S3 reports them. An archive that fails verification, holds an id with a control character, or is not at the
    /// key an archive run would store it under is reported in ``ArchiveStore/RebuildReport/rejected`` and left out;
    /// nothing in the bucket is ever modified.
    ///
    /// - Throws: ``S3Error`` when the listing fails, ``StoreError`` when the store cannot be written.
    func catalogue(into store: some StateStore, now: Date, report: inout ArchiveStore.RebuildReport) async throws {
        let prefix = location.prefix.isEmpty ? "" : location.prefix + "/"
        let listing = try await client.list(prefix: prefix)
        (report.holdRecordsFromS3, report.skippedHoldRecords) = try await readHoldRecords(in: listing)
        for object in listing where object.key.hasSuffix(".tar") {
            guard let relative = location.relativePath(ofKey: object.key) else { continue }
            let name = describe(relative)
            func reject(_ code: ArchiveVerification.Code, _ message: String) {
                report.rejected.append(ArchiveVerification(path: name, problems: [.init(code: code, message: message)]))
            }
            let head: (size: Int64, lock: S3ObjectLock, versionId: String?, etag: String?)?
            do {
                head = try await client.head(object.key)
            } catch {
                reject(.unreadable, "cannot read the object's metadata: \(error.message)")
                continue
            }
            guard let head else {
                reject(.archiveMissing, "the object was listed but is gone; re-run rebuild-catalog")
                continue
            }
            let (verdict, read) = await verifyKeepingManifest(relativePath: relative, versionId: head.versionId)
            guard verdict.isValid, let sha256 = verdict.sha256, let manifest = read else {
                report.rejected.append(verdict)
                continue
            }
            if let problem = ArchiveStore.uncataloguableIDProblem(in: manifest) {
                reject(.manifestInvalid, problem)
                continue
            }
            let expected = ArchiveStore.layoutPath(of: manifest)
            guard relative == expected else {
                reject(
                    .manifestInvalid,
                    "is a valid archive of recording \(SafeText.escaped(manifest.recordingID)), but an archive run "
                        + "stores that recording at \(SafeText.escaped(describe(expected))), so it was left out of "
                        + "the catalog; copy it there (or remove it once its retention allows) and re-run"
                )
                continue
            }
            let sidecarVersionId: String?
            do {
                sidecarVersionId = try await client.head(object.key + ".sha256")?.versionId
            } catch {
                reject(.unreadable, "cannot read the sidecar's metadata: \(error.message)")
                continue
            }
            let lock = verdict.objectLock ?? head.lock
            try await store.catalog.recordS3Object(
                S3ObjectRecord(
                    workspaceID: manifest.workspaceID,
                    recordingID: manifest.recordingID,
                    bucket: location.bucket,
                    key: object.key,
                    versionId: head.versionId,
                    etag: head.etag,
                    sidecarVersionId: sidecarVersionId,
                    lockMode: lock.mode?.rawValue,
                    retainUntil: lock.retainUntil,
                    storedAt: now
                )
            )
            try await store.catalog.recordArchived(
                ArchiveRecord(
                    workspaceID: manifest.workspaceID,
                    recordingID: manifest.recordingID,
                    relativePath: relative,
                    sizeBytes: Int(head.size),
                    sha256: sha256,
                    archivedAt: manifest.archivedAt,
                    verifiedAt: now,
                    recordingCreatedAt: manifest.createdAt,
                    manifestSummary: manifest.resources.mapValues(\.availability)
                )
            )
            report.catalogued.append(relative)
            if lock.legalHold == true || head.lock.legalHold == true {
                report.legalHoldsOnS3.append(
                    (name, ArchiveKey(workspaceID: manifest.workspaceID, recordingID: manifest.recordingID))
                )
            }
        }
    }
}
