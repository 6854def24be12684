package import Foundation

/// The report of one `audit` run, written to `.userplane-archiver/runs/<runId>.json`.
///
/// Schema `userplane-archiver/audit-report/v1`. Lists every archive checked (with what was found), every
/// catalogued archive missing from disk and every archive on disk the catalog does not know.
package struct AuditReport: Codable, Sendable, Equatable {
    /// One archive checked in this run.
    package struct Entry: Codable, Sendable, Equatable {
        /// Its workspace.
        package var workspaceID: String
        /// The recording.
        package var recordingID: String
        /// The tar's path relative to the archive root.
        package var archivePath: String
        /// `ok`, `failed` or `missing`.
        package var outcome: String
        /// The SHA-256 the catalog holds.
        package var expectedSha256: String
        /// The SHA-256 read now.
        package var observedSha256: String?
        /// What was wrong.
        package var problems: [String]
        /// When the check finished.
        package var at: Date
        /// The tar's size as catalogued.
        package var sizeBytes: Int

        private enum CodingKeys: String, CodingKey {
            case archivePath, outcome, expectedSha256, observedSha256, problems, at, sizeBytes
            case workspaceID = "workspaceId"
            case recordingID = "recordingId"
        }

        /// Creates the entry of `event`.
        package init(_ event: AuditEvent, sizeBytes: Int) {
            workspaceID = event.workspaceID
            recordingID = event.recordingID
            archivePath = event.archivePath
            outcome = event.outcome.rawValue
            expectedSha256 = event.expectedSha256
            observedSha256 = event.observedSha256
            problems = event.problems
            at = event.at
            self.sizeBytes = sizeBytes
        }
    }

    /// The schema identifier.
    package var schema = "userplane-archiver/audit-report/v1"
    /// The run id.
    package var runID: String
    /// Always `audit`.
    package var command = "audit"
    /// The command line, secrets redacted.
    package var arguments: [String]
    /// The archive root.
    package var archiveRoot: String
    /// What was asked for, for example `all`, `sample 50`, `fraction 0.05`.
    package var selection: String
    /// When the run started.
    package var startedAt: Date
    /// When it finished.
    package var finishedAt: Date?
    /// Catalogued archives that should be on disk.
    package var archivesInCatalog = 0
    /// Of those, how many the selection chose to re-read.
    package var selected = 0
    /// Archives re-read and found intact.
    package var ok = 0
    /// Archives re-read and found damaged.
    package var failed = 0
    /// Catalogued archives not on disk.
    package var missing = 0
    /// Selected archives not re-read because the run stopped early.
    package var notReached = 0
    /// Bytes read.
    package var bytesRead = 0
    /// Archives re-read (ok or failed) and missing ones, in the order checked.
    package var entries: [Entry] = []
    /// Archive files (or orphan sidecars) on disk, relative to the root, that no catalog entry names.
    package var unknownOnDisk: [String] = []
    /// Why the run stopped before re-reading every selected archive (`max-duration`, `interrupted`).
    package var stoppedEarly: String?
    /// Coverage after the run.
    package var coverage: AuditCoverage?
    /// The process exit code the caller mapped ``outcome`` to, recorded in the report and the metrics;
    /// ArchiverKit leaves it 0.
    package var exitCode: Int32 = 0

    /// ``RunOutcome/verificationFailed`` when an archive failed or was missing, else ``RunOutcome/completed``.
    package var outcome: RunOutcome { failed + missing > 0 ? .verificationFailed : .completed }

    private enum CodingKeys: String, CodingKey {
        case schema, command, arguments, archiveRoot, selection, startedAt, finishedAt, archivesInCatalog, selected
        case ok, failed, missing, notReached, bytesRead, entries, unknownOnDisk, stoppedEarly, coverage, exitCode
        case runID = "runId"
    }

    /// Creates an empty report.
    package init(runID: String, arguments: [String], archiveRoot: String, selection: String, startedAt: Date) {
        self.runID = runID
        self.arguments = arguments
        self.archiveRoot = archiveRoot
        self.selection = selection
        self.startedAt = startedAt
    }

    /// `.userplane-archiver/runs/<runId>.json` under `archiveRoot`.
    package func url(archiveRoot: URL) -> URL {
        archiveRoot
            .appendingPathComponent(ArchiveStore.stateDirectoryName, isDirectory: true)
            .appendingPathComponent("runs", isDirectory: true)
            .appendingPathComponent("\(runID).json")
    }

    /// Writes the report atomically to ``url(archiveRoot:)``.
    ///
    /// - Returns: The report's URL.
    /// - Throws: A file-system or ``PackingError`` I/O error.
    @discardableResult
    package func write(archiveRoot: URL) throws -> URL {
        let url = url(archiveRoot: archiveRoot)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try DurableFile.writeAtomically(Array(encoded()), to: url.path)
        return url
    }

    /// The report as pretty, key-sorted JSON with ISO 8601 dates, newline-terminated.
    ///
    /// - Throws: `EncodingError`.
    package func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// The audit metrics in Prometheus text format, for node_exporter's textfile collector.
    package var prometheusText: String {
        var out = PrometheusTextBuilder(prefix: "userplane_archiver_")
        let end = (finishedAt ?? startedAt).timeIntervalSince1970.rounded()
        out.gauge("last_audit_timestamp_seconds", "End of the last audit run (Unix time).", [([:], end)])
        out.gauge("last_audit_exit_code", "Exit code of the last audit run.", [([:], Double(exitCode))])
        out.gauge(
            "last_audit_archives_checked",
            "Archives re-read by the last audit run.",
            [([:], Double(ok + failed))]
        )
        out.gauge(
            "last_audit_failures",
            "Archives the last audit run found damaged or missing.",
            [([:], Double(failed + missing))]
        )
        out.gauge(
            "last_audit_unknown_archives",
            "Archive files on disk that the catalog does not name.",
            [([:], Double(unknownOnDisk.count))]
        )
        if let coverage {
            if let age = coverage.oldestCheckAgeSeconds {
                out.gauge(
                    "audit_oldest_check_age_seconds",
                    "Age of the oldest last read of any archive (audit, or read-back when packed).",
                    [([:], age.rounded())]
                )
            }
            out.gauge(
                "audit_coverage_ratio",
                "Share of archives re-read clean within the window.",
                [(["window_days": "\(coverage.windowDays)"], coverage.percent / 100)]
            )
        }
        return out.text
    }

    /// Writes ``prometheusText`` to `path` atomically and durably.
    ///
    /// - Throws: ``PackingError`` with code `io` when the file cannot be written.
    package func writeMetrics(to path: String) throws {
        try DurableFile.writeAtomically(Array(prometheusText.utf8), to: path)
    }
}
