package import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension ArchiveStore {
    /// What ``rebuildCatalog(archiveRoot:verifier:now:)`` found and did.
    package struct RebuildReport: Sendable {
        /// Archives verified and catalogued (relative paths).
        package var catalogued: [String] = []
        /// Archives that failed verification or have no readable manifest: not catalogued, left untouched.
        package var rejected: [ArchiveVerification] = []
        /// Hold log entries replayed.
        package var holdEventsReplayed = 0
        /// Holds active after the replay.
        package var activeHolds = 0
        /// Lines of the holds log that could not be read (a torn last line).
        package var unreadableHoldLines = 0
        /// Where the previous (empty or damaged) state file was moved, if there was one.
        package var previousStateMovedTo: String?
        /// Holds placed because S3 reported a legal hold on an archive no replayed hold covered.
        package var legalHoldsFromS3 = 0
        /// Archives catalogued from S3 whose object version has its legal hold on (`s3://` description, key).
        var legalHoldsOnS3: [(object: String, key: ArchiveKey)] = []
        /// Hold records found in the bucket (`PREFIX/.userplane-archiver/holds/`), in time order, to replay.
        var holdRecordsFromS3: [HoldsLog.Entry] = []
        /// Hold records of the bucket replayed.
        package var holdRecordsReplayed = 0
        /// Hold records of the bucket, and lines of `holds.jsonl`, that were read but not replayed (larger than a
        /// record, not one, or ``HoldsLog/Entry/replayProblem``), each described with its key or file escaped.
        package var skippedHoldRecords: [String] = []
        /// The most skipped records described one by one (from the bucket, and again from `holds.jsonl`); one more
        /// line counts the rest, so a bucket stuffed with junk cannot flood the output.
        package static let maximumSkippedDescriptions = 100
    }

    /// Rebuilds `state.sqlite` from the archives' own manifests and the holds log, without touching the archives.
    ///
    /// Every `*.tar` under the root (outside `.userplane-archiver/`) is verified like `verify` does (sidecar,
    /// BagIt manifests, archive manifest); each valid one becomes a catalog entry stamped verified `now`,
    /// from its `archive-manifest.json` (workspace, recording, createdAt, archivedAt) and sidecar digest. An
    /// archive that fails is reported and left out (and on disk as it is), and so is a valid one found in another
    /// workspace's folder or under another recording's name than its manifest says
    /// (``ArchiveVerification/Code/misplaced``), or one of a recording another archive is catalogued for
    /// (``ArchiveVerification/Code/duplicate``, see `resolvingDuplicates`). Then `holds.jsonl` is replayed in
    /// order. The new database is written to `state.sqlite.rebuild.partial`, closed, and renamed into place;
    /// an existing empty or damaged state file (and its `-wal`/`-shm`) is first moved to
    /// `state.sqlite.unreadable-<time>`. The job queue starts empty: the next `archive` run lists the
    /// workspace again and skips every catalogued recording.
    ///
    /// The caller must hold the root's ``ArchiveRootLock``. Blocking file I/O and hashing: call off the
    /// cooperative pool where that matters.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/catalogIntact`` when the current state file opens cleanly
    ///   (nothing to rebuild), or another ``StoreError`` when the new file cannot be written.
    package static func rebuildCatalog(
        archiveRoot: URL,
        verifier: ArchiveVerifier = .init(),
        now: Date = Date()
    ) async throws -> RebuildReport {
        try await rebuildCatalog(stateRoot: archiveRoot, now: now) { store, report in
            try await fill(store, archiveRoot: archiveRoot, verifier: verifier, now: now, report: &report)
        }
    }

    /// Writes a new `state.sqlite` under `stateRoot` aside, lets `filling` catalogue the archives into it, replays
    /// `holds.jsonl`, and renames it into place (see ``rebuildCatalog(archiveRoot:verifier:now:)``).
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/catalogIntact`` when the current state file opens cleanly,
    ///   or whatever `filling` throws (then no state file is written).
    static func rebuildCatalog(
        stateRoot archiveRoot: URL,
        now: Date,
        filling: (ArchiveStore, inout RebuildReport) async throws -> Void
    ) async throws -> RebuildReport {
        try prepareStateDirectory(archiveRoot: archiveRoot)
        let path = databaseURL(archiveRoot: archiveRoot).path
        if isReadableCatalog(path) {
            throw StoreError(
                code: .catalogIntact,
                message: "\(path) opens cleanly; rebuild-catalog only replaces a missing, empty or damaged "
                    + "catalog (run `verify` to check the archives instead)"
            )
        }
        let partial = path + ".rebuild.partial"
        for suffix in ["", "-wal", "-shm"] { unlink(partial + suffix) }
        try createPrivately(partial)
        var report = RebuildReport()
        do {
            let store = try ArchiveStore(path: partial)
            try await filling(store, &report)
            try await restoreHolds(stateRoot: archiveRoot, into: store, now: now, report: &report)
            try store.close()
        } catch {
            for suffix in ["", "-wal", "-shm"] { unlink(partial + suffix) }
            throw error
        }
        for suffix in ["-wal", "-shm"] { unlink(partial + suffix) }
        report.previousStateMovedTo = try moveAside(path, now: now)
        do {
            try DurableFile.commit(partial, to: path)
        } catch {
            throw StoreError(code: .io, message: "cannot rename \(partial) to \(path); rename it by hand", cause: error)
        }
        return report
    }

    /// Verifies every archive under the local `archiveRoot` and catalogues each valid one into `store`.
    static func fill(
        _ store: some StateStore,
        archiveRoot: URL,
        verifier: ArchiveVerifier,
        now: Date,
        report: inout RebuildReport
    ) async throws {
        let rootPath = archiveRoot.standardizedFileURL.path
        let walk = ArchiveVerifier.archiveFiles(under: archiveRoot)
        var found: [(record: ArchiveRecord, path: String)] = []
        for file in walk.unfollowed {
            // A link or special file is never followed: it stays out of the catalog and is reported.
            let problem = ArchiveVerification.Problem(
                code: .notChecked,
                message: "is a symbolic link or not a regular file, so nothing in or behind it was catalogued; "
                    + "put the real file or folder here and re-run"
            )
            report.rejected.append(ArchiveVerification(path: file, problems: [problem]))
        }
        for file in walk.files where file.hasSuffix(".tar") {
            // Read once, in its folder opened from the root without following links: the manifest catalogued is
            // the one verified, even if a folder is swapped for a link meanwhile.
            let relative = file.hasPrefix(rootPath + "/") ? String(file.dropFirst(rootPath.count + 1)) : file
            let tar: RootedFile
            do throws(PrivateFile.UnsafePath) {
                tar = try RootedFile(relativePath: relative, under: URL(fileURLWithPath: rootPath))
            } catch {
                report.rejected.append(
                    ArchiveVerification(
                        path: file,
                        problems: [.init(code: .notChecked, message: SafeText.printable(error.message))]
                    )
                )
                continue
            }
            let (verdict, read) = verifier.verifyKeepingManifest(tar)
            guard verdict.isValid, let sha256 = verdict.sha256, let manifest = read else {
                report.rejected.append(verdict)
                continue
            }
            // A valid bag can be crafted by anyone; ids no archive run would ever store (a control character: NUL
            // cuts SQLite text, ESC rewrites the terminal that prints them) keep it out of the catalog.
            if let problem = ArchiverConfiguration.Workspace.controlCharacterProblem(in: manifest.recordingID)
                .map({ "its recording id \($0)" })
                ?? ArchiverConfiguration.Workspace.controlCharacterProblem(in: manifest.workspaceID)
                .map({ "its workspace id \($0)" })
            {
                let message =
                    "archive-manifest.json is valid but \(problem): no archive run stores such an id, so this "
                    + "archive was not written by this tool as it is; it was left out of the catalog"
                report.rejected.append(
                    ArchiveVerification(path: file, problems: [.init(code: .manifestInvalid, message: message)])
                )
                continue
            }
            var status = stat()
            let size = fstatat(tar.directory, tar.name, &status, AT_SYMLINK_NOFOLLOW) == 0 ? Int(status.st_size) : 0
            let record = ArchiveRecord(
                workspaceID: manifest.workspaceID,
                recordingID: manifest.recordingID,
                relativePath: relative,
                sizeBytes: size,
                sha256: sha256,
                archivedAt: manifest.archivedAt,
                verifiedAt: now,
                recordingCreatedAt: manifest.createdAt,
                manifestSummary: manifest.resources.mapValues(\.availability)
            )
            // Its folder and name must agree with its manifest; of two archives of one recording, one is kept.
            if let problem = placementProblem(of: record) {
                report.rejected.append(
                    ArchiveVerification(
                        path: file,
                        recordingID: manifest.recordingID,
                        sha256: sha256,
                        problems: [.init(code: .misplaced, message: problem)]
                    )
                )
                continue
            }
            found.append((record, file))
        }
        let (kept, duplicates) = resolvingDuplicates(found)
        report.rejected += duplicates
        for (record, _) in kept {
            try await store.catalog.recordArchived(record)
            report.catalogued.append(record.relativePath)
        }
    }

    /// Replays the holds log of `stateRoot`'s state directory into `store`, in order, merged by time with the hold
    /// records read from the bucket (an event in both is replayed once); then places a hold on every archive S3
    /// reported under legal hold that no active hold covers (so a rebuilt catalog never lets `prune` or
    /// `delete-remote` touch it); then counts the active holds.
    static func restoreHolds(
        stateRoot: URL,
        into store: some StateStore,
        now: Date,
        report: inout RebuildReport
    ) async throws {
        let log = HoldsLog(databasePath: databaseURL(archiveRoot: stateRoot).path)
        let (entries, unreadable) = try log.entries()
        report.unreadableHoldLines = unreadable
        var replayable: [HoldsLog.Entry] = []
        var skipped = 0
        for entry in entries {
            guard let problem = entry.replayProblem else {
                replayable.append(entry)
                continue
            }
            skipped += 1
            if skipped <= RebuildReport.maximumSkippedDescriptions {
                report.skippedHoldRecords.append(
                    "a line of \(SafeText.escaped(log.path)) \(problem); it was not replayed"
                )
            }
        }
        if skipped > RebuildReport.maximumSkippedDescriptions {
            report.skippedHoldRecords.append(
                "and \(skipped - RebuildReport.maximumSkippedDescriptions) more line(s) of \(SafeText.escaped(log.path)) "
                    + "skipped (only the first ones are listed)"
            )
        }
        for (entry, fromBucket) in merge(log: replayable, bucket: report.holdRecordsFromS3) {
            try await store.catalog.replay(entry)
            report.holdEventsReplayed += 1
            if fromBucket { report.holdRecordsReplayed += 1 }
        }
        for (object, key) in report.legalHoldsOnS3 {
            if try await store.catalog.isHeld(recordingID: key.recordingID, workspaceID: key.workspaceID) { continue }
            try await store.catalog.addHold(
                recordingID: key.recordingID,
                workspaceID: key.workspaceID,
                reason: "legal hold found on \(object) by rebuild-catalog",
                operatorName: "rebuild-catalog",
                now: now
            )
            report.legalHoldsFromS3 += 1
        }
        report.activeHolds = try await store.catalog.holds().count
    }

    /// The log's entries in their own order (the order the appends took place in, serialised per recording by the
    /// catalog's lock) merged with the bucket's records (already in time order) by time, the log's entry first on a
    /// tie; a bucket record equal to a log entry is left out, so no event counts twice.
    static func merge(
        log: [HoldsLog.Entry],
        bucket: [HoldsLog.Entry]
    ) -> [(entry: HoldsLog.Entry, fromBucket: Bool)] {
        let inLog = Set(log)
        let records = bucket.filter { !inLog.contains($0) }
        var merged: [(entry: HoldsLog.Entry, fromBucket: Bool)] = []
        merged.reserveCapacity(log.count + records.count)
        var next = records.startIndex
        for entry in log {
            while next < records.endIndex, records[next].at < entry.at {
                merged.append((records[next], true))
                next += 1
            }
            merged.append((entry, false))
        }
        merged += records[next...].map { ($0, true) }
        return merged
    }

    /// Whether `path` is a non-empty database that opens and passes the quick check.
    private static func isReadableCatalog(_ path: String) -> Bool {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size > 0 else { return false }
        guard let store = try? ArchiveStore(path: path) else { return false }
        try? store.close()
        return true
    }

    /// Moves an unreadable state file and its `-wal`/`-shm` aside; returns the new name of the main file.
    private static func moveAside(_ path: String, now: Date) throws -> String? {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            for suffix in ["-wal", "-shm"] { unlink(path + suffix) }
            return nil
        }
        let stamp = Int(now.timeIntervalSince1970)
        let target = "\(path).unreadable-\(stamp)"
        for suffix in ["", "-wal", "-shm"] where lstat(path + suffix, &status) == 0 {
            guard rename(path + suffix, target + suffix) == 0 else {
                throw StoreError(
                    code: .io,
                    message: "cannot move \(path + suffix) aside to \(target + suffix): "
                        + "\(String(cString: strerror(errno))); move it by hand and re-run rebuild-catalog"
                )
            }
        }
        return target
    }
}
