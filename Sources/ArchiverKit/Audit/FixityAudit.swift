package import Foundation

/// Re-verifies a rotating selection of a local archive root's archives and records each check
/// (`audit`, product.md §11.3).
///
/// Order: archives never audited first (oldest read-back first), then the longest since their last audit,
/// so repeated runs with `--sample`/`--fraction` rotate through the whole root. Every catalogued archive is
/// also checked for presence (a cheap `stat`): a missing tar is a failure. Each check is appended to the
/// catalog's `audit_events` in its own transaction as soon as it is made, so a crash mid-audit loses at most
/// the check in progress and leaves every recorded event whole. The audit takes no root lock: it only reads
/// archives and appends events, so it can run beside `archive`; a tar that `prune` deletes meanwhile is
/// recognised by its catalog entry and not reported missing.
package struct FixityAudit: Sendable {
    /// How many archives to re-read.
    package enum Selection: Sendable, Equatable, CustomStringConvertible {
        /// Every eligible archive.
        case all
        /// At most this many.
        case sample(Int)
        /// This share (0...1] of the archives in the catalog, rounded up.
        case fraction(Double)

        /// `all`, `sample N` or `fraction F`.
        package var description: String {
            switch self {
            case .all: "all"
            case .sample(let count): "sample \(count)"
            case .fraction(let share): "fraction \(share)"
            }
        }
    }

    /// The run's settings.
    package struct Configuration: Sendable {
        /// How many archives to re-read.
        package var selection: Selection = .all
        /// Only archives whose last audit is older than this (or that were never audited).
        package var olderThanLastCheck: TimeInterval?
        /// Stop starting new checks after this long.
        package var maxDuration: Duration?
        /// Average read rate limit over the run, in bytes per second (paced between archives).
        package var maxReadBytesPerSecond: Int?
        /// The run id.
        package var runID: String
        /// The command line, secrets redacted.
        package var arguments: [String] = []
        /// The coverage window reported at the end.
        package var coverageWindowDays = AuditCoverage.defaultWindowDays

        /// Creates a configuration for run `runID`.
        package init(runID: String) {
            self.runID = runID
        }
    }

    /// The tool identity recorded with every event.
    package static var toolVersion: String { "\(ArchiverKitVersion.toolName) \(ArchiverKitVersion.version)" }

    /// The local root: where the report goes (for an `s3://` archive, its state directory).
    let root: URL
    let store: any StateStore
    let configuration: Configuration
    /// Where the archives are listed and read from.
    let destination: any ArchiveDestination

    /// Creates an audit of the archives in `destination` whose state lives under `root`.
    package init(root: URL, destination: any ArchiveDestination, store: any StateStore, configuration: Configuration) {
        self.root = root
        self.destination = destination
        self.store = store
        self.configuration = configuration
    }

    /// Creates an audit of the local archive root `root`.
    package init(root: URL, store: any StateStore, configuration: Configuration) {
        self.init(
            root: root,
            destination: LocalDirectoryDestination(root: root),
            store: store,
            configuration: configuration
        )
    }

    /// The archives to re-read, in order: never audited first (oldest read-back first), then oldest audit first.
    ///
    /// - Parameters:
    ///   - archives: Catalogued archives present on disk.
    ///   - latest: The latest audit event per archive.
    ///   - catalogued: How many archives the catalog expects on disk (the base of ``Selection/fraction(_:)``).
    ///   - now: The current time.
    /// - Returns: The archives to re-read, in the order to re-read them.
    package func plan(
        _ archives: [ArchiveRecord],
        latest: [ArchiveKey: AuditEvent],
        catalogued: Int,
        now: Date
    ) -> [ArchiveRecord] {
        func lastAudit(_ archive: ArchiveRecord) -> AuditEvent? {
            latest[ArchiveKey(workspaceID: archive.workspaceID, recordingID: archive.recordingID)]
        }
        var eligible = archives
        if let olderThan = configuration.olderThanLastCheck {
            let cutoff = now.addingTimeInterval(-olderThan)
            eligible = eligible.filter { lastAudit($0).map { $0.at <= cutoff } ?? true }
        }
        eligible.sort { left, right in
            switch (lastAudit(left), lastAudit(right)) {
            case (nil, .some):
                return true
            case (.some, nil):
                return false
            case (let leftAudit?, let rightAudit?):
                // Equal times (millisecond precision in the catalog): the earlier-recorded check first.
                if leftAudit.at != rightAudit.at { return leftAudit.at < rightAudit.at }
                return (leftAudit.id ?? 0) < (rightAudit.id ?? 0)
            case (nil, nil):
                let leftRead = left.verifiedAt ?? left.archivedAt
                let rightRead = right.verifiedAt ?? right.archivedAt
                if leftRead != rightRead { return leftRead < rightRead }
                return left.relativePath < right.relativePath
            }
        }
        switch configuration.selection {
        case .all:
            return eligible
        case .sample(let count):
            return Array(eligible.prefix(max(0, count)))
        case .fraction(let share):
            return Array(eligible.prefix(Int((Double(catalogued) * share).rounded(.up))))
        }
    }

    /// Runs the audit.
    ///
    /// An error thrown by `onEvent` ends the run at once (tests use it to stop mid-audit as a crash would).
    ///
    /// - Parameters:
    ///   - now: The start time (injected for tests); check times are the wall clock.
    ///   - onEvent: Called after each recorded check.
    /// - Returns: The report (not yet written); its ``AuditReport/outcome`` is ``RunOutcome/verificationFailed``
    ///   when an archive failed or was missing.
    /// - Throws: ``StoreError`` when the catalog cannot be read or an event cannot be recorded.
    package func run(
        now: Date = Date(),
        onEvent: @Sendable (AuditEvent) throws -> Void = { _ in }
    ) async throws -> AuditReport {
        let started = ContinuousClock.now
        var report = AuditReport(
            runID: configuration.runID,
            arguments: configuration.arguments,
            archiveRoot: root.path,
            selection: configuration.selection.description,
            startedAt: now
        )
        let catalog = try await store.catalog.allArchives()
        let expected = catalog.filter { $0.deletedLocallyAt == nil }
        report.archivesInCatalog = expected.count

        // Presence of every catalogued archive, and archives on disk the catalog does not name.
        let stored = try await destination.present(expected.map(\.relativePath))
        var present: [ArchiveRecord] = []
        for archive in expected {
            if stored.contains(archive.relativePath) {
                present.append(archive)
                continue
            }
            // Pruned since the catalog was read: not missing.
            let current = try await store.catalog.archive(
                workspaceID: archive.workspaceID,
                recordingID: archive.recordingID
            )
            guard let current, current.deletedLocallyAt == nil else { continue }
            // Absent (missing), or not a regular file (failed, never followed): reading it says which, at once.
            let event = await check(archive)
            try await record(event, sizeBytes: archive.sizeBytes, into: &report, onEvent: onEvent)
        }
        let known = Set(catalog.filter { $0.deletedLocallyAt == nil }.map(\.relativePath))
        let onDisk = try await destination.inventory()
        report.unknownOnDisk = (onDisk.files + onDisk.unfollowed).filter { relative in
            let tar = relative.hasSuffix(".sha256") ? String(relative.dropLast(".sha256".count)) : relative
            return !known.contains(tar)
        }

        // Re-read the selection, oldest check first.
        let latest = try await store.catalog.latestAuditEvents()
        let selected = plan(present, latest: latest, catalogued: expected.count, now: now)
        report.selected = selected.count
        for (index, archive) in selected.enumerated() {
            if Task.isCancelled {
                report.stoppedEarly = StopReason.interrupted.rawValue
            } else if let maxDuration = configuration.maxDuration, ContinuousClock.now - started >= maxDuration {
                report.stoppedEarly = "max-duration \(maxDuration) reached"
            }
            if report.stoppedEarly != nil {
                report.notReached = selected.count - index
                break
            }
            let event = await check(archive)
            if event.outcome == .missing {
                // Vanished between listing and reading: pruned (not a failure) or really missing.
                let current = try await store.catalog.archive(
                    workspaceID: archive.workspaceID,
                    recordingID: archive.recordingID
                )
                guard let current, current.deletedLocallyAt == nil else { continue }
            }
            try await record(event, sizeBytes: archive.sizeBytes, into: &report, onEvent: onEvent)
            report.bytesRead += archive.sizeBytes
            await pace(bytesRead: report.bytesRead, since: started)
        }
        report.finishedAt = Date()
        report.coverage = try await AuditCoverage.load(
            store: store,
            windowDays: configuration.coverageWindowDays,
            now: report.finishedAt ?? Date()
        )
        return report
    }

    private func record(
        _ event: AuditEvent,
        sizeBytes: Int,
        into report: inout AuditReport,
        onEvent: @Sendable (AuditEvent) throws -> Void
    ) async throws {
        var event = event
        event.id = try await store.catalog.recordAuditEvent(event)
        switch event.outcome {
        case .ok: report.ok += 1
        case .failed: report.failed += 1
        case .missing: report.missing += 1
        }
        report.entries.append(AuditReport.Entry(event, sizeBytes: sizeBytes))
        try onEvent(event)
    }

    /// Re-verifies one archive through the destination and compares its SHA-256 and recording with the catalog.
    private func check(_ archive: ArchiveRecord) async -> AuditEvent {
        let verdict = await destination.verify(relativePath: archive.relativePath)
        let exists = !verdict.problems.contains { $0.code == .archiveMissing }
        let verification = exists ? verdict : nil
        var problems = verification?.problems.map { "\($0.code): \($0)" } ?? []
        if !exists { problems.append("\(archive.relativePath) is in the catalog but not on disk") }
        if let observed = verification?.sha256, observed != archive.sha256 {
            problems.append("SHA-256 \(observed) differs from the catalog's \(archive.sha256)")
        }
        if let verification, verification.recordingID != archive.recordingID {
            problems.append("the manifest names recording '\(verification.recordingID ?? "none")'")
        }
        return AuditEvent(
            workspaceID: archive.workspaceID,
            recordingID: archive.recordingID,
            archivePath: archive.relativePath,
            at: Date(),
            outcome: !exists ? .missing : problems.isEmpty ? .ok : .failed,
            expectedSha256: archive.sha256,
            observedSha256: verification?.sha256,
            problems: problems,
            toolVersion: Self.toolVersion,
            runID: configuration.runID
        )
    }

    /// Sleeps so that the average read rate since `start` stays within `--max-read-rate`.
    private func pace(bytesRead: Int, since start: ContinuousClock.Instant) async {
        guard let rate = configuration.maxReadBytesPerSecond, rate > 0 else { return }
        let due = Duration.milliseconds(Int64((Double(bytesRead) / Double(rate) * 1000).rounded(.up)))
        var wait = due - (ContinuousClock.now - start)
        if let maxDuration = configuration.maxDuration { wait = min(wait, maxDuration - (ContinuousClock.now - start)) }
        if wait > .zero { try? await Task.sleep(for: wait) }
    }

    /// Parses a read rate such as `50MiB/s`, `10MB/s`, `1GiB/s` or a bare number of bytes per second.
    ///
    /// - Returns: Bytes per second, or `nil` for text that is not a positive rate.
    package static func parseRate(_ text: String) -> Int? {
        var body = text.trimmingCharacters(in: .whitespaces)
        if body.lowercased().hasSuffix("/s") { body = String(body.dropLast(2)) }
        let units: [(String, Double)] = [
            ("kib", 1024), ("mib", 1_048_576), ("gib", 1_073_741_824), ("kb", 1000), ("mb", 1e6), ("gb", 1e9),
            ("k", 1024), ("m", 1_048_576), ("g", 1_073_741_824), ("b", 1),
        ]
        var multiplier = 1.0
        for (suffix, factor) in units where body.lowercased().hasSuffix(suffix) {
            body = String(body.dropLast(suffix.count))
            multiplier = factor
            break
        }
        guard let number = Double(body.trimmingCharacters(in: .whitespaces)), number > 0 else { return nil }
        let rate = number * multiplier
        return rate >= 1 && rate < Double(Int.max) ? Int(rate) : nil
    }
}
