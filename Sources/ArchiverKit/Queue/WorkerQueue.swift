package import Foundation
package import Logging
import ServiceLifecycle
import Synchronization

/// Works the durable queue of one run: lists the workspace, enqueues what is not archived yet, and
/// runs N workers that confirm, download, pack and catalog each recording.
///
/// Listing and the workers run concurrently in one task group (house-style §3.6): workers claim jobs
/// atomically from `state.sqlite` as soon as the first page is enqueued. All API calls share one
/// ``APIPacer``. On graceful shutdown (SIGINT/SIGTERM through a `ServiceGroup`) workers stop
/// claiming, the transfers in flight are cancelled (their `.partial` files stay and resume next
/// time), their jobs are handed back, and the run report is written with outcome ``RunOutcome/interrupted``.
///
/// - Important: Run it while holding the archive root's ``ArchiveRootLock``: the queue then treats
///   every lease left in the database as abandoned by a dead process.
package final class WorkerQueue: Service, Sendable {
    package let configuration: Configuration
    let api: APIClient
    let store: any StateStore
    let logger: Logger
    let onEvent: @Sendable (ArchiveEvent) -> Void
    let downloader: Downloader
    let packager: ArchivePackager
    let state: Mutex<RunState>
    let stopRequested = Atomic<Bool>(false)
    /// Staging of archived jobs being removed; ``run()`` waits for them at its end.
    let stagingRemovals = StagingRemovals()
    let claimingStopped = Atomic<Bool>(false)
    let ownerPrefix: String
    let budgetPersisted: Mutex<DailyBudget?>
    /// The wall clock: every timestamp the queue records (jobs, leases, listing marks, the report).
    let now: @Sendable () -> Date

    /// Creates a queue for one run.
    ///
    /// - Parameters:
    ///   - configuration: What to work on and how.
    ///   - api: The API client; its pacer is shared by every worker.
    ///   - store: The open state database of the archive root (or download directory).
    ///   - logger: Receives job events at `debug`, recoverable trouble at `info`.
    ///   - onEvent: Receives progress events, from any worker; must not block.
    ///   - currentDate: The wall clock for every recorded timestamp (a fixed one in tests), in the
    ///     style of ``APIPacer``'s `currentDate`.
    package init(
        configuration: Configuration,
        api: APIClient,
        store: any StateStore,
        logger: Logger,
        onEvent: @escaping @Sendable (ArchiveEvent) -> Void = { _ in },
        currentDate: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.now = currentDate
        self.configuration = configuration
        self.api = api
        self.store = store
        self.onEvent = onEvent
        var transfer = configuration.downloader
        transfer.reservedFreeBytes = transfer.reservedFreeBytes ?? configuration.reservedFreeBytes
        if configuration.kind != .download {
            transfer.sealsContent = true  // archives pack what they download
            // and packing reads each staged file right after its download: from the page cache, not the disk.
            transfer.directWriteBufferBytes = 0
        }
        self.downloader = Downloader(configuration: transfer)
        var packing = ArchivePackager.Configuration()
        packing.root = configuration.destination?.packingRoot ?? configuration.root  // the tar's folder: no link
        self.packager = ArchivePackager(configuration: packing)
        var logger = logger
        logger[metadataKey: "run.id"] = "\(configuration.runID)"
        self.logger = logger
        self.state = Mutex(
            RunState(
                report: RunReport(
                    runID: configuration.runID,
                    command: configuration.kind.rawValue,
                    workspaceID: configuration.workspaceID,
                    arguments: configuration.arguments,
                    startedAt: currentDate()
                )
            )
        )
        state.withLock { $0.report.dryRun = configuration.isDryRun }
        self.ownerPrefix = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(configuration.runID)"
        self.budgetPersisted = Mutex(configuration.initialBudget)
    }

    /// The report of the run so far; complete once ``run()`` has returned.
    package var report: RunReport { state.withLock { $0.report } }

    /// Asks the workers to stop claiming new jobs; jobs in flight finish or are handed back.
    package func requestStop(reason: StopReason) {
        stopRequested.store(true, ordering: .relaxed)
        claimingStopped.store(true, ordering: .relaxed)
        state.withLock { state in
            // An interruption outranks a limit reached earlier: the outcome depends on it.
            if state.report.stoppedEarly == nil || reason == .interrupted {
                state.report.stoppedEarly = reason.rawValue
            }
        }
    }

    /// Stops claiming new jobs (`--max-recordings`, `--max-duration`); jobs in flight run to completion.
    func stopClaiming(reason: StopReason) {
        claimingStopped.store(true, ordering: .relaxed)
        state.withLock { state in
            if state.report.stoppedEarly == nil { state.report.stoppedEarly = reason.rawValue }
        }
    }

    // MARK: - Preflight

    /// Who the key belongs to and which workspace it reaches, confirmed before any listing.
    package struct Preflight: Sendable {
        /// The key owner's display name and email.
        package var user: String
        /// The workspace's name.
        package var workspaceName: String
    }

    /// Confirms the key (`GET /public/me`) and the membership (`GET /public/workspace/{ws}`).
    ///
    /// - Throws: ``APIError`` (for example `API_KEY_INVALID` or `NOT_A_MEMBER`), ``TransferError``.
    package func preflight() async throws -> Preflight {
        let profile = try await api.me()
        let workspace = try await api.workspace(configuration.workspaceID)
        let user = [profile.name, profile.email.map { "<\($0)>" }].compactMap { $0 }.joined(separator: " ")
        return Preflight(
            user: user.isEmpty ? profile.id : user,
            workspaceName: workspace.workspaceName ?? workspace.workspaceID
        )
    }

    // MARK: - Run

    /// Runs the whole job: listing, workers, report.
    ///
    /// - Throws: Errors that stop the whole run: ``APIError`` whose ``APIError/stopsRun`` is true,
    ///   ``StoreError``, ``QueueError`` (disk full). The report is written on every path.
    package func run() async throws {
        let startedAt = state.withLock { $0.report.startedAt }
        do {
            try await store.catalog.startRun(
                id: configuration.runID,
                command: configuration.kind.rawValue,
                startedAt: startedAt
            )
            try await store.jobs.expireAbandonedLeases(now: now())
            if configuration.kind == .archive && !configuration.isDryRun { try await sweepStaging() }
            onEvent(ArchiveEvent(kind: .runStarted, runID: configuration.runID))
            try await withGracefulShutdownHandler {
                try await runListingAndWorkers(startedAt: startedAt)
            } onGracefulShutdown: {
                self.requestStop(reason: .interrupted)
            }
            if Task.isCancelled { requestStop(reason: .interrupted) }
            try await finish(fatal: nil)
            await stagingRemovals.waitForAll()
        } catch {
            try? await finish(fatal: error)
            await stagingRemovals.waitForAll()
            throw error
        }
    }

    private func runListingAndWorkers(startedAt: Date) async throws {
        let deadline = configuration.maxDuration.map { startedAt.adding($0) }
        let listingDone = CancellationFlag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { listingDone.cancel() }
                try await self.list()
            }
            if !configuration.isDryRun {
                for index in 0..<max(configuration.concurrency, 1) {
                    group.addTask {
                        try await self.work(
                            owner: "\(self.ownerPrefix):worker-\(index)",
                            startedAt: startedAt,
                            deadline: deadline,
                            listingDone: listingDone
                        )
                    }
                }
            }
            do {
                try await group.waitForAll()
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    // MARK: - Listing

    private func list() async throws {
        let filter = configuration.filter
        let filterHash = filter.listingKey
        let listingStartedAt = now()
        let mark =
            filter.recordingIDs.isEmpty
            ? try await store.catalog.listingMark(
                kind: configuration.kind.jobKind,
                workspaceID: configuration.workspaceID,
                filterHash: filterHash
            ) : nil
        let listingPlan = ListingPlan.decide(
            mark: mark,
            settings: configuration.listing,
            isById: !filter.recordingIDs.isEmpty,
            now: listingStartedAt
        )
        logger.info(
            "listing",
            metadata: [
                "listing.mode": "\(listingPlan.mode)", "listing.reason": "\(listingPlan.reason)",
                "listing.cutoff": "\(listingPlan.cutoff.map { UTCTime.iso8601($0) } ?? "none")",
            ]
        )
        state.withLock { state in
            var listing = RunReport.Listing(mode: listingPlan.mode.rawValue)
            listing.reason = listingPlan.reason
            listing.cutoff = listingPlan.cutoff
            listing.highWaterMark = mark?.highWaterMark
            state.report.listing = listing
        }
        if listingPlan.mode == .incremental && !configuration.isDryRun {
            // Today's behaviour kept: a listed recording whose job failed for good is retried once per
            // run; an incremental listing no longer lists old ones, so they are put back by id.
            let requeued = try await store.jobs.requeuePermanentlyFailed(
                kind: configuration.kind.jobKind,
                workspaceID: configuration.workspaceID,
                now: now()
            )
            state.withLock { $0.report.counts.enqueued += requeued }
        }
        let pages = api.listRecordings(
            workspace: configuration.workspaceID,
            filter: filter,
            order: .newestFirst,
            stopAtOrBefore: listingPlan.cutoff
        )
        var interrupted = false
        for try await listed in pages {
            if stopRequested.load(ordering: .relaxed) {
                interrupted = true
                break
            }
            let page = rejectingHostileIds(listed)
            let items = page.recordings.map {
                JobEnqueueItem(
                    workspaceID: configuration.workspaceID,
                    recordingID: $0.recordingID,
                    recordingCreatedAt: $0.createdAt
                )
            }
            if configuration.isDryRun {
                try await plan(page.recordings)
                continue
            }
            let result = try await store.jobs.enqueue(items, kind: configuration.kind.jobKind, now: now())
            state.withLock { state in
                state.report.counts.listed += items.count
                state.report.counts.enqueued += result.new + result.requeued
                state.report.counts.skippedAlreadyArchived += result.alreadyArchived
            }
            try await persistBudget()
        }
        if configuration.isDryRun && listingPlan.mode == .incremental && !interrupted { try await planQueuedJobs() }
        let reconciliation = pages.reconciliation
        let total = try await pendingJobCount()
        var highWaterMark = mark?.highWaterMark
        if let reconciliation, !interrupted, !reconciliation.stoppedAtPageLimit,
            !reconciliation.stoppedAtRepeatedPages, listingPlan.mode != .byId
        {
            // Every recording listed is durably queued by now: the mark may move past them.
            let complete = reconciliation.reachedEnd
            let newMark = ListingMark(
                kind: configuration.kind.jobKind,
                workspaceID: configuration.workspaceID,
                filterHash: filterHash,
                filters: filter.listingDescription,
                highWaterMark: reconciliation.newestCreatedAt,
                lastListingAt: listingStartedAt,
                lastListingMode: complete ? .full : listingPlan.mode,
                lastFullListingAt: complete ? listingStartedAt : nil
            )
            if configuration.isDryRun {
                highWaterMark = [mark?.highWaterMark, reconciliation.newestCreatedAt].compactMap { $0 }.max()
            } else {
                highWaterMark = try await store.catalog.recordListing(newMark).highWaterMark
            }
        }
        state.withLock { state in
            if let reconciliation {
                state.report.reconciliation.seen = reconciliation.uniqueIds
                state.report.reconciliation.totalAtStart = reconciliation.firstPageTotal
                state.report.reconciliation.totalAtEnd = reconciliation.lastPageTotal
                state.report.reconciliation.duplicatesSkipped = reconciliation.duplicatesSkipped
                state.report.reconciliation.difference = reconciliation.difference
                state.report.listing?.pages = reconciliation.pagesFetched
                state.report.listing?.pagesRefetched =
                    reconciliation.pagesRefetched + reconciliation.headPagesRefetched
                state.report.listing?.reachedEnd = reconciliation.reachedEnd
                if reconciliation.unsortedPages > 0 && listingPlan.mode == .incremental {
                    state.report.listing?.reason =
                        "\(listingPlan.reason); the API did not list newest first, so the whole list was read"
                }
            }
            state.report.listing?.highWaterMark = highWaterMark
        }
        if let reconciliation, let difference = reconciliation.difference, difference != 0 {
            logger.info(
                "listing total changed while listing",
                metadata: [
                    "listing.seen": "\(reconciliation.uniqueIds)",
                    "listing.total": "\(reconciliation.lastPageTotal ?? -1)",
                ]
            )
        }
        var event = ArchiveEvent(kind: .listed, runID: configuration.runID)
        event.listingMode = listingPlan.mode.rawValue
        event.listingPages = reconciliation?.pagesFetched
        // Jobs already finished by workers while listing went on count towards the total too.
        event.total = state.withLock { state in
            let counts = state.report.counts
            return configuration.isDryRun
                ? state.report.planned.count
                : total + counts.archived + counts.deferred + counts.gone + state.report.failures.count
        }
        onEvent(event)
    }

    /// The most UTF-8 bytes of a rejected recording id written to a log line (the id is capped, then escaped).
    static let maximumLoggedIDBytes = 256

    /// A rejected id as the events and the run report keep it: whole, unless it is longer than any id can sensibly
    /// be (``RecordingPathComponent/maximumIDBytes``); then its first ``maximumLoggedIDBytes`` bytes, how many were
    /// cut, and the SHA-256 of the whole id, so that a hostile server cannot grow every report by megabytes.
    static func reportedID(_ id: String) -> String {
        guard id.utf8.count > RecordingPathComponent.maximumIDBytes else { return id }
        return SafeText.capped(id, maximumBytes: maximumLoggedIDBytes) + " (sha256 "
            + HashState.hex(.sha256, of: Array(id.utf8)) + ")"
    }

    /// `page` without recordings whose id cannot be archived (see ``RecordingPathComponent/rejectionReason(for:)``);
    /// each one is counted as listed and failed, with its reason, so the run exits 3.
    private func rejectingHostileIds(_ page: RecordingPage) -> RecordingPage {
        var page = page
        var rejected: [(id: String, reason: String)] = []
        page.recordings.removeAll { recording in
            guard let reason = RecordingPathComponent.rejectionReason(for: recording.recordingID) else { return false }
            rejected.append((Self.reportedID(recording.recordingID), reason))
            return true
        }
        for (id, reason) in rejected {
            logger.warning(
                "hostile recording id rejected",
                metadata: ["recording.id": "\(SafeText.printable(id, maximumBytes: Self.maximumLoggedIDBytes))"]
            )
            var event = ArchiveEvent(kind: .recordingFailed, runID: configuration.runID, recordingID: id)
            event.reason = reason
            event.attempts = 0
            onEvent(event)
        }
        guard !rejected.isEmpty else { return page }
        state.withLock { state in
            state.report.counts.listed += rejected.count
            for (id, reason) in rejected where !state.report.failures.contains(where: { $0.recordingID == id }) {
                state.report.failures.append(.init(recordingID: id, reason: reason, attempts: 0, willRetry: false))
            }
            state.report.counts.failed = state.report.failures.count
        }
        return page
    }

    private func plan(_ recordings: [Recording]) async throws {
        var planned: [RunReport.PlannedRecording] = []
        var skipped = 0
        for recording in recordings {
            if try await store.catalog.isArchived(
                workspaceID: configuration.workspaceID,
                recordingID: recording.recordingID
            ) {
                skipped += 1
            } else {
                planned.append(.init(recordingID: recording.recordingID, createdAt: recording.createdAt))
            }
        }
        state.withLock { state in
            state.report.counts.listed += recordings.count
            state.report.counts.skippedAlreadyArchived += skipped
            state.report.planned.append(contentsOf: planned)
        }
    }

    /// Dry run of an incremental listing: recordings queued by earlier runs are not listed again, but a
    /// real run would work on them, so they are planned too.
    private func planQueuedJobs() async throws {
        let unfinished: Set<JobState> = [
            .queued, .listingConfirmed, .downloading, .packing, .deferred, .failed, .failedPermanently,
        ]
        let jobs = try await store.jobs.allJobs(kind: configuration.kind.jobKind).filter {
            $0.workspaceID == configuration.workspaceID && unfinished.contains($0.state)
        }
        state.withLock { state in
            let known = Set(state.report.planned.map(\.recordingID))
            for job in jobs where !known.contains(job.recordingID) {
                state.report.planned.append(.init(recordingID: job.recordingID, createdAt: job.recordingCreatedAt))
            }
        }
    }

    private func pendingJobCount() async throws -> Int {
        guard !configuration.isDryRun else { return 0 }
        let jobs = try await store.jobs.allJobs(kind: configuration.kind.jobKind)
        let ids = Set(configuration.filter.recordingIDs)
        let startedAt = state.withLock { $0.report.startedAt }
        return jobs.filter { job in
            guard job.workspaceID == configuration.workspaceID, ids.isEmpty || ids.contains(job.recordingID) else {
                return false
            }
            if job.state == .deferred { return (job.deferredAt ?? startedAt) < startedAt }
            return [.queued, .listingConfirmed, .downloading, .packing].contains(job.state)
        }.count
    }

    // MARK: - Finishing

    private func finish(fatal: (any Error)?) async throws {
        try await persistBudget()
        let statistics = await api.pacer.statistics
        let report = state.withLock { state in
            state.report.finishedAt = now()
            state.report.api.calls = statistics.requestsGranted
            state.report.api.rateLimited = statistics.rateLimitedResponses
            state.report.api.cappedPauses = statistics.cappedPauses
            state.report.api.dailyBudgetUsed = statistics.budget.used
            state.report.api.dailyBudgetLimit = api.pacer.dailyLimit
            if let fatal { state.report.fatalError = String(describing: fatal) }
            state.report.exitCode = configuration.exitCode(state.report.outcome)
            return state.report
        }
        let reportURL = try RunReportWriter.write(report, archiveRoot: configuration.root)
        var event = ArchiveEvent(kind: .runFinished, runID: configuration.runID)
        event.counts = report.counts
        event.exitCode = report.exitCode
        event.path = reportURL.path
        onEvent(event)
        try await store.catalog.finishRun(
            id: configuration.runID,
            finishedAt: report.finishedAt ?? now(),
            exitCode: Int(configuration.exitCode(report.outcome)),
            reportPath: reportURL.path,
            counts: RunCounts(report.counts)
        )
    }

    /// Adds this run's API usage since the last call to the persisted daily budget.
    func persistBudget() async throws {
        let budget = await api.pacer.statistics.budget
        let previous = budgetPersisted.withLock { persisted -> DailyBudget? in
            defer { persisted = budget }
            return persisted
        }
        let alreadyCounted = previous?.day == budget.day ? previous?.used ?? 0 : 0
        let delta = budget.used - alreadyCounted
        guard delta > 0, let day = Self.date(ofUTCDay: budget.day) else { return }
        _ = try await store.catalog.addAPIUsage(delta, on: day)
    }

    /// Noon UTC of a `yyyy-MM-dd` day, safely inside that day.
    static func date(ofUTCDay day: String) -> Date? {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return UTCTime.date(year: parts[0], month: parts[1], day: parts[2], hour: 12)
    }
}

/// The mutable part of a run, shared by the workers under a lock.
struct RunState: Sendable {
    var report: RunReport
    var claimed = 0
    /// Claims reserved against `--max-recordings` whose `claimNext` has not answered yet.
    var pendingClaims = 0
}
