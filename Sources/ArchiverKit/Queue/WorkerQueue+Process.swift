import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension WorkerQueue {
    /// Confirms, downloads, packs (or writes) and records one recording.
    ///
    /// Resources already staged by an earlier attempt (even of a process that was killed) are
    /// reused after a size check, so completed resources are never downloaded twice.
    func process(_ job: Job, lease: JobLease, logger: Logger) async throws -> Outcome {
        let workspace = configuration.workspaceID
        logger.debug("job claimed", metadata: ["job.state": "\(job.state)"])

        // 1. Confirm the recording and that it is final.
        let detail = try await api.recording(workspace: workspace, id: job.recordingID)
        guard detail.isFinal else {
            let reason =
                "recording status is '\(detail.status?.rawValue ?? "unknown")'; it stays queued for the next run"
            try await store.jobs.apply(
                .deferred(reason: reason),
                to: lease,
                configuration: configuration.jobRetryRules,
                now: now()
            )
            return .deferred(reason: reason)
        }
        try await store.jobs.apply(
            .listingConfirmed,
            to: lease,
            configuration: configuration.jobRetryRules,
            now: now()
        )
        try await store.jobs.apply(.downloadStarted, to: lease, configuration: configuration.jobRetryRules, now: now())
        try prepareArchiveFolder(for: job, createdAt: detail.createdAt ?? job.recordingCreatedAt)  // before downloading

        // 2. Resources, into staging (archive) or the output directory (download).
        let directory =
            configuration.kind == .download
            ? configuration.downloadDirectory(recordingID: job.recordingID)
            : configuration.stagingDirectory(jobID: job.id)
        try PrivateFile.makeDirectories(
            directory,
            under: configuration.kind == .download ? configuration.root : configuration.stagingBase
        )
        let recordingJSON = directory.appendingPathComponent("recording.json")
        if configuration.kind == .download {
            try writeOutputFile(detail.rawData, to: recordingJSON)
        } else {
            try DurableFile.writeAtomically(detail.rawData, to: recordingJSON.path)
        }
        var staged: [StagedResource] = []
        let known = Dictionary(
            try await store.jobs.resources(ofJob: job.id).map { ($0.kind, $0) },
            uniquingKeysWith: { _, last in last }
        )
        let createdAt = detail.createdAt ?? job.recordingCreatedAt
        for kind in configuration.resourceKinds {
            try Task.checkCancellation()
            if stopRequested.load(ordering: .relaxed) { throw CancellationError() }
            if let reused = reusableResource(known[kind], in: directory, job: job, createdAt: createdAt) {
                staged.append(reused)
                continue
            }
            let resource = try await stageResource(
                kind,
                job: job,
                lease: lease,
                into: directory,
                createdAt: createdAt,
                logger: logger
            )
            staged.append(resource)
        }
        try await store.jobs.apply(
            .resourcesDownloaded,
            to: lease,
            configuration: configuration.jobRetryRules,
            now: now()
        )

        // 3. Finish: plain files are done; archives are packed and catalogued atomically.
        if configuration.kind == .download {
            try await store.jobs.apply(.packed, to: lease, configuration: configuration.jobRetryRules, now: now())
            let bytes = staged.reduce(Int64(detail.rawData.count)) { $0 + $1.size }
            return .archived(path: directory.path, bytes: bytes, sha256: "")
        }
        let recording = StagedRecording(
            workspaceID: workspace,
            recordingID: job.recordingID,
            createdAt: createdAt,
            durationMs: detail.durationMs,
            runID: configuration.runID,
            archivedAt: now(),
            recordingJSON: detail.rawData,
            resources: staged
        )
        let (relativePath, destination, tarURL) = try prepareArchiveFolder(for: job, createdAt: createdAt)
        let packager = self.packager
        let packed: PackedArchive
        switch await BlockingExecutor.run({
            Result { () throws(PackingError) in try packager.pack(recording, to: tarURL) }
        }) {
        case .success(let archive):
            packed = archive
        case .failure(let error):
            if error.code == .digestMismatch || error.code == .sizeMismatch {
                // A staged file no longer holds the bytes hashed while downloading (disk corruption, or something
                // else wrote to it). Reusing it could never succeed, so the staging goes: the retry downloads
                // every resource again instead of failing on the same bad copy until it gives up.
                await removeStaging(job)
            }
            throw error
        }
        let stored = try await destination.putOnce(packed, relativePath: relativePath)
        if let bucket = stored.bucket, let key = stored.key {
            try await store.catalog.recordS3Object(
                S3ObjectRecord(
                    workspaceID: workspace,
                    recordingID: job.recordingID,
                    bucket: bucket,
                    key: key,
                    versionId: stored.versionId,
                    etag: stored.etag,
                    sidecarVersionId: stored.sidecarVersionId,
                    lockMode: stored.lock?.mode?.rawValue,
                    retainUntil: stored.lock?.retainUntil,
                    storedAt: Date()
                )
            )
        }
        try await store.catalog.recordArchived(
            ArchiveRecord(
                workspaceID: workspace,
                recordingID: job.recordingID,
                relativePath: relativePath,
                sizeBytes: Int(packed.size),
                sha256: packed.sha256,
                archivedAt: recording.archivedAt,
                verifiedAt: now(),
                recordingCreatedAt: createdAt,
                manifestSummary: Self.manifestSummary(staged)
            ),
            completing: lease,
            now: now()
        )
        // Not awaited: the run waits for it at its end (see ``StagingRemovals``).
        stagingRemovals.start { [self] in removeStagingNow(job) }
        logger.debug("recording archived", metadata: ["archive.path": "\(relativePath)"])
        return .archived(path: relativePath, bytes: packed.size, sha256: packed.sha256)
    }

    /// The front a download of `kind` reserves for the tar headers (see ``PackingFront``): only the video of an
    /// archive, the first payload in tar order.
    private func packingFront(
        _ kind: String,
        fileName: String,
        job: Job,
        createdAt: Date
    ) -> PackingFront? {
        guard configuration.kind == .archive, kind == "video" else { return nil }
        return try? PackingFront(recordingID: job.recordingID, fileName: fileName, createdAt: createdAt)
    }

    /// A resource finished by an earlier attempt, if its staged file is still intact in size.
    ///
    /// A staged video may hold the reserved front before its body (then it is `front + size` bytes, or more when a
    /// pack that appended to it was interrupted: packing cuts it back) or be a plain file of `size` bytes.
    private func reusableResource(
        _ record: JobResource?,
        in directory: URL,
        job: Job,
        createdAt: Date
    ) -> StagedResource? {
        guard let record else { return nil }
        let provenance = record.provenance
        guard record.availability == .archived else {
            return StagedResource(
                kind: record.kind.archiveBaseName,
                availability: record.availability,
                apiMessage: record.apiMessage,
                provenance: provenance ?? ArchiveProvenance()
            )
        }
        guard let name = record.stagedFileName, let size = record.sizeBytes, let sha256 = record.sha256,
            let sha512 = record.sha512
        else { return nil }
        let file = directory.appendingPathComponent(name)
        guard PrivateFile.isRegularFile(file.path) else { return nil }
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        guard let onDisk = (attributes?[.size] as? NSNumber)?.intValue else { return nil }
        var dataOffset = 0
        if onDisk != size {
            let front = packingFront(record.kind.archiveBaseName, fileName: name, job: job, createdAt: createdAt)
            guard let reserved = front?.reservedBytes, onDisk >= reserved + size else { return nil }
            dataOffset = reserved
        }
        var resource = StagedResource(
            kind: record.kind.archiveBaseName,
            stagedFile: file,
            mediaType: record.mediaType,
            size: Int64(size),
            sha256: sha256,
            sha512: sha512,
            fileName: name,
            provenance: provenance ?? ArchiveProvenance()
        )
        resource.dataOffset = Int64(dataOffset)
        return resource
    }

    /// Resolves one resource just before downloading it, and downloads it.
    private func stageResource(
        _ kind: ResourceKind,
        job: Job,
        lease: JobLease,
        into directory: URL,
        createdAt: Date,
        logger: Logger
    ) async throws -> StagedResource {
        let workspace = configuration.workspaceID
        let resolvedAt = now()
        let resource = try await api.resource(workspace: workspace, recording: job.recordingID, kind: kind)
        guard let url = resource.url else {
            let message = resource.message.map { SafeText.capped($0) }
            let availability: StagedResource.Availability =
                resource.availability == .notCaptured ? .notCaptured : .unavailable
            let record = JobResource(
                kind: kind,
                availability: availability,
                mediaType: resource.type,
                apiMessage: message,
                updatedAt: now()
            )
            try await store.jobs.recordResource(record, for: lease)
            return StagedResource(
                kind: kind.archiveBaseName,
                availability: availability,
                apiMessage: message,
                mediaType: resource.type
            )
        }
        let fileName = ArchiveLayout.fileName(kind: kind.archiveBaseName, mediaType: resource.type)
        try checkFreeSpace(for: resource.size, at: directory)
        let final = directory.appendingPathComponent(fileName)
        // `download`: a file of that name already in the output directory (not from this job) is compared,
        // never silently replaced: the new copy goes to `<name>.incoming` first.
        let existing = configuration.kind == .download && Self.fileType(final) != nil
        if existing, Self.fileType(final) != S_IFREG {
            throw Self.outputConflict(final, reason: "is not a regular file")
        }
        let destination = existing ? directory.appendingPathComponent(fileName + ".incoming") : final
        let first = Mutex<ResolvedSource?>(
            ResolvedSource(url: url, expectedSize: resource.size, mediaType: resource.type)
        )
        let api = self.api
        let front = packingFront(kind.archiveBaseName, fileName: fileName, job: job, createdAt: createdAt)
        // Bytes that travelled in this run, counted also when the download throws: a partial an earlier attempt
        // of this run left and a later attempt resumes was fetched in this run too (one left by an earlier run
        // was not, and is not counted).
        let received = ReceivedBytes()
        let result: DownloadResult
        do {
            result = try await downloader.download(
                to: destination,
                expectedSize: resource.size,
                front: front,
                received: received,
                resolveURL: {
                    if let initial = first.withLock({ value -> ResolvedSource? in
                        defer { value = nil }
                        return value
                    }) {
                        return initial
                    }
                    let fresh = try await api.resource(workspace: workspace, recording: job.recordingID, kind: kind)
                    guard let url = fresh.url else {
                        throw TransferError(
                            code: .httpStatus,
                            message:
                                "the \(kind) of this recording is no longer available: \(fresh.message ?? "no URL")",
                            httpStatus: 404
                        )
                    }
                    return ResolvedSource(url: url, expectedSize: fresh.size, mediaType: fresh.type)
                },
                logger: logger
            )
        } catch {
            countDownloaded(received.value, recordingID: job.recordingID)
            throw error
        }
        countDownloaded(received.value, recordingID: job.recordingID)
        var provenance = result.provenance
        provenance.resolvedAt = provenance.resolvedAt ?? resolvedAt
        if existing {
            try settleIncoming(destination, over: final, sha256: result.sha256)
        }
        let mediaType = resource.type ?? result.contentType
        try await store.jobs.recordResource(
            JobResource(
                kind: kind,
                availability: .archived,
                stagedFileName: fileName,
                sizeBytes: result.byteCount,
                sha256: result.sha256,
                sha512: result.sha512,
                provenance: provenance,
                mediaType: mediaType,
                updatedAt: now()
            ),
            for: lease
        )
        var staged = StagedResource(
            kind: kind.archiveBaseName,
            stagedFile: final,
            mediaType: mediaType,
            size: Int64(result.byteCount),
            sha256: result.sha256,
            sha512: result.sha512,
            fileName: fileName,
            provenance: provenance
        )
        staged.contentSeal = result.contentSeal  // lets packing skip a second SHA-256 of these bytes
        staged.tarMidstate = result.tarMidstate  // and lets in-place packing skip hashing them for the tar
        staged.dataOffset = Int64(front?.reservedBytes ?? 0)
        return staged
    }

    /// Writes `bytes` to `url` in the output directory of `download`: an identical file is kept, a
    /// different one is replaced only with ``Configuration/overwritesExisting``.
    private func writeOutputFile(_ bytes: [UInt8], to url: URL) throws {
        if let type = Self.fileType(url) {
            guard type == S_IFREG else { throw Self.outputConflict(url, reason: "is not a regular file") }
            let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)??.intValue
            if size == bytes.count, let current = FileManager.default.contents(atPath: url.path),
                Array(current) == bytes
            {
                return
            }
            guard configuration.overwritesExisting else {
                throw Self.outputConflict(url, reason: "already exists with different content")
            }
        }
        try DurableFile.writeAtomically(bytes, to: url.path)
    }

    /// Keeps the existing `final` when `incoming` has the same SHA-256 (and removes `incoming`); else
    /// renames `incoming` over it with ``Configuration/overwritesExisting``, or fails the recording.
    private func settleIncoming(_ incoming: URL, over final: URL, sha256: String) throws {
        let current = try FileDigest.compute(final)
        if current.sha256 == sha256 {
            try? FileManager.default.removeItem(at: incoming)
            return
        }
        guard configuration.overwritesExisting else {
            try? FileManager.default.removeItem(at: incoming)
            throw Self.outputConflict(final, reason: "already exists with different content (SHA-256 differs)")
        }
        guard rename(incoming.path, final.path) == 0 else {
            throw PackingError(code: .io, message: "cannot replace \(final.path): \(String(cString: strerror(errno)))")
        }
    }

    /// The file type bits of `url` (`lstat`: a symlink is reported as one), or `nil` when absent.
    static func fileType(_ url: URL) -> mode_t? {
        var info = stat()
        return lstat(url.path, &info) == 0 ? info.st_mode & S_IFMT : nil
    }

    static func outputConflict(_ url: URL, reason: String) -> PackingError {
        PackingError(
            code: .invalidInput,
            message: "\(url.path) \(reason); remove or move it, or pass --overwrite to replace it"
        )
    }

    /// Adds blob bytes fetched for `recordingID` to the report and tells the observer.
    private func countDownloaded(_ bytes: Int, recordingID: String) {
        var event = ArchiveEvent(kind: .bytes, runID: configuration.runID, recordingID: recordingID)
        event.bytes = Int64(bytes)
        onEvent(event)
        state.withLock { $0.report.bytesDownloaded += Int64(bytes) }
    }

    /// Refuses to start a download that would leave less than the reserve free (staging + tar need 2×), measured
    /// where the bytes go: the staging directory (on the file system the tar is packed on) or the output directory.
    private func checkFreeSpace(for size: Int?, at directory: URL) throws {
        guard let available = DiskSpace.availableBytes(at: directory) else { return }
        // The size comes from the server: saturate instead of trapping on an absurd value.
        let (copies, copiesOverflow) = Int64(max(size ?? 0, 0))
            .multipliedReportingOverflow(by: configuration.kind == .archive ? 2 : 1)
        let (sum, sumOverflow) = copies.addingReportingOverflow(configuration.reservedFreeBytes)
        let needed = copiesOverflow || sumOverflow ? Int64.max : sum
        guard available >= needed else {
            throw QueueError(
                code: .diskFull,
                message:
                    "not enough free space in \(directory.path): \(available) bytes free, \(needed) needed "
                    + "for the next resource; free some space and re-run (finished archives are intact)"
            )
        }
    }

    static func manifestSummary(_ resources: [StagedResource]) -> [String: StagedResource.Availability] {
        Dictionary(resources.map { ($0.kind, $0.availability) }, uniquingKeysWith: { _, last in last })
    }
}

extension JSONEncoder {
    /// Sorted keys, ISO-8601 dates: the encoding of the archiver's own JSON state.
    static var archiver: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = UTCTime.jsonEncoding
        return encoder
    }
}

extension JSONDecoder {
    /// ISO-8601 dates, matching ``Foundation/JSONEncoder/archiver``.
    static var archiver: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = UTCTime.jsonDecoding
        return decoder
    }
}
