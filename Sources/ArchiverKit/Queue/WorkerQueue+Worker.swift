import Foundation
import Logging
import ServiceLifecycle
import Synchronization

extension WorkerQueue {
    /// How one job ended in this run.
    enum Outcome: Sendable {
        case archived(path: String, bytes: Int64, sha256: String)
        case deferred(reason: String)
        case gone(reason: String)
        case failed(reason: String, attempts: Int, willRetry: Bool)
        case released
    }

    /// What a worker does next under `--max-recordings`.
    private enum ClaimDecision {
        /// Reserve a claim and ask the queue for a job.
        case claim
        /// The limit is reserved, but a claim is still pending and may come back empty: poll again.
        case wait
        /// The limit is reached by jobs actually claimed: stop claiming for the run.
        case stop
    }

    // MARK: - Worker loop

    func work(owner: String, startedAt: Date, deadline: Date?, listingDone: CancellationFlag) async throws {
        while true {
            if stopRequested.load(ordering: .relaxed) || claimingStopped.load(ordering: .relaxed) || Task.isCancelled {
                return
            }
            if let deadline, now() >= deadline {
                stopClaiming(reason: .maxDuration)
                return
            }
            // `claimed` counts reservations against --max-recordings; a reservation whose claim is still
            // pending may come back empty, so while one is pending the limit is not final: wait, don't stop.
            let decision = state.withLock { state -> ClaimDecision in
                guard let limit = configuration.maxRecordings, state.claimed >= limit else {
                    state.claimed += 1
                    state.pendingClaims += 1
                    return .claim
                }
                return state.pendingClaims > 0 ? .wait : .stop
            }
            switch decision {
            case .stop:
                stopClaiming(reason: .maxRecordings)
                return
            case .wait:
                try await Task.sleep(for: configuration.idlePollInterval)
                continue
            case .claim:
                break
            }
            let claimed: Job?
            do {
                claimed = try await store.jobs.claimNext(
                    kind: configuration.kind.jobKind,
                    owner: owner,
                    leaseDuration: configuration.leaseDuration,
                    now: now(),
                    runStartedAt: startedAt,
                    workspaceID: configuration.workspaceID,
                    recordingIDs: configuration.filter.recordingIDs
                )
            } catch {
                state.withLock { state in
                    state.claimed -= 1
                    state.pendingClaims -= 1
                }
                throw error
            }
            guard let job = claimed else {
                state.withLock { state in
                    state.claimed -= 1
                    state.pendingClaims -= 1
                }
                if try await shouldStopIdling(listingDone: listingDone) { return }
                try await Task.sleep(for: configuration.idlePollInterval)
                continue
            }
            state.withLock { $0.pendingClaims -= 1 }
            guard let lease = job.lease else {
                throw StoreError(
                    code: .leaseLost,
                    message: "the store returned job \(job.id) without a lease; this is a bug in the store engine"
                )
            }
            let outcome = try await processWithLease(job, lease: lease)
            record(outcome, for: job)
            try await persistBudget()
        }
    }

    /// Idle with nothing claimable: keep waiting while listing goes on or a retry is due soon.
    private func shouldStopIdling(listingDone: CancellationFlag) async throws -> Bool {
        guard listingDone.isCancelled else { return false }
        if configuration.waitsForOtherProcessesLeases, try await othersHoldUnfinishedJobs() {
            // Another process holds jobs of this workspace: wait until it finishes them or its lease runs out
            // (it died), then claim them. Polled at a fraction of the lease, not at the idle interval.
            try await Task.sleep(for: min(configuration.heartbeatInterval / 4, .seconds(2)))
            return false
        }
        let nextRetry = try await store.jobs.nextRetryTime(
            kind: configuration.kind.jobKind,
            workspaceID: configuration.workspaceID
        )
        guard let nextRetry else { return true }
        return nextRetry.timeIntervalSince(now()) > Double(configuration.retryWaitWindow.components.seconds)
    }

    /// Whether a job of this workspace is unfinished under a lease another run holds (a shared queue).
    private func othersHoldUnfinishedJobs() async throws -> Bool {
        let unfinished: [JobState] = [.queued, .listingConfirmed, .downloading, .packing]
        return try await store.jobs.allJobs(kind: configuration.kind.jobKind).contains { job in
            job.workspaceID == configuration.workspaceID && unfinished.contains(job.state)
                && job.leaseOwner.map { !$0.contains(configuration.runID) } == true
        }
    }

    private func record(_ outcome: Outcome, for job: Job) {
        var event: ArchiveEvent
        switch outcome {
        case .archived(let path, let bytes, let sha256):
            event = ArchiveEvent(kind: .recordingArchived, runID: configuration.runID, recordingID: job.recordingID)
            event.path = path
            event.bytes = bytes
            event.sha256 = sha256
            state.withLock { state in
                state.report.counts.archived += 1
                state.report.bytesArchived += bytes
            }
        case .deferred(let reason):
            event = ArchiveEvent(kind: .recordingDeferred, runID: configuration.runID, recordingID: job.recordingID)
            event.reason = reason
            state.withLock { $0.report.counts.deferred += 1 }
        case .gone(let reason):
            event = ArchiveEvent(kind: .recordingGone, runID: configuration.runID, recordingID: job.recordingID)
            event.reason = reason
            state.withLock { $0.report.counts.gone += 1 }
        case .failed(let reason, let attempts, let willRetry):
            event = ArchiveEvent(kind: .recordingFailed, runID: configuration.runID, recordingID: job.recordingID)
            event.reason = reason
            event.attempts = attempts
            state.withLock { state in
                // A job retried later in this run replaces its earlier failure entry.
                state.report.failures.removeAll { $0.recordingID == job.recordingID }
                state.report.failures.append(
                    .init(recordingID: job.recordingID, reason: reason, attempts: attempts, willRetry: willRetry)
                )
                state.report.counts.failed = state.report.failures.count
            }
        case .released:
            return
        }
        if event.kind != .recordingFailed {
            // A recording that failed earlier in this run and then succeeded is no longer a failure.
            state.withLock { state in
                state.report.failures.removeAll { $0.recordingID == job.recordingID }
                state.report.counts.failed = state.report.failures.count
            }
        }
        onEvent(event)
    }

    // MARK: - One job

    /// Processes `job` while a sibling task renews its lease.
    private func processWithLease(_ job: Job, lease: JobLease) async throws -> Outcome {
        var logger = self.logger
        logger[metadataKey: "job.id"] = "\(job.id)"
        logger[metadataKey: "recording.id"] =
            "\(SafeText.printable(job.recordingID, maximumBytes: Self.maximumLoggedIDBytes))"
        let jobLogger = logger
        return try await withThrowingTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                var current = lease
                while true {
                    try await Task.sleep(for: self.configuration.heartbeatInterval)
                    current = try await self.store.jobs.heartbeat(
                        current,
                        leaseDuration: self.configuration.leaseDuration,
                        now: self.now()
                    )
                }
            }
            group.addTask {
                try await cancelWhenGracefulShutdown {
                    try await self.process(job, lease: lease, logger: jobLogger)
                }
            }
            defer { group.cancelAll() }
            do {
                while let outcome = try await group.next() {
                    if let outcome { return outcome }
                }
                return .released
            } catch {
                group.cancelAll()
                return try await settle(job, lease: lease, error: error, logger: jobLogger)
            }
        }
    }

    /// Turns an error from processing into a job transition, or rethrows it when it stops the run.
    private func settle(_ job: Job, lease: JobLease, error: any Error, logger: Logger) async throws -> Outcome {
        if stopRequested.load(ordering: .relaxed) || error is CancellationError || Task.isCancelled
            || (error as? TransferError)?.code == .aborted
        {
            _ = try? await store.jobs.apply(
                .released,
                to: lease,
                configuration: configuration.jobRetryRules,
                now: now()
            )
            return .released
        }
        if let s3Error = error as? S3Error, s3Error.stopsRun {
            // Credentials, permissions or the bucket: every other upload would fail the same way.
            _ = try? await store.jobs.apply(
                .released,
                to: lease,
                configuration: configuration.jobRetryRules,
                now: now()
            )
            throw s3Error
        }
        if let apiError = error as? APIError {
            if apiError.stopsRun || apiError.code == .dailyBudgetExhausted {
                _ = try? await store.jobs.apply(
                    .released,
                    to: lease,
                    configuration: configuration.jobRetryRules,
                    now: now()
                )
                throw apiError
            }
            if apiError.meansGone {
                let reason = SafeText.printable("\(apiError.code): \(apiError.message)")
                try await store.jobs.apply(
                    .gone(reason: reason),
                    to: lease,
                    configuration: configuration.jobRetryRules,
                    now: now()
                )
                await removeStaging(job)
                return .gone(reason: reason)
            }
        }
        if let transferError = error as? TransferError, transferError.code == .diskFull {
            // A full disk stops the run with the job handed back, as the free-space check before a download does.
            _ = try? await store.jobs.apply(
                .released,
                to: lease,
                configuration: configuration.jobRetryRules,
                now: now()
            )
            throw QueueError(code: .diskFull, message: transferError.message)
        }
        if let queueError = error as? QueueError {
            _ = try? await store.jobs.apply(
                .released,
                to: lease,
                configuration: configuration.jobRetryRules,
                now: now()
            )
            throw queueError
        }
        if let storeError = error as? StoreError, storeError.code == .leaseLost {
            logger.info("lease lost; another worker took the job over")
            return .released
        }
        let reason = RetryPolicy.describe(error)
        let retryable = RetryPolicy.isRetryableJob(error)
        _ = try await store.jobs.apply(
            .failed(reason: reason, isRetryable: retryable),
            to: lease,
            configuration: configuration.jobRetryRules,
            now: now()
        )
        let attempts = try await store.jobs.job(id: job.id)?.attempts ?? job.attempts + 1
        logger.info("recording failed", metadata: ["error": "\(reason)", "retry.attempt": "\(attempts)"])
        // Tried again either way: a `failed` job when its retry is due (in this run or a later one), a
        // `failed-permanently` one (attempts used up, or an error only an operator can fix) by the next run, which
        // requeues it with fresh attempts (``JobQueueStore/requeuePermanentlyFailed(kind:workspaceID:now:)`` or the
        // listing's enqueue). Only ids rejected at listing, never queued, are not tried again.
        return .failed(reason: reason, attempts: attempts, willRetry: true)
    }

    /// Removes the job's staging directory (and any `.partial` of its tar) on a thread of its own and waits for it.
    ///
    /// Never on the cooperative pool, whose few threads every worker shares: unlinking a large staged file can block
    /// for a long time (see ``StagingRemovals``). For a job that will be retried, whose staging must be gone before
    /// the retry downloads into it again; an archived job's staging goes through ``stagingRemovals`` instead.
    func removeStaging(_ job: Job) async {
        await BlockingExecutor.run { [self] in removeStagingNow(job) }
    }

    /// ``removeStaging(_:)`` on the calling thread (blocking).
    func removeStagingNow(_ job: Job) {
        // Through verified descriptors: a link planted as `staging` (or inside it) is never followed.
        let components = configuration.stagingComponents
        if let staging = PrivateFile.openDirectory(components, under: configuration.stagingBase.path) {
            PrivateFile.removeTree(named: "job-\(job.id)", in: staging)
            close(staging)
        }
        // A tar being packed when an earlier process was killed; a packed archive is renamed away from it. Named
        // in its folder opened from where packing writes (the root, or an S3 destination's staging) without
        // following links: a folder replaced by a link is left alone.
        let relativePath = configuration.archiveRelativePath(
            recordingID: job.recordingID,
            createdAt: job.recordingCreatedAt
        )
        let packingRoot = configuration.destination?.packingRoot ?? configuration.root
        if let tar = try? RootedFile(relativePath: relativePath, under: packingRoot) {
            _ = tar.unlinkIfPresent(suffix: ".partial")
            _ = tar.unlinkIfPresent(suffix: ".sha256.partial")
        }
    }

    /// Removes staging directories that no job will resume: left by a process killed between cataloguing
    /// an archive and removing its staging, or belonging to jobs that are gone or failed for good.
    ///
    /// Runs before any worker starts, under the archive root's lock. Only `job-<id>` entries (what the archiver
    /// creates) are removed, through directory descriptors opened with `O_NOFOLLOW`: links are unlinked, never
    /// followed, and a `staging` that is itself a link is refused. With a destination that packs elsewhere (S3),
    /// staging an earlier version left below the state root is then moved or removed
    /// (``adoptRootStaging(resumable:)``).
    ///
    /// - Throws: ``StoreError`` when the job table cannot be read; ``QueueError/Code/archiveRootUnusable`` when
    ///   `staging` (or a directory above it) is a symbolic link or not a directory.
    func sweepStaging() async throws {
        let base = configuration.stagingBase
        let components = configuration.stagingComponents
        try Self.refuseLinks(components, under: base)
        let resumable: [JobState] = [.queued, .listingConfirmed, .downloading, .packing, .deferred, .failed]
        if let staging = PrivateFile.openDirectory(components, under: base.path) {
            defer { close(staging) }
            for name in PrivateFile.entries(of: staging) where name.hasPrefix("job-") {
                if let id = Int64(name.dropFirst(4)), let job = try await store.jobs.job(id: id),
                    resumable.contains(job.state)
                {
                    continue
                }
                logger.debug("removing stale staging", metadata: ["staging.name": "\(name)"])
                PrivateFile.removeTree(named: name, in: staging)
            }
        }
        if base.standardizedFileURL.path != configuration.root.standardizedFileURL.path {
            try await adoptRootStaging(resumable: resumable)
        }
    }

    /// Moves the staging an earlier version left below the state root to ``Configuration/stagingBase``, or
    /// removes it: nothing stays behind there for good.
    ///
    /// A resumable job's directory is renamed into the new place, so its partial downloads resume, when the two
    /// are on one file system (the default `--staging`, inside the state directory) and the job has none there
    /// yet; any other (another file system: moving it would copy what a resume saves, a job that will not resume,
    /// a name that is not a directory) is removed, and the job downloads again. A job another process of a shared
    /// state (`--database`) holds a live lease on is left for a later run. Then the empty
    /// `.userplane-archiver/staging` goes too. Through directory descriptors, links never followed.
    private func adoptRootStaging(resumable: [JobState]) async throws {
        let root = configuration.root.path
        try Self.refuseLinks(Configuration.rootStagingComponents, under: configuration.root)
        guard let legacy = PrivateFile.openDirectory(Configuration.rootStagingComponents, under: root) else { return }
        var target: Int32?
        defer {
            close(legacy)
            if let target { close(target) }
        }
        for name in PrivateFile.entries(of: legacy) where name.hasPrefix("job-") {
            var job: Job?
            if let id = Int64(name.dropFirst(4)) { job = try await store.jobs.job(id: id) }
            if let job, job.leaseOwner != nil, let expiry = job.leaseExpiresAt, expiry > now() {
                continue  // another process of a shared state works on it (still here): a later run moves it
            }
            var status = stat()
            if let job, resumable.contains(job.state), fstatat(legacy, name, &status, AT_SYMLINK_NOFOLLOW) == 0,
                status.st_mode & S_IFMT == S_IFDIR
            {
                if target == nil {
                    try PrivateFile.makeDirectories(
                        configuration.stagingComponents,
                        under: configuration.stagingBase.path
                    )
                    target = PrivateFile.openDirectory(
                        configuration.stagingComponents,
                        under: configuration.stagingBase.path
                    )
                }
                var existing = stat()
                if let target, fstatat(target, name, &existing, AT_SYMLINK_NOFOLLOW) != 0,
                    renameat(legacy, name, target, name) == 0
                {
                    logger.debug("moved staging to the packing root", metadata: ["staging.name": "\(name)"])
                    continue
                }
            }
            logger.debug("removing staging left below the state root", metadata: ["staging.name": "\(name)"])
            PrivateFile.removeTree(named: name, in: legacy)
        }
        if let state = PrivateFile.openDirectory([ArchiveStore.stateDirectoryName], under: root) {
            _ = unlinkat(state, Configuration.rootStagingComponents[1], AT_REMOVEDIR)  // only when empty
            close(state)
        }
    }

    /// Refuses a link or a non-directory at any of `components` below `base` (what the sweep would otherwise
    /// silently skip).
    ///
    /// - Throws: ``QueueError/Code/archiveRootUnusable``.
    static func refuseLinks(_ components: [String], under base: URL) throws {
        var path = base.path
        var status = stat()
        for component in components {
            path += "/" + component
            guard lstat(path, &status) == 0 else { return }
            guard status.st_mode & S_IFMT == S_IFDIR else {
                throw QueueError(
                    code: .archiveRootUnusable,
                    message:
                        "\(path) is \(status.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "not a directory"); "
                        + "the archiver never follows links below the archive root and removes only its own "
                        + "staging. Inspect it, remove it (rm \(path)) and re-run"
                )
            }
        }
    }
}
