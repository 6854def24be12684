package import Foundation
package import Logging

/// One `archive` or `download` command: the archive root's lock, its state, one paced API client, and
/// the workspaces worked through one after another.
///
/// Open it with ``withRun(configuration:logger:_:)`` (in the shape of `withHTTPClient`): the scope
/// takes the lock, opens the state and wires the client, hands the run to its body, and closes the
/// state and releases the lock on every way out. Inside, ``workspaces(onPreflight:onEvent:supervise:)``
/// runs a ``WorkerQueue`` per workspace under one ``APIPacer`` for the key, so the per-minute rate and
/// the daily budget hold across all of them (the budget used by one workspace is carried over to the
/// next). Each workspace gets its own run id, catalog run row and run report, written once by its queue
/// on every path.
package struct ArchiveRun: Sendable {
    /// What the command works on and how.
    package struct Configuration: Sendable {
        /// Archive or download.
        package var kind: WorkerQueue.Configuration.Kind
        /// The archive root (`archive`) or output directory (`download`); its parent must exist.
        package var root: URL
        /// The workspaces, in order.
        package var workspaces: [ArchiverConfiguration.Workspace]
        /// The resolved settings (flags > environment > file > defaults).
        package var settings: ArchiverConfiguration
        /// Where the API key comes from.
        package var keySource: APIClient.APIKeySource
        /// Stop claiming after this many recordings (per workspace).
        package var maxRecordings: Int?
        /// Stop claiming once this much time has passed (per workspace).
        package var maxDuration: Duration?
        /// List and report only.
        package var isDryRun = false
        /// Wait for another process's lock instead of failing at once (`--wait-lock`).
        package var waitsForLock = false
        /// `--full-listing`.
        package var forcesFullListing = false
        /// Resource kinds to fetch.
        package var resourceKinds: [ResourceKind] = ResourceKind.allCases
        /// `download --overwrite`: replace differing files of the same name in the output directory.
        package var overwritesExisting = false
        /// Where `archive` keeps the packed archives (`--archive s3://...`); `nil`: the archive root itself.
        package var destination: (any ArchiveDestination)?
        /// A state shared by many processes (`--database`), or `nil` for the root's own SQLite state.
        package var sharedState: SharedState?
        /// Command-line arguments, secrets already redacted, for the reports.
        package var arguments: [String] = []
        /// The exit code the caller exits with for an outcome, recorded in each report
        /// (see ``WorkerQueue/Configuration/exitCode``).
        package var exitCode: @Sendable (RunOutcome) -> Int32
        /// The wall clock for run ids, budgets and every timestamp the queues record.
        package var currentDate: @Sendable () -> Date = { Date() }

        /// Creates a configuration.
        package init(
            kind: WorkerQueue.Configuration.Kind,
            root: URL,
            workspaces: [ArchiverConfiguration.Workspace],
            settings: ArchiverConfiguration,
            keySource: APIClient.APIKeySource,
            exitCode: @escaping @Sendable (RunOutcome) -> Int32
        ) {
            self.kind = kind
            self.root = root
            self.workspaces = workspaces
            self.settings = settings
            self.keySource = keySource
            self.exitCode = exitCode
        }
    }

    /// A state store shared by processes on many hosts (product.md §11.2), opened by its engine's target.
    ///
    /// With it, the run takes no root lock (the root and the queue are shared), claims wait for jobs other
    /// processes hold until they finish or their lease ends, and the pacer reserves every request in the
    /// shared window and daily budget.
    package struct SharedState: Sendable {
        /// How long a claim lasts without a heartbeat; heartbeats come at a third of it.
        package var leaseDuration: Duration
        /// Opens the shared store and, when the engine paces across processes, its pacing.
        package var open: @Sendable () async throws -> (store: any StateStore, pacing: (any SharedPacing)?)

        /// Creates a shared state.
        package init(
            leaseDuration: Duration,
            open: @escaping @Sendable () async throws -> (store: any StateStore, pacing: (any SharedPacing)?)
        ) {
            self.leaseDuration = leaseDuration
            self.open = open
        }
    }

    /// What the workspaces came to.
    package struct Result: Sendable {
        /// The reports of the workspaces whose queue ran (and so wrote its report), in order.
        package var reports: [RunReport] = []
        /// The error that stopped the command (a key refused, a full disk, ...); the remaining workspaces
        /// were not started.
        package var error: (any Error)?

        /// The command's outcome: the error's (``RunOutcome/failure(_:)``), else the worst report's.
        package var outcome: RunOutcome {
            error.map { RunOutcome.failure($0).outcome } ?? RunOutcome.combined(reports.map(\.outcome))
        }
    }

    /// The configuration in use.
    package let configuration: Configuration
    /// The open state database of the root.
    package let store: any StateStore
    /// The paced client shared by every workspace.
    package let client: APIClient
    /// The budget of the day as the run started (from the catalog, or zero for a new root).
    let wiring: APIWiring
    let logger: Logger

    /// Takes the root's lock, opens its state and wires the client, runs `body`, then closes the state
    /// and releases the lock, whether `body` returns or throws.
    ///
    /// An existing lock file is taken first, so a concurrent run is reported before anything else. A root
    /// without state yet is not created until the key, the host and every workspace have answered
    /// (`GET /public/me`, `GET /public/workspace/{ws}`), so a typo leaves nothing on disk.
    ///
    /// - Parameters:
    ///   - configuration: What to work on and how.
    ///   - logger: Receives the queues' events.
    ///   - body: Works with the open run; its result is returned.
    /// - Returns: What `body` returned.
    /// - Throws: ``QueueError`` (``QueueError/Code/alreadyRunning`` when another process holds the root,
    ///   ``QueueError/Code/archiveRootUnusable`` when it cannot be created), ``StoreError``, the preflight's
    ///   ``APIError`` or ``TransferError``, or what `body` throws.
    package static func withRun<Value: Sendable>(
        configuration: Configuration,
        logger: Logger,
        _ body: (ArchiveRun) async throws -> Value
    ) async throws -> Value {
        let root = configuration.root
        let settings = configuration.settings
        let keySource = configuration.keySource
        let waitsForLock = configuration.waitsForLock
        if let shared = configuration.sharedState {
            // Many processes share the root and the queue: no root lock; the state lives in the shared store.
            try Self.createRoot(root)
            let (store, pacing) = try await shared.open()
            defer { try? store.close() }
            let wiring = try await APIWiring.make(
                settings: settings,
                keySource: keySource,
                store: store,
                logger: logger,
                shared: pacing
            )
            let run = ArchiveRun(
                configuration: configuration,
                store: store,
                client: wiring.client,
                wiring: wiring,
                logger: logger
            )
            return try await body(run)
        }
        let stateDirectory = ArchiveStore.databaseURL(archiveRoot: root).deletingLastPathComponent()
        // An existing lock file is taken first, so a concurrent run is reported (exit 75) before anything else.
        let existingLock =
            FileManager.default.fileExists(atPath: stateDirectory.appendingPathComponent("lock").path)
            ? try ArchiveRootLock(root: root, waits: waitsForLock) : nil
        // A root without state yet: check the key, host and workspaces before creating anything on disk. No state
        // means no API usage recorded today, so this client (and its pacer, counting these calls) serves the run.
        var earlyWiring: APIWiring?
        if !FileManager.default.fileExists(atPath: ArchiveStore.databaseURL(archiveRoot: root).path) {
            let probe = APIWiring.makeUnpersisted(settings: settings, keySource: keySource, logger: logger)
            _ = try await probe.client.me()
            for workspace in configuration.workspaces { _ = try await probe.client.workspace(workspace.id) }
            try Self.createRoot(root)
            earlyWiring = probe
        }
        let lock = try existingLock ?? ArchiveRootLock(root: root, waits: waitsForLock)
        let store = try ArchiveStore(archiveRoot: root)
        defer {
            try? store.close()
            withExtendedLifetime(lock) {}
        }
        let wiring: APIWiring
        if let earlyWiring {
            wiring = earlyWiring
        } else {
            wiring = try await APIWiring.make(settings: settings, keySource: keySource, store: store, logger: logger)
        }
        let run = ArchiveRun(
            configuration: configuration,
            store: store,
            client: wiring.client,
            wiring: wiring,
            logger: logger
        )
        return try await body(run)
    }

    /// Works through every workspace in order, one ``WorkerQueue`` each, and collects their reports.
    ///
    /// A workspace's preflight (`GET /public/me`, `GET /public/workspace/{ws}`) runs before its queue. An
    /// error that stops a queue (or its preflight), or an interrupted queue, ends the loop: the remaining
    /// workspaces are not started. The daily budget the pacer has used so far is carried into the next
    /// workspace's queue, which persists only what it adds.
    ///
    /// - Parameters:
    ///   - onPreflight: Called with each workspace's confirmed key owner and name before its queue starts.
    ///   - onEvent: Receives every queue's progress events; must not block.
    ///   - supervise: Runs one queue to its end; the command line runs it under a `ServiceGroup` that turns
    ///     SIGINT/SIGTERM into a graceful stop. Default: ``WorkerQueue/run()``.
    /// - Returns: The reports and the error that stopped the loop, if any; never throws.
    package func workspaces(
        onPreflight: (WorkerQueue.Preflight, ArchiverConfiguration.Workspace) -> Void = { _, _ in },
        onEvent: @escaping @Sendable (ArchiveEvent) -> Void = { _ in },
        supervise: (WorkerQueue) async throws -> Void = { try await $0.run() }
    ) async -> Result {
        var result = Result()
        let pacer = client.pacer
        var budget = DailyBudget(day: DailyBudget.utcDay(of: wiring.today), used: wiring.usedToday)
        for workspace in configuration.workspaces {
            let queue = WorkerQueue(
                configuration: queueConfiguration(workspace, budget: budget),
                api: client,
                store: store,
                logger: logger,
                onEvent: onEvent,
                currentDate: configuration.currentDate
            )
            do {
                let preflight = try await queue.preflight()
                onPreflight(preflight, workspace)
                try await supervise(queue)
            } catch {
                result.error = error
            }
            let report = queue.report
            if report.finishedAt != nil { result.reports.append(report) }
            budget = await pacer.statistics.budget
            if result.error != nil || report.outcome == .interrupted { break }
        }
        return result
    }

    /// The queue configuration of one workspace from the resolved settings.
    func queueConfiguration(
        _ workspace: ArchiverConfiguration.Workspace,
        budget: DailyBudget
    )
        -> WorkerQueue
        .Configuration
    {
        let settings = configuration.settings
        let defaults = ArchiverConfiguration.defaults
        let now = configuration.currentDate()
        var queue = WorkerQueue.Configuration(
            kind: configuration.kind,
            root: configuration.root,
            workspaceID: workspace.id,
            runID: Self.makeRunID(at: now),
            exitCode: configuration.exitCode
        )
        queue.arguments = configuration.arguments
        queue.filter = workspace.filter
        queue.resourceKinds = configuration.resourceKinds
        queue.concurrency = settings.concurrency ?? ArchiverDefaults.concurrency
        queue.maxRecordings = configuration.maxRecordings
        queue.maxDuration = configuration.maxDuration
        queue.isDryRun = configuration.isDryRun
        queue.overwritesExisting = configuration.overwritesExisting
        queue.initialBudget = budget
        queue.downloader.caBundlePath = settings.caBundle
        queue.destination = configuration.destination
        queue.listing.forceFull = configuration.forcesFullListing
        if let overlap = settings.listingOverlap ?? defaults.listingOverlap {
            queue.listing.overlap = overlap.duration(endingAt: now)
        }
        if let every = settings.fullListingEvery ?? defaults.fullListingEvery {
            queue.listing.fullListingEvery = every.duration(endingAt: now)
        }
        Self.applyTransferSettings(settings, to: &queue.downloader)
        if let shared = configuration.sharedState {
            queue.leaseDuration = shared.leaseDuration
            queue.heartbeatInterval = shared.leaseDuration / 3
            queue.waitsForOtherProcessesLeases = true
        }
        return queue
    }

    /// Sets the transfer settings an operator chose (`max_blob_size`, `stall_timeout`, `min_transfer_speed`,
    /// `direct_io`) on `downloader`; those not set keep the downloader's defaults.
    ///
    /// With `direct_io` on, the downloader's own buffer size is kept; an archive run's queue turns direct I/O off
    /// in any case (its packer reads each staged file again at once).
    ///
    /// - Parameters:
    ///   - settings: The resolved settings.
    ///   - downloader: The queue's transfer configuration.
    package static func applyTransferSettings(
        _ settings: ArchiverConfiguration,
        to downloader: inout Downloader.Configuration
    ) {
        if let maxBlobSize = settings.maxBlobSize { downloader.maximumBlobBytes = maxBlobSize }
        if let stallTimeout = settings.stallTimeout { downloader.stallTimeout = stallTimeout }
        if let speed = settings.minTransferSpeed { downloader.minimumBytesPerSecond = speed }
        if settings.directIO == false { downloader.directWriteBufferBytes = 0 }
    }

    /// A new run id: the UTC time to the second and 8 random hex digits (`20261130T062211Z-1a2b3c4d`).
    ///
    /// - Parameter date: The run's start.
    /// - Returns: The id; also the run report's file name.
    package static func makeRunID(at date: Date = Date()) -> String {
        UTCTime.compact(date) + "-" + String(UUID().uuidString.prefix(8)).lowercased()
    }

    /// Creates the root's last component (mode 0750) if missing; its parent must exist.
    ///
    /// - Throws: ``QueueError/Code/archiveRootUnusable`` saying why and what to do.
    static func createRoot(_ root: URL) throws {
        if mkdir(root.path, 0o750) == 0 {
            try ArchiveOwnership.privatize(directory: root.path)
            return
        }
        let code = errno
        var isDirectory: ObjCBool = false
        if code == EEXIST, FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        {
            return
        }
        throw QueueError(
            code: .archiveRootUnusable,
            message: "cannot create the archive root \(root.path): \(String(cString: strerror(code))); "
                + (code == ENOENT
                    ? "its parent directory does not exist: create it first (the archiver creates only the last "
                        + "component) or fix --archive / --out"
                    : "check the path and its permissions")
        )
    }
}
