import ArchiverTestSupport
import Foundation
import Synchronization
import Testing

@testable import ArchiverKit

/// `audit` on real archives packed into a real archive root with a real SQLite catalog.
@Suite(.timeLimit(.minutes(3))) struct FixityAuditTests {
    private struct SimulatedCrash: Error {}

    private static func audit(
        _ root: URL,
        _ store: ArchiveStore,
        _ selection: FixityAudit.Selection = .all,
        olderThan: TimeInterval? = nil,
        maxDuration: Duration? = nil
    ) -> FixityAudit {
        var configuration = FixityAudit.Configuration(runID: "audit-\(UUID().uuidString.prefix(8))")
        configuration.selection = selection
        configuration.olderThanLastCheck = olderThan
        configuration.maxDuration = maxDuration
        return FixityAudit(root: root, store: store, configuration: configuration)
    }

    @discardableResult
    private static func archives(_ names: [String], root: URL, store: ArchiveStore) async throws -> [ArchiveRecord] {
        var records: [ArchiveRecord] = []
        for (index, name) in names.enumerated() {
            records.append(
                try await RetentionFixture.archive(name, ageDays: Double(10 + index), root: root, store: store)
            )
        }
        return records
    }

    @Test func repeatedSampledRunsRotateThroughEveryArchiveOldestCheckFirst() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            try await Self.archives(["rec_a", "rec_b", "rec_c", "rec_d", "rec_e"], root: root, store: store)

            var order: [[String]] = []
            for _ in 0..<4 {
                let report = try await Self.audit(root, store, .sample(2)).run()
                #expect(report.outcome == .completed)
                #expect(report.ok == 2 && report.failed == 0 && report.missing == 0)
                order.append(report.entries.map(\.recordingID))
            }
            // Never-audited first (ties by path), then the longest since the last check.
            #expect(order == [["rec_a", "rec_b"], ["rec_c", "rec_d"], ["rec_e", "rec_a"], ["rec_b", "rec_c"]])
            let events = try await store.catalog.auditEvents()
            #expect(events.map(\.recordingID) == order.flatMap { $0 })
            #expect(events.allSatisfy { $0.outcome == .ok && $0.observedSha256 == $0.expectedSha256 })
            #expect(events.allSatisfy { $0.toolVersion == "userplane-archiver \(ArchiverKitVersion.version)" })
        }
    }

    @Test func fractionRoundsUpAndOlderThanLastCheckSkipsRecentChecks() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            try await Self.archives(["rec_a", "rec_b", "rec_c"], root: root, store: store)
            let first = try await Self.audit(root, store, .fraction(0.5)).run()
            #expect(first.entries.map(\.recordingID) == ["rec_a", "rec_b"])  // ceil(3 × 0.5)
            // Checked a moment ago: only the never-audited archive is older than one day.
            let second = try await Self.audit(root, store, olderThan: 86_400).run()
            #expect(second.entries.map(\.recordingID) == ["rec_c"])
            let third = try await Self.audit(root, store, olderThan: 86_400).run()
            #expect(third.entries.isEmpty && third.selected == 0 && third.outcome == .completed)
        }
    }

    @Test func tamperedAndMissingArchivesFailWithExitCode4AndUnknownFilesAreReported() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let records = try await Self.archives(["rec_ok", "rec_bad", "rec_gone"], root: root, store: store)
            // Tamper: flip one byte in the middle of rec_bad's tar.
            let bad = root.appendingPathComponent(records[1].relativePath)
            var bytes = try Data(contentsOf: bad)
            bytes[bytes.count / 2] ^= 0xFF
            try bytes.write(to: bad)
            // Missing: rec_gone's tar and sidecar are removed behind the catalog's back.
            let gone = root.appendingPathComponent(records[2].relativePath)
            try FileManager.default.removeItem(at: gone)
            try FileManager.default.removeItem(atPath: gone.path + ".sha256")
            // Unknown: a tar the catalog does not name.
            let stray = root.appendingPathComponent("ws_1/stray.tar")
            try FileManager.default.copyItem(at: root.appendingPathComponent(records[0].relativePath), to: stray)

            let report = try await Self.audit(root, store).run()

            #expect(report.outcome == .verificationFailed)
            #expect(report.ok == 1 && report.failed == 1 && report.missing == 1)
            #expect(report.unknownOnDisk == ["ws_1/stray.tar"])
            let outcomes = Dictionary(uniqueKeysWithValues: report.entries.map { ($0.recordingID, $0.outcome) })
            #expect(outcomes == ["rec_ok": "ok", "rec_bad": "failed", "rec_gone": "missing"])
            let events = try await store.catalog.auditEvents()
            let badEvent = try #require(events.first { $0.recordingID == "rec_bad" })
            #expect(badEvent.outcome == .failed && !badEvent.problems.isEmpty)
            #expect(badEvent.observedSha256 != nil && badEvent.observedSha256 != badEvent.expectedSha256)
            let goneEvent = try #require(events.first { $0.recordingID == "rec_gone" })
            #expect(goneEvent.outcome == .missing && goneEvent.observedSha256 == nil)
            #expect(report.coverage?.failing == 2)
            let metrics = report.prometheusText
            #expect(metrics.contains("userplane_archiver_last_audit_failures 2\n"))
            #expect(metrics.contains("userplane_archiver_last_audit_archives_checked 2\n"))
            #expect(metrics.contains("userplane_archiver_last_audit_timestamp_seconds "))
            #expect(metrics.contains("userplane_archiver_audit_oldest_check_age_seconds "))
        }
    }

    @Test func anArchivePrunedFromTheCatalogIsNotMissing() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let records = try await Self.archives(["rec_kept", "rec_pruned"], root: root, store: store)
            let pruned = root.appendingPathComponent(records[1].relativePath)
            try FileManager.default.removeItem(at: pruned)
            try FileManager.default.removeItem(atPath: pruned.path + ".sha256")
            try await store.catalog.recordDeletion(
                DeletionLogEntry(
                    recordingID: "rec_pruned",
                    workspaceID: "ws_1",
                    archivePath: records[1].relativePath,
                    archiveSha256: records[1].sha256,
                    at: Date(),
                    scope: .local,
                    outcome: .deleted
                )
            )
            let report = try await Self.audit(root, store).run()
            #expect(report.outcome == .completed && report.missing == 0 && report.archivesInCatalog == 1)
            #expect(report.entries.map(\.recordingID) == ["rec_kept"])
        }
    }

    /// A tar that vanishes after the presence check, while another archive is read, is missing (and so checked
    /// against the catalog for a prune), not a failed read.
    @Test func aTarThatVanishesDuringTheAuditIsMissingNotFailed() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let records = try await Self.archives(["rec_a", "rec_b"], root: root, store: store)
            let vanishing = root.appendingPathComponent(records[1].relativePath).path
            let report = try await Self.audit(root, store).run { event in
                if event.recordingID == "rec_a" { #expect(unlink(vanishing) == 0) }
            }
            #expect(report.entries.map(\.recordingID) == ["rec_a", "rec_b"])
            #expect(report.ok == 1 && report.missing == 1 && report.failed == 0, "\(report.entries)")
            #expect(report.entries.last?.problems == ["\(records[1].relativePath) is in the catalog but not on disk"])
        }
    }

    /// A catalogued tar replaced by a symbolic link to an intact copy fails the audit: the link is never followed.
    @Test func aTarReplacedByASymlinkFailsWithoutBeingFollowed() async throws {
        try await withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("root", isDirectory: true)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: false)
            let store = try ArchiveStore(archiveRoot: root)
            let records = try await Self.archives(["rec_a", "rec_link"], root: root, store: store)
            let tar = root.appendingPathComponent(records[1].relativePath)
            let elsewhere = directory.appendingPathComponent("elsewhere.tar")
            try FileManager.default.moveItem(at: tar, to: elsewhere)
            try FileManager.default.createSymbolicLink(at: tar, withDestinationURL: elsewhere)
            let report = try await Self.audit(root, store, .sample(1)).run()
            #expect(report.outcome == .verificationFailed)
            #expect(report.ok == 1 && report.failed == 1 && report.missing == 0, "\(report.entries)")
            let failed = report.entries.first { $0.recordingID == "rec_link" }
            #expect(failed?.problems.first?.hasPrefix("unreadable: cannot open the tar") == true, "\(report.entries)")
            #expect(report.unknownOnDisk.isEmpty)
        }
    }

    @Test func eventsSurviveReopenAndAreAppendOnly() async throws {
        try await withTemporaryDirectory { root in
            let before: [AuditEvent]
            do {
                let store = try ArchiveStore(archiveRoot: root)
                try await Self.archives(["rec_a", "rec_b"], root: root, store: store)
                _ = try await Self.audit(root, store).run()
                before = try await store.catalog.auditEvents()
                try store.close()
            }
            let reopened = try ArchiveStore(archiveRoot: root)
            let after = try await reopened.catalog.auditEvents()
            #expect(after.count == 2)
            #expect(after == before)
            await #expect(throws: StoreError.self) { try await reopened.execute(sql: "DELETE FROM audit_events") }
            await #expect(throws: StoreError.self) {
                try await reopened.execute(sql: "UPDATE audit_events SET outcome = 'failed'")
            }
            #expect(try await reopened.catalog.auditEvents() == before)
        }
    }

    /// A run that dies after its second check (as a crash would) leaves exactly two whole events; the next run
    /// re-reads the archives the dead run never reached first.
    @Test func aCrashMidAuditLeavesWholeEventsAndTheNextRunContinues() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            try await Self.archives(["rec_a", "rec_b", "rec_c", "rec_d"], root: root, store: store)
            let seen = Mutex(0)
            await #expect(throws: SimulatedCrash.self) {
                _ = try await Self.audit(root, store).run(onEvent: { _ in
                    let count = seen.withLock {
                        $0 += 1
                        return $0
                    }
                    if count == 2 { throw SimulatedCrash() }
                })
            }
            let events = try await store.catalog.auditEvents()
            #expect(events.map(\.recordingID) == ["rec_a", "rec_b"])
            #expect(events.allSatisfy { $0.outcome == .ok && $0.observedSha256 == $0.expectedSha256 })

            let next = try await Self.audit(root, store, .sample(2)).run()
            #expect(next.entries.map(\.recordingID) == ["rec_c", "rec_d"])
            #expect(try await store.catalog.auditEvents().count == 4)
        }
    }

    @Test func maxDurationReachedStopsBeforeTheNextCheck() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            try await Self.archives(["rec_a", "rec_b"], root: root, store: store)
            let report = try await Self.audit(root, store, maxDuration: .zero).run()
            #expect(report.entries.isEmpty && report.selected == 2 && report.notReached == 2)
            #expect(report.stoppedEarly?.hasPrefix("max-duration") == true)
            #expect(report.outcome == .completed)
        }
    }

    @Test func coverageCountsArchivesReReadCleanWithinTheWindow() {
        let now = RetentionFixture.now
        let day = RetentionFixture.day
        func record(_ id: String, verifiedDaysAgo: Double) -> ArchiveRecord {
            ArchiveRecord(
                workspaceID: "ws_1",
                recordingID: id,
                relativePath: "ws_1/\(id).tar",
                sizeBytes: 1,
                sha256: "00",
                archivedAt: now.addingTimeInterval(-400 * day),
                verifiedAt: now.addingTimeInterval(-verifiedDaysAgo * day),
                recordingCreatedAt: now.addingTimeInterval(-400 * day)
            )
        }
        func event(
            _ id: String,
            daysAgo: Double,
            _ outcome: AuditEvent.Outcome
        ) -> (ArchiveKey, AuditEvent) {
            (
                ArchiveKey(workspaceID: "ws_1", recordingID: id),
                AuditEvent(
                    workspaceID: "ws_1",
                    recordingID: id,
                    archivePath: "ws_1/\(id).tar",
                    at: now.addingTimeInterval(-daysAgo * day),
                    outcome: outcome,
                    expectedSha256: "00",
                    observedSha256: "00",
                    problems: [],
                    toolVersion: "test",
                    runID: nil
                )
            )
        }
        let archives = [
            record("recent", verifiedDaysAgo: 300), record("stale", verifiedDaysAgo: 300),
            record("never", verifiedDaysAgo: 10), record("broken", verifiedDaysAgo: 300),
        ]
        let latest = Dictionary(uniqueKeysWithValues: [
            event("recent", daysAgo: 5, .ok), event("stale", daysAgo: 41, .ok), event("broken", daysAgo: 1, .failed),
        ])
        let coverage = AuditCoverage.compute(archives: archives, latest: latest, windowDays: 30, now: now)
        #expect(coverage.archives == 4)
        #expect(coverage.reReadWithinWindow == 2)  // recent (audit 5 d ago) and never (packed 10 d ago)
        #expect(coverage.percent == 50)
        #expect(coverage.neverAudited == 1 && coverage.failing == 1)
        #expect(coverage.oldestCheckAgeSeconds == 41 * day)
        #expect(coverage.lastAuditAt == now.addingTimeInterval(-day))
        #expect(coverage.summary.hasPrefix("every archive re-read within 30 d: 50 % (2 of 4), oldest check 41 d ago"))
        let empty = AuditCoverage.compute(archives: [], latest: [:], windowDays: 30, now: now)
        #expect(empty.percent == 100 && empty.oldestCheckAt == nil)
    }

    @Test func readRatesParseWithBinaryAndDecimalUnits() {
        #expect(FixityAudit.parseRate("50MiB/s") == 50 << 20)
        #expect(FixityAudit.parseRate("10MB/s") == 10_000_000)
        #expect(FixityAudit.parseRate("1GiB/s") == 1 << 30)
        #expect(FixityAudit.parseRate("4096") == 4096)
        #expect(FixityAudit.parseRate("512k") == 512 << 10)
        #expect(FixityAudit.parseRate("fast") == nil)
        #expect(FixityAudit.parseRate("0MiB/s") == nil)
        #expect(FixityAudit.parseRate("-5MB/s") == nil)
    }
}
