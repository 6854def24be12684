package import Foundation

extension WorkerQueue {
    /// What a run works on and how.
    package struct Configuration: Sendable {
        /// Whether the run produces archives or plain files.
        package struct Kind: Hashable, Sendable {
            /// The subcommand name, also recorded in the run report.
            package let rawValue: String
            /// Pack each recording into a verified tar archive (`archive`).
            package static let archive = Self(rawValue: "archive")
            /// Write each recording's files under `<out>/<recordingId>/` (`download`).
            package static let download = Self(rawValue: "download")

            var jobKind: JobKind { self == .download ? .download : .archive }
        }

        /// Archive or download.
        package var kind: Kind
        /// The archive root (`archive`) or output directory (`download`).
        package var root: URL
        /// The workspace to work on.
        package var workspaceID: String
        /// The run's id: report file name and lease owner prefix.
        package var runID: String
        /// Command-line arguments, secrets already redacted, for the report.
        package var arguments: [String] = []
        /// Which recordings to list.
        package var filter = RecordingFilter()
        /// Incremental or full listing (`--full-listing`, `--listing-overlap`, `--full-listing-every`).
        package var listing = ListingPlan.Settings()
        /// Resource kinds to fetch.
        ///
        /// Default: all five; `download --resources` narrows it.
        package var resourceKinds: [ResourceKind] = ResourceKind.allCases
        /// Concurrent workers (recordings in flight).
        ///
        /// Default ``ArchiverDefaults/concurrency``.
        package var concurrency = ArchiverDefaults.concurrency
        /// Stop claiming after this many recordings in this run.
        ///
        /// Default: no limit.
        package var maxRecordings: Int?
        /// Stop claiming once this much time has passed since the start.
        ///
        /// Default: no limit.
        package var maxDuration: Duration?
        /// List and report only; download nothing and change no job.
        ///
        /// Default `false`.
        package var isDryRun = false
        /// `download` only: replace a file of the same name in the output directory when its content
        /// differs (default: `false`: an identical file is kept, a different one fails the recording).
        package var overwritesExisting = false
        /// When a failed recording is retried and when it fails for good (default: ``JobStateMachine/Configuration/init()``).
        package var jobRetryRules = JobStateMachine.Configuration()
        /// How long a claim lasts without a heartbeat.
        ///
        /// Default 5 minutes.
        package var leaseDuration: Duration = .seconds(300)
        /// How often a worker renews its lease.
        ///
        /// Default 60 s.
        package var heartbeatInterval: Duration = .seconds(60)
        /// Whether idle workers wait for jobs of the workspace that other processes hold, until those finish
        /// or their leases run out (then they are claimed here): a shared queue (`--database`), where a dead
        /// host's jobs must be finished by the survivors (default: `false`).
        package var waitsForOtherProcessesLeases = false
        /// A failed job due for retry within this window is waited for in the same run.
        ///
        /// Default 90 s.
        package var retryWaitWindow: Duration = .seconds(90)
        /// Free space kept in reserve on the archive file system.
        ///
        /// Default ``ArchiverDefaults/reservedFreeBytes`` (256 MiB).
        package var reservedFreeBytes: Int64 = ArchiverDefaults.reservedFreeBytes
        /// How long an idle worker waits before looking for newly listed jobs.
        ///
        /// Default 200 ms.
        package var idlePollInterval: Duration = .milliseconds(200)
        /// The API usage already recorded for today when the run started (from the catalog).
        package var initialBudget: DailyBudget?
        /// Transfer settings for blob downloads.
        package var downloader = Downloader.Configuration()
        /// The process exit code the caller exits with for an outcome.
        ///
        /// Recorded in the run report, the `runFinished` event and the catalog's run row; ArchiverKit
        /// knows no exit code itself (the command line passes its one table).
        package var exitCode: @Sendable (RunOutcome) -> Int32
        /// Where `archive` keeps the packed archives.
        ///
        /// Default `nil`: ``LocalDirectoryDestination`` over ``root``.
        package var destination: (any ArchiveDestination)?

        /// Creates a configuration with the documented defaults.
        package init(
            kind: Kind,
            root: URL,
            workspaceID: String,
            runID: String,
            exitCode: @escaping @Sendable (RunOutcome) -> Int32
        ) {
            self.kind = kind
            self.root = root
            self.workspaceID = workspaceID
            self.runID = runID
            self.exitCode = exitCode
        }

        /// The existing directory every job's staging lies under: the root, or the packing root of a destination
        /// that packs elsewhere (an S3 archive's `--staging`), so that the downloads land on the file system the tar
        /// is packed on (the video becomes the tar in place) and not in the state directory.
        var stagingBase: URL {
            guard kind == .archive, let packingRoot = destination?.packingRoot,
                packingRoot.standardizedFileURL.path != root.standardizedFileURL.path
            else { return root }
            return packingRoot
        }

        /// The directories from ``stagingBase`` down to the one holding the `job-<id>` directories.
        ///
        /// `.userplane-archiver/staging` below the root. Below a packing root elsewhere, one more level,
        /// `state-<hash>` (the first 16 hex digits of the SHA-256 of the state root's path): job ids are only
        /// unique in one state, and several state directories may share one `--staging DIR`, whose staging sweeps
        /// must not take each other's downloads.
        var stagingComponents: [String] {
            guard stagingBase.standardizedFileURL.path != root.standardizedFileURL.path else {
                return Self.rootStagingComponents
            }
            let digest = HashState(.sha256)
            digest.update(Array(root.standardizedFileURL.path.utf8))
            return Self.rootStagingComponents + ["state-" + String(digest.finalizeHex().prefix(16))]
        }

        /// `.userplane-archiver/staging`: where staging lies below the root (and below a packing root elsewhere).
        static let rootStagingComponents = [ArchiveStore.stateDirectoryName, "staging"]

        /// `<stagingBase>/<stagingComponents>/job-<id>/`: where a job's resources wait to be packed
        /// (`<root>/.userplane-archiver/staging/job-<id>/` for a local archive).
        func stagingDirectory(jobID: Int64) -> URL {
            stagingComponents.reduce(stagingBase) { $0.appendingPathComponent($1, isDirectory: true) }
                .appendingPathComponent("job-\(jobID)", isDirectory: true)
        }

        /// `<workspace>/<YYYY>/<MM>/<recording>.tar` below the root, with `YYYY/MM` from `createdAt` in UTC.
        func archiveRelativePath(recordingID: String, createdAt: Date) -> String {
            ArchiveLayout.relativePath(workspaceID: workspaceID, recordingID: recordingID, createdAt: createdAt)
        }

        /// `<out>/<recording>/`: where `download` writes a recording's plain files.
        func downloadDirectory(recordingID: String) -> URL {
            root.appendingPathComponent(RecordingPathComponent.encode(recordingID), isDirectory: true)
        }
    }
}
