import Foundation
import Testing

@testable import ArchiverKit

/// Pins the exact bytes of the JSON documents whose ids keep the `Id` spelling (issue 11).
///
/// The Swift types spell ids `recordingID`, `workspaceID` and `runID`; the run report, `--json` events,
/// `status --json`, retention and audit reports and `verify --json` verdicts keep `recordingId`,
/// `workspaceId` and `runId`. Each golden is encoded the way the product writes it (sorted keys,
/// pretty-printed, ISO 8601 dates) and decoded back where the type is decodable, so a renamed property
/// without its coding key fails.
@Suite(.timeLimit(.minutes(1))) struct ReportJSONGoldenTests {
    static let epoch = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    static func encoded(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decoded<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: Data(json.utf8))
    }

    static var runReport: RunReport {
        var report = RunReport(
            runID: "run-1",
            command: "archive",
            workspaceID: "ws_1",
            arguments: ["archive", "--api-key", "<redacted>"],
            startedAt: epoch
        )
        report.finishedAt = epoch.addingTimeInterval(60)
        report.counts.listed = 3
        report.failures = [.init(recordingID: "rec_1", reason: "boom", attempts: 2, willRetry: true)]
        report.planned = [.init(recordingID: "rec_2", createdAt: epoch)]
        report.exitCode = 3
        return report
    }

    @Test func runReport() throws {
        let golden = """
            {
              "api" : {
                "calls" : 0,
                "cappedPauses" : 0,
                "dailyBudgetLimit" : 0,
                "dailyBudgetUsed" : 0,
                "rateLimited" : 0,
                "retries" : 0
              },
              "arguments" : [
                "archive",
                "--api-key",
                "<redacted>"
              ],
              "bytesArchived" : 0,
              "bytesDownloaded" : 0,
              "command" : "archive",
              "counts" : {
                "archived" : 0,
                "deferred" : 0,
                "enqueued" : 0,
                "failed" : 0,
                "gone" : 0,
                "listed" : 3,
                "skippedAlreadyArchived" : 0
              },
              "dryRun" : false,
              "exitCode" : 3,
              "failures" : [
                {
                  "attempts" : 2,
                  "reason" : "boom",
                  "recordingId" : "rec_1",
                  "willRetry" : true
                }
              ],
              "finishedAt" : "2026-01-01T00:01:00Z",
              "planned" : [
                {
                  "createdAt" : "2026-01-01T00:00:00Z",
                  "recordingId" : "rec_2"
                }
              ],
              "reconciliation" : {
                "duplicatesSkipped" : 0,
                "seen" : 0
              },
              "runId" : "run-1",
              "schema" : "userplane-archiver/run-report/v1",
              "startedAt" : "2026-01-01T00:00:00Z",
              "workspaceId" : "ws_1"
            }
            """
        #expect(try Self.encoded(Self.runReport) == golden)
        #expect(String(decoding: try RunReportWriter.encode(Self.runReport), as: UTF8.self) == golden + "\n")
        #expect(try Self.decoded(RunReport.self, golden) == Self.runReport)
    }

    @Test func archiveEvent() throws {
        var event = ArchiveEvent(kind: .recordingFailed, time: Self.epoch, runID: "run-1", recordingID: "rec_1")
        event.reason = "boom"
        event.attempts = 2
        #expect(
            try Self.encoded(event) == """
                {
                  "attempts" : 2,
                  "event" : "recording-failed",
                  "reason" : "boom",
                  "recordingId" : "rec_1",
                  "runId" : "run-1",
                  "time" : "2026-01-01T00:00:00Z"
                }
                """
        )
    }

    static var status: ArchiveStatus {
        ArchiveStatus(
            archiveRoot: "/srv/a",
            jobs: ["archive": ["failed": 1]],
            archivesTotal: 1,
            bytesArchived: 10,
            apiBudgetUsedToday: 3,
            apiBudgetDay: "2026-01-01",
            lastRun: .init(
                runID: "run-1",
                command: "archive",
                startedAt: epoch,
                finishedAt: nil,
                exitCode: 3,
                reportPath: nil
            ),
            failures: [
                .init(
                    workspaceID: "ws_1",
                    recordingID: "rec_1",
                    state: "failed",
                    attempts: 2,
                    reason: nil,
                    nextAttemptAt: nil
                )
            ],
            activeHolds: 0,
            listings: [
                .init(
                    workspaceID: "ws_1",
                    kind: "archive",
                    filters: "all recordings",
                    highWaterMark: nil,
                    lastFullListingAt: nil,
                    lastListingAt: epoch,
                    lastListingMode: "full"
                )
            ],
            missingOnDisk: [.init(workspaceID: "ws_1", recordingID: "rec_9", archivePath: "ws_1/rec_9.tar")]
        )
    }

    @Test func status() throws {
        let golden = """
            {
              "activeHolds" : 0,
              "apiBudgetDay" : "2026-01-01",
              "apiBudgetUsedToday" : 3,
              "archiveRoot" : "/srv/a",
              "archivesTotal" : 1,
              "bytesArchived" : 10,
              "failures" : [
                {
                  "attempts" : 2,
                  "recordingId" : "rec_1",
                  "state" : "failed",
                  "workspaceId" : "ws_1"
                }
              ],
              "jobs" : {
                "archive" : {
                  "failed" : 1
                }
              },
              "lastRun" : {
                "command" : "archive",
                "exitCode" : 3,
                "runId" : "run-1",
                "startedAt" : "2026-01-01T00:00:00Z"
              },
              "listings" : [
                {
                  "filters" : "all recordings",
                  "kind" : "archive",
                  "lastListingAt" : "2026-01-01T00:00:00Z",
                  "lastListingMode" : "full",
                  "workspaceId" : "ws_1"
                }
              ],
              "missingOnDisk" : [
                {
                  "archivePath" : "ws_1/rec_9.tar",
                  "recordingId" : "rec_9",
                  "workspaceId" : "ws_1"
                }
              ],
              "schema" : "userplane-archiver/status/v1"
            }
            """
        #expect(try Self.encoded(Self.status) == golden)
        #expect(try Self.encoded(Self.decoded(ArchiveStatus.self, golden)) == golden)
    }

    static var retentionReport: RetentionReport {
        var report = RetentionReport(
            runID: "run-2",
            command: .deleteRemote,
            arguments: ["delete-remote", "--older-than", "30d"],
            dryRun: false,
            policy: "30d",
            cutoff: epoch,
            workspaceID: "ws_1",
            startedAt: epoch
        )
        let archive = ArchiveRecord(
            workspaceID: "ws_1",
            recordingID: "rec_1",
            relativePath: "ws_1/rec_1.tar",
            sizeBytes: 10,
            sha256: "ab",
            archivedAt: epoch,
            recordingCreatedAt: epoch.addingTimeInterval(-86_400)
        )
        report.append(.init(archive, action: .deleted, reason: "older than 30d", httpStatus: 200, at: epoch))
        report.finishedAt = epoch.addingTimeInterval(1)
        return report
    }

    @Test func retentionReport() throws {
        let golden = """
            {
              "arguments" : [
                "delete-remote",
                "--older-than",
                "30d"
              ],
              "command" : "delete-remote",
              "counts" : {
                "deleted" : 1
              },
              "cutoff" : "2026-01-01T00:00:00Z",
              "dryRun" : false,
              "entries" : [
                {
                  "action" : "deleted",
                  "archivePath" : "ws_1/rec_1.tar",
                  "archiveSha256" : "ab",
                  "at" : "2026-01-01T00:00:00Z",
                  "httpStatus" : 200,
                  "reason" : "older than 30d",
                  "recordingCreatedAt" : "2025-12-31T00:00:00Z",
                  "recordingId" : "rec_1",
                  "workspaceId" : "ws_1"
                }
              ],
              "finishedAt" : "2026-01-01T00:00:01Z",
              "policy" : "30d",
              "runId" : "run-2",
              "schema" : "userplane-archiver/retention-report/v1",
              "startedAt" : "2026-01-01T00:00:00Z",
              "workspaceId" : "ws_1"
            }
            """
        #expect(try Self.encoded(Self.retentionReport) == golden)
        #expect(String(decoding: try Self.retentionReport.encoded(), as: UTF8.self) == golden + "\n")
        #expect(try Self.decoded(RetentionReport.self, golden) == Self.retentionReport)
    }

    static var auditReport: AuditReport {
        var report = AuditReport(
            runID: "run-3",
            arguments: ["audit", "--all"],
            archiveRoot: "/srv/a",
            selection: "all",
            startedAt: epoch
        )
        let event = AuditEvent(
            workspaceID: "ws_1",
            recordingID: "rec_1",
            archivePath: "ws_1/rec_1.tar",
            at: epoch,
            outcome: .failed,
            expectedSha256: "ab",
            observedSha256: "cd",
            problems: ["digest mismatch"],
            toolVersion: "userplane-archiver 0.1.0",
            runID: "run-3"
        )
        report.entries = [.init(event, sizeBytes: 10)]
        report.failed = 1
        return report
    }

    @Test func auditReport() throws {
        let golden = """
            {
              "archiveRoot" : "/srv/a",
              "archivesInCatalog" : 0,
              "arguments" : [
                "audit",
                "--all"
              ],
              "bytesRead" : 0,
              "command" : "audit",
              "entries" : [
                {
                  "archivePath" : "ws_1/rec_1.tar",
                  "at" : "2026-01-01T00:00:00Z",
                  "expectedSha256" : "ab",
                  "observedSha256" : "cd",
                  "outcome" : "failed",
                  "problems" : [
                    "digest mismatch"
                  ],
                  "recordingId" : "rec_1",
                  "sizeBytes" : 10,
                  "workspaceId" : "ws_1"
                }
              ],
              "exitCode" : 0,
              "failed" : 1,
              "missing" : 0,
              "notReached" : 0,
              "ok" : 0,
              "runId" : "run-3",
              "schema" : "userplane-archiver/audit-report/v1",
              "selected" : 0,
              "selection" : "all",
              "startedAt" : "2026-01-01T00:00:00Z",
              "unknownOnDisk" : [

              ]
            }
            """
        #expect(try Self.encoded(Self.auditReport) == golden)
        #expect(String(decoding: try Self.auditReport.encoded(), as: UTF8.self) == golden + "\n")
        #expect(try Self.decoded(AuditReport.self, golden) == Self.auditReport)
    }

    static var verification: ArchiveVerification {
        ArchiveVerification(
            path: "ws_1/rec_1.tar",
            recordingID: "rec_1",
            sha256: "ab",
            memberCount: 7,
            payloadBytes: 100,
            problems: [.init(code: .digestMismatch, member: "data/video.webm", message: "SHA-256 differs")]
        )
    }

    @Test func verification() throws {
        let golden = """
            {
              "isValid" : false,
              "memberCount" : 7,
              "path" : "ws_1/rec_1.tar",
              "payloadBytes" : 100,
              "problems" : [
                {
                  "code" : "digest-mismatch",
                  "member" : "data/video.webm",
                  "message" : "SHA-256 differs"
                }
              ],
              "recordingId" : "rec_1",
              "sha256" : "ab"
            }
            """
        #expect(try Self.encoded(Self.verification) == golden)
        #expect(try Self.decoded(ArchiveVerification.self, golden) == Self.verification)
    }
}
