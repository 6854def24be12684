package import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The Prometheus text-format metrics of one run, for node_exporter's textfile collector.
///
/// Written at the end of every `archive` run with `--metrics-file PATH`, atomically
/// (`PATH.partial`, fsync, rename), so the collector never reads half a file. Counters of the run
/// are gauges of "the last run" (the file is replaced each run); catalog gauges describe the
/// archive root as a whole. Every sample carries `workspace` where it concerns one workspace.
package struct RunMetrics: Sendable, Equatable {
    /// The subcommand (`archive`, `download`).
    package var command: String
    /// The run's per-workspace reports, in run order.
    package var reports: [RunReport]
    /// The process exit code of the run.
    package var exitCode: Int32
    /// Wall-clock duration of the whole run.
    package var duration: Duration
    /// When the run finished.
    package var finishedAt: Date
    /// The end of the most recent run of `command` that exited 0 (this one included), if any.
    package var lastSuccessAt: Date?
    /// Archives in the catalog.
    package var archivesTotal: Int
    /// Their total size in bytes.
    package var archivedBytesTotal: Int
    /// `createdAt` of the oldest recording queued but not yet archived (not failed permanently or gone).
    package var oldestUnarchivedCreatedAt: Date?

    /// Creates metrics from known values.
    ///
    /// - Parameters:
    ///   - command: The subcommand.
    ///   - reports: Per-workspace reports.
    ///   - exitCode: The exit code.
    ///   - duration: The run's duration.
    ///   - finishedAt: When it finished.
    ///   - lastSuccessAt: The last successful finish.
    ///   - archivesTotal: Archives in the catalog.
    ///   - archivedBytesTotal: Their bytes.
    ///   - oldestUnarchivedCreatedAt: The oldest pending recording's creation time.
    package init(
        command: String,
        reports: [RunReport],
        exitCode: Int32,
        duration: Duration,
        finishedAt: Date,
        lastSuccessAt: Date?,
        archivesTotal: Int,
        archivedBytesTotal: Int,
        oldestUnarchivedCreatedAt: Date?
    ) {
        self.command = command
        self.reports = reports
        self.exitCode = exitCode
        self.duration = duration
        self.finishedAt = finishedAt
        self.lastSuccessAt = lastSuccessAt
        self.archivesTotal = archivesTotal
        self.archivedBytesTotal = archivedBytesTotal
        self.oldestUnarchivedCreatedAt = oldestUnarchivedCreatedAt
    }

    /// Reads the catalog gauges from `store`, then combines them with the run's outcome.
    ///
    /// The last success is this run's end when `exitCode` is 0. Otherwise it is carried over from the
    /// previous metrics file (`previousText`), which describes whole processes; only when there is none
    /// does it fall back to the catalog's most recent run of `command` that exited 0, excluding this
    /// run's own per-workspace runs (a workspace can succeed inside a run that fails overall).
    ///
    /// - Parameters:
    ///   - command: The subcommand.
    ///   - reports: Per-workspace reports of this run.
    ///   - exitCode: This run's exit code.
    ///   - duration: This run's duration.
    ///   - store: The archive root's store (still open).
    ///   - previousText: The metrics file as the previous run left it, if any.
    ///   - now: The finish time.
    /// - Returns: The metrics to write.
    /// - Throws: ``StoreError``.
    package static func collect(
        command: String,
        reports: [RunReport],
        exitCode: Int32,
        duration: Duration,
        store: any StateStore,
        previousText: String? = nil,
        now: Date = Date()
    ) async throws -> RunMetrics {
        let totals = try await store.catalog.totals()
        var lastSuccess: Date?
        if exitCode == 0 {
            lastSuccess = now
        } else if let previousText {
            lastSuccess = Self.lastSuccess(in: previousText, command: command)
        } else {
            let ownRuns = Set(reports.map(\.runID))
            lastSuccess = try await store.catalog.runs(limit: 1_000)
                .filter { $0.command == command && $0.exitCode == 0 && !ownRuns.contains($0.id) }
                .compactMap(\.finishedAt)
                .max()
        }
        let pendingStates: Set<JobState> = [.queued, .listingConfirmed, .downloading, .packing, .deferred, .failed]
        let oldest = try await store.jobs.allJobs(kind: command == "download" ? .download : .archive)
            .filter { pendingStates.contains($0.state) }
            .map(\.recordingCreatedAt)
            .min()
        return RunMetrics(
            command: command,
            reports: reports,
            exitCode: exitCode,
            duration: duration,
            finishedAt: now,
            lastSuccessAt: lastSuccess,
            archivesTotal: totals.archives,
            archivedBytesTotal: totals.bytes,
            oldestUnarchivedCreatedAt: oldest
        )
    }

    /// The metrics in Prometheus text exposition format 0.0.4.
    package var prometheusText: String {
        var out = PrometheusTextBuilder(prefix: "userplane_archiver_")
        let command = ["command": self.command]
        out.gauge("last_run_timestamp_seconds", "End of the last run (Unix time).", [(command, seconds(finishedAt))])
        if let lastSuccessAt {
            out.gauge(
                "last_success_timestamp_seconds",
                "End of the last run that exited 0 (Unix time).",
                [(command, seconds(lastSuccessAt))]
            )
        }
        out.gauge("last_run_exit_code", "Exit code of the last run.", [(command, Double(exitCode))])
        let components = duration.components
        out.gauge(
            "last_run_duration_seconds",
            "Wall-clock duration of the last run.",
            [(command, Double(components.seconds) + Double(components.attoseconds) / 1e18)]
        )
        func perWorkspace(_ value: (RunReport) -> Double) -> [([String: String], Double)] {
            reports.map { (["command": self.command, "workspace": $0.workspaceID], value($0)) }
        }
        out.gauge(
            "last_run_recordings_archived",
            "Recordings archived by the last run.",
            perWorkspace { Double($0.counts.archived) }
        )
        out.gauge(
            "last_run_recordings_failed",
            "Recordings that failed in the last run.",
            perWorkspace { Double($0.counts.failed) }
        )
        out.gauge(
            "last_run_recordings_deferred",
            "Recordings deferred (not final yet) by the last run.",
            perWorkspace { Double($0.counts.deferred) }
        )
        out.gauge(
            "last_run_recordings_skipped",
            "Recordings skipped as already archived by the last run.",
            perWorkspace { Double($0.counts.skippedAlreadyArchived) }
        )
        out.gauge(
            "last_run_bytes_downloaded",
            "Blob bytes downloaded by the last run.",
            perWorkspace { Double($0.bytesDownloaded) }
        )
        out.gauge(
            "last_run_bytes_archived",
            "Archive bytes written by the last run.",
            perWorkspace { Double($0.bytesArchived) }
        )
        // The workspaces of one run share an API pacer whose counters are cumulative: report deltas.
        let apiCalls = Self.perWorkspaceDeltas(reports.map(\.api.calls))
        let rateLimited = Self.perWorkspaceDeltas(reports.map(\.api.rateLimited))
        out.gauge(
            "last_run_api_calls",
            "API requests sent by the last run.",
            zip(reports, apiCalls).map { (["command": self.command, "workspace": $0.workspaceID], Double($1)) }
        )
        out.gauge(
            "last_run_api_rate_limited",
            "HTTP 429 answers received by the last run.",
            zip(reports, rateLimited).map { (["command": self.command, "workspace": $0.workspaceID], Double($1)) }
        )
        out.gauge(
            "last_run_listing_pages",
            "List calls of the last run; mode is incremental, full or by-id.",
            reports.compactMap { report in
                report.listing.map {
                    (["command": self.command, "workspace": report.workspaceID, "mode": $0.mode], Double($0.pages))
                }
            }
        )
        let cappedPauses = Self.perWorkspaceDeltas(reports.map(\.api.cappedPauses))
        out.gauge(
            "last_run_api_capped_pauses",
            "Server-requested pauses cut to the 15-minute cap by the last run.",
            zip(reports, cappedPauses).map { (["command": self.command, "workspace": $0.workspaceID], Double($1)) }
        )
        out.gauge("archives", "Archives in the catalog.", [([:], Double(archivesTotal))])
        out.gauge("archived_bytes", "Total size of the archives in the catalog.", [([:], Double(archivedBytesTotal))])
        let age = oldestUnarchivedCreatedAt.map { max(0, finishedAt.timeIntervalSince($0)) } ?? 0
        out.gauge(
            "oldest_unarchived_recording_age_seconds",
            "Age of the oldest recording queued but not archived yet (0 when none).",
            [([:], age.rounded())]
        )
        return out.text
    }

    /// The `last_success_timestamp_seconds` of `command` in a metrics file this type wrote.
    ///
    /// - Parameters:
    ///   - text: Prometheus text.
    ///   - command: The subcommand label.
    /// - Returns: The timestamp, or `nil` when the file has none.
    package static func lastSuccess(in text: String, command: String) -> Date? {
        let prefix =
            "userplane_archiver_last_success_timestamp_seconds"
            + PrometheusTextBuilder.render(["command": command]) + " "
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
            let seconds = Double(line.dropFirst(prefix.count))
        else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// The text of the metrics file a previous run wrote at `path`, or `nil` when there is none or it is not a
    /// regular file of at most 1 MiB (a FIFO or device is never opened for a blocking read).
    ///
    /// - Parameter path: The `.prom` file.
    /// - Returns: Its text.
    package static func previousText(at path: String) -> String? {
        guard let bytes = try? DurableFile.readSmallRegularFile(path, maximumBytes: 1 << 20, followsSymlinks: false)
        else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Turns running totals (one per workspace, in run order) into per-workspace amounts.
    static func perWorkspaceDeltas(_ cumulative: [Int]) -> [Int] {
        zip(cumulative, [0] + cumulative).map { max(0, $0 - $1) }
    }

    private func seconds(_ date: Date) -> Double { date.timeIntervalSince1970.rounded() }

    /// Writes ``prometheusText`` to `path` atomically and durably (`path.partial`, fsync, rename).
    ///
    /// The `.partial` is created without following links; the file gets mode 0644 (it holds counts, no personal
    /// data, and node_exporter usually runs as another user).
    ///
    /// - Parameter path: The `.prom` file in node_exporter's textfile directory.
    /// - Throws: ``PackingError`` with code `io` when the file cannot be written.
    package func write(to path: String) throws {
        if let problem = Self.targetProblem(path) { throw PackingError(code: .io, message: problem) }
        try DurableFile.writeAtomically(Array(prometheusText.utf8), to: path, mode: 0o644)
    }

    /// Why `path` cannot be the metrics file, or `nil` when it can: its directory must exist and be
    /// writable, and the file, if it exists, must be a regular file (never a FIFO, device node,
    /// directory or symlink, which the atomic rename would replace).
    ///
    /// Commands call this before any work, so a bad path fails the run at once (exit 1).
    package static func targetProblem(_ path: String) -> String? {
        guard !path.isEmpty else { return "the metrics file path is empty; pass --metrics-file with a file path" }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var info = stat()
        if lstat(path, &info) == 0 {
            let type = info.st_mode & S_IFMT
            guard type == S_IFREG else {
                let kind =
                    switch type {
                    case S_IFIFO: "a FIFO"
                    case S_IFCHR, S_IFBLK: "a device node"
                    case S_IFLNK: "a symbolic link"
                    case S_IFDIR: "a directory"
                    default: "not a regular file"
                    }
                return "the metrics file \(path) is \(kind), not a regular file; point --metrics-file at a regular file"
            }
        }
        var directoryInfo = stat()
        guard stat(directory, &directoryInfo) == 0, (directoryInfo.st_mode & S_IFMT) == S_IFDIR else {
            return "the metrics file's directory \(directory) does not exist; create it or fix --metrics-file"
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            return "the metrics file's directory \(directory) is not writable; fix its permissions or --metrics-file"
        }
        return nil
    }
}
