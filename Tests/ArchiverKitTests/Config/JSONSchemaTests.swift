import Foundation
import Testing

@testable import ArchiverKit

/// Pins the `--json` schemas documented in docs/json-schemas.md: a renamed, added or removed key
/// fails here, so the schema version and the document must be changed with it.
@Suite(.timeLimit(.minutes(1))) struct JSONSchemaTests {
    static func keys(of value: some Encodable) throws -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func sortedKeys(_ object: Any?) -> [String] {
        ((object as? [String: Any]) ?? [:]).keys.sorted()
    }

    @Test func runReportSchemaV1() throws {
        var report = RunReport(
            runID: "20260101T000000Z-abcd1234",
            command: "archive",
            workspaceID: "ws_1",
            arguments: ["archive"],
            startedAt: Date(timeIntervalSince1970: 0)
        )
        report.finishedAt = Date(timeIntervalSince1970: 60)
        report.failures = [.init(recordingID: "rec_1", reason: "boom", attempts: 1, willRetry: true)]
        report.reconciliation.totalAtStart = 1
        report.reconciliation.totalAtEnd = 1
        report.reconciliation.difference = 0
        report.stoppedEarly = "interrupted"
        report.planned = [.init(recordingID: "rec_2", createdAt: Date(timeIntervalSince1970: 0))]
        report.fatalError = "none"
        report.exitCode = 3
        var listing = RunReport.Listing(mode: "incremental")
        listing.reason = "why"
        listing.cutoff = Date(timeIntervalSince1970: 0)
        listing.highWaterMark = Date(timeIntervalSince1970: 1)
        report.listing = listing
        let json = try Self.keys(of: report)
        #expect(json["schema"] as? String == "userplane-archiver/run-report/v1")
        #expect(
            Self.sortedKeys(json) == [
                "api", "arguments", "bytesArchived", "bytesDownloaded", "command", "counts", "dryRun", "exitCode",
                "failures", "fatalError", "finishedAt", "listing", "planned", "reconciliation", "runId", "schema",
                "startedAt", "stoppedEarly", "workspaceId",
            ]
        )
        #expect(
            Self.sortedKeys(json["listing"]) == [
                "cutoff", "highWaterMark", "mode", "pages", "pagesRefetched", "reachedEnd", "reason",
            ]
        )
        #expect(
            Self.sortedKeys(json["counts"]) == [
                "archived", "deferred", "enqueued", "failed", "gone", "listed", "skippedAlreadyArchived",
            ]
        )
        #expect(
            Self.sortedKeys(json["api"]) == [
                "calls", "cappedPauses", "dailyBudgetLimit", "dailyBudgetUsed", "rateLimited", "retries",
            ]
        )
        #expect(
            Self.sortedKeys((json["failures"] as? [Any])?.first) == ["attempts", "reason", "recordingId", "willRetry"]
        )
        #expect(
            Self.sortedKeys(json["reconciliation"]) == [
                "difference", "duplicatesSkipped", "seen", "totalAtEnd", "totalAtStart",
            ]
        )
        #expect(Self.sortedKeys((json["planned"] as? [Any])?.first) == ["createdAt", "recordingId"])
    }

    @Test func archiveEventSchemaV1() throws {
        var event = ArchiveEvent(kind: .runFinished, time: Date(timeIntervalSince1970: 0), runID: "r", recordingID: "x")
        event.path = "/a"
        event.bytes = 1
        event.sha256 = "00"
        event.reason = "why"
        event.attempts = 1
        event.total = 2
        event.counts = RunReport.Counts()
        event.exitCode = 0
        event.apiBudgetRemaining = 9
        event.listingMode = "full"
        event.listingPages = 3
        let json = try Self.keys(of: event)
        #expect(json["event"] as? String == "run-finished")
        #expect(
            Self.sortedKeys(json) == [
                "apiBudgetRemaining", "attempts", "bytes", "counts", "event", "exitCode", "listingMode", "listingPages",
                "path", "reason", "recordingId", "runId", "sha256", "time", "total",
            ]
        )
        let minimal = try Self.keys(of: ArchiveEvent(kind: .listed, runID: "r"))
        #expect(Self.sortedKeys(minimal) == ["event", "runId", "time"], "absent values are omitted")
        let kinds: [ArchiveEvent.Kind] = [
            .runStarted, .listed, .recordingArchived, .recordingSkipped, .recordingFailed, .recordingDeferred,
            .recordingGone, .bytes, .runFinished,
        ]
        #expect(
            kinds.map(\.description) == [
                "run-started", "listed", "recording-archived", "recording-skipped", "recording-failed",
                "recording-deferred", "recording-gone", "bytes", "run-finished",
            ]
        )
    }

    @Test func statusSchemaV1() throws {
        let status = ArchiveStatus(
            archiveRoot: "/srv/a",
            jobs: ["archive": ["archived": 1]],
            archivesTotal: 1,
            bytesArchived: 10,
            apiBudgetUsedToday: 3,
            apiBudgetDay: "2026-01-01",
            lastRun: .init(
                runID: "r",
                command: "archive",
                startedAt: Date(timeIntervalSince1970: 0),
                finishedAt: Date(timeIntervalSince1970: 1),
                exitCode: 0,
                reportPath: "/srv/a/.userplane-archiver/runs/r.json"
            ),
            failures: [
                .init(
                    workspaceID: "w",
                    recordingID: "x",
                    state: "failed",
                    attempts: 2,
                    reason: "boom",
                    nextAttemptAt: Date(timeIntervalSince1970: 2)
                )
            ],
            activeHolds: 0,
            listings: [
                .init(
                    workspaceID: "w",
                    kind: "archive",
                    filters: "all recordings",
                    highWaterMark: Date(timeIntervalSince1970: 3),
                    lastFullListingAt: Date(timeIntervalSince1970: 4),
                    lastListingAt: Date(timeIntervalSince1970: 5),
                    lastListingMode: "incremental"
                )
            ]
        )
        let json = try Self.keys(of: status)
        #expect(json["schema"] as? String == "userplane-archiver/status/v1")
        #expect(
            Self.sortedKeys(json) == [
                "activeHolds", "apiBudgetDay", "apiBudgetUsedToday", "archiveRoot", "archivesTotal", "bytesArchived",
                "failures", "jobs", "lastRun", "listings", "missingOnDisk", "schema",
            ]
        )
        #expect(
            Self.sortedKeys((json["listings"] as? [Any])?.first) == [
                "filters", "highWaterMark", "kind", "lastFullListingAt", "lastListingAt", "lastListingMode",
                "workspaceId",
            ]
        )
        #expect(
            Self.sortedKeys(json["lastRun"]) == [
                "command", "exitCode", "finishedAt", "reportPath", "runId", "startedAt",
            ]
        )
        #expect(
            Self.sortedKeys((json["failures"] as? [Any])?.first) == [
                "attempts", "nextAttemptAt", "reason", "recordingId", "state", "workspaceId",
            ]
        )
    }
}
