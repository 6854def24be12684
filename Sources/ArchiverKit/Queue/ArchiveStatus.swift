package import Foundation

/// A summary of an archive root's queue and catalog: what `status` prints.
///
/// Schema `userplane-archiver/status/v1`.
package struct ArchiveStatus: Codable, Sendable {
    /// The last run, as recorded in the catalog.
    package struct LastRun: Codable, Sendable {
        package var runID: String
        package var command: String
        package var startedAt: Date
        package var finishedAt: Date?
        package var exitCode: Int?
        package var reportPath: String?

        private enum CodingKeys: String, CodingKey {
            case command, startedAt, finishedAt, exitCode, reportPath
            case runID = "runId"
        }
    }

    /// A job that failed, with its reason.
    package struct Failure: Codable, Sendable {
        package var workspaceID: String
        package var recordingID: String
        package var state: String
        package var attempts: Int
        package var reason: String?
        package var nextAttemptAt: Date?

        private enum CodingKeys: String, CodingKey {
            case state, attempts, reason, nextAttemptAt
            case workspaceID = "workspaceId"
            case recordingID = "recordingId"
        }
    }

    /// Where the listing of a workspace stands, for one job kind and filter set.
    package struct Listing: Codable, Sendable {
        package var workspaceID: String
        package var kind: String
        /// The normalised filters in words.
        package var filters: String
        /// The newest `createdAt` listed so far.
        package var highWaterMark: Date?
        /// When the last listing that read the whole list (a full reconciliation) started.
        package var lastFullListingAt: Date?
        /// When the last complete listing started, and how it read the list.
        package var lastListingAt: Date
        package var lastListingMode: String

        private enum CodingKeys: String, CodingKey {
            case kind, filters, highWaterMark, lastFullListingAt, lastListingAt, lastListingMode
            case workspaceID = "workspaceId"
        }
    }

    /// A catalogued archive whose tar is not on disk although no run deleted it.
    package struct Missing: Codable, Sendable {
        package var workspaceID: String
        package var recordingID: String
        package var archivePath: String

        private enum CodingKeys: String, CodingKey {
            case archivePath
            case workspaceID = "workspaceId"
            case recordingID = "recordingId"
        }
    }

    package var schema = "userplane-archiver/status/v1"
    /// The archive root.
    package var archiveRoot: String
    /// Jobs per state, per kind (`archive`, `download`).
    package var jobs: [String: [String: Int]]
    /// Archives in the catalog that are still on disk.
    package var archivesTotal: Int
    /// Their total size in bytes.
    package var bytesArchived: Int
    /// API requests used today (UTC) by every run on this root.
    package var apiBudgetUsedToday: Int
    /// The UTC day the budget refers to.
    package var apiBudgetDay: String
    /// The most recent run.
    package var lastRun: LastRun?
    /// Failed jobs, most recent first.
    package var failures: [Failure]
    /// Active legal holds.
    package var activeHolds: Int
    /// Fixity-audit coverage: how recently every archive was re-read (`audit`).
    package var audit: AuditCoverage?
    /// Each workspace's listing high-water mark and last full reconciliation; absent before the first listing.
    package var listings: [Listing]?
    /// Catalogued (not pruned) archives whose tar is missing on disk: the catalog and the disk disagree.
    package var missingOnDisk: [Missing] = []

    /// Reads the status of the archive kept in `destination` whose state is `store`.
    ///
    /// - Parameters:
    ///   - store: The state holding the queue and the catalog.
    ///   - destination: Where the archives are: catalogued archives it does not hold become ``missingOnDisk``, and
    ///     its location is shown as the root.
    ///   - now: The time the day's API budget is read for.
    /// - Returns: The status.
    /// - Throws: ``StoreError``; the destination's error when it cannot be listed.
    package static func load(
        store: any StateStore,
        destination: any ArchiveDestination,
        now: Date = Date()
    ) async throws -> ArchiveStatus {
        var jobs: [String: [String: Int]] = [:]
        for kind in [JobKind.archive, JobKind.download] {
            let counts = try await store.jobs.counts(kind: kind)
            guard !counts.isEmpty else { continue }
            jobs[kind.rawValue] = Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
        }
        let totals = try await store.catalog.totals()
        let lastRun = try await store.catalog.lastRun().map {
            LastRun(
                runID: $0.id,
                command: $0.command,
                startedAt: $0.startedAt,
                finishedAt: $0.finishedAt,
                exitCode: $0.exitCode,
                reportPath: $0.reportPath
            )
        }
        let failures = try await store.jobs.failures().map {
            Failure(
                workspaceID: $0.workspaceID,
                recordingID: $0.recordingID,
                state: $0.state.rawValue,
                attempts: $0.attempts,
                reason: $0.lastError,
                nextAttemptAt: $0.nextAttemptAt
            )
        }
        return ArchiveStatus(
            archiveRoot: destination.describe(""),
            jobs: jobs,
            archivesTotal: totals.archives,
            bytesArchived: totals.bytes,
            apiBudgetUsedToday: try await store.catalog.apiUsage(on: now),
            apiBudgetDay: DailyBudget.utcDay(of: now),
            lastRun: lastRun,
            failures: failures,
            activeHolds: try await store.catalog.holds().count,
            audit: try await AuditCoverage.load(store: store, now: now),
            listings: try await Self.listings(store: store),
            missingOnDisk: try await missing(store: store, destination: destination)
        )
    }

    private static func listings(store: any StateStore) async throws -> [Listing]? {
        let marks = try await store.catalog.listingMarks()
        guard !marks.isEmpty else { return nil }
        return marks.map {
            Listing(
                workspaceID: $0.workspaceID,
                kind: $0.kind.rawValue,
                filters: $0.filters,
                highWaterMark: $0.highWaterMark,
                lastFullListingAt: $0.lastFullListingAt,
                lastListingAt: $0.lastListingAt,
                lastListingMode: $0.lastListingMode.rawValue
            )
        }
    }

    /// The catalogued, not pruned archives the destination does not hold (locally a cheap `lstat` each, on S3 one
    /// listing).
    private static func missing(store: any StateStore, destination: any ArchiveDestination) async throws -> [Missing] {
        let expected = try await store.catalog.allArchives().filter { $0.deletedLocallyAt == nil }
        let present = try await destination.present(expected.map(\.relativePath))
        return expected.filter { !present.contains($0.relativePath) }.map {
            Missing(workspaceID: $0.workspaceID, recordingID: $0.recordingID, archivePath: $0.relativePath)
        }
    }
}
