import ArchiverPostgres
import ArchiverTestSupport
import Foundation
import Logging
import Testing

@testable import ArchiverKit

#if canImport(Glibc)
import Glibc
#endif

/// The second record of holds when the state is a shared PostgreSQL database (product.md §10): the root's
/// `holds.jsonl` or one object per event in the bucket, written in the step that changes the database (a placement
/// before the commit, a lifting after it), and replayed by `rebuild-catalog`, tampered records skipped; against a
/// real PostgreSQL server and a real S3 server (moto).
@Suite(.postgresServer, .timeLimit(.minutes(5)), .serialized) struct SecondHoldRecordTests {
    static func entry(
        _ action: HoldEvent.Action,
        _ id: String,
        at seconds: TimeInterval,
        reason: String? = "case 7"
    ) -> HoldsLog.Entry {
        HoldsLog.Entry(
            action: action,
            recordingID: id,
            workspaceID: "ws_1",
            reason: reason,
            operator: "ana",
            at: Date(timeIntervalSince1970: seconds)
        )
    }

    static func openDatabase(_ name: String, record: SecondHoldRecord?) async throws -> PostgresStateStore {
        let database = try await PostgresTestServer.suiteServer().createDatabase(name)
        return try await PostgresStateStore.open(
            try DatabaseURL(parsing: database.url),
            logger: Logger(label: "hold-record.test"),
            maximumConnections: 2,
            holdRecord: record
        )
    }

    static func destination(_ moto: MotoServer, bucket: String, lock: S3Destination.Lock?) throws -> S3Destination {
        var configuration = try S3Client.Configuration(environment: moto.environment)
        configuration.backoff = Backoff(base: .milliseconds(10), maximum: .milliseconds(50))
        return S3Destination(
            client: S3Client(bucket: bucket, configuration: configuration),
            location: S3Location(bucket: bucket, prefix: "team/archive"),
            lock: lock,
            stagingDirectory: FileManager.default.temporaryDirectory
        )
    }

    /// A placement and a lifting through the shared database each append their line to the root's `holds.jsonl`.
    @Test func holdsPlacedAndLiftedInTheDatabaseAreAppendedToTheRootsLog() async throws {
        try await withTemporaryDirectory { root in
            let store = try await Self.openDatabase("record_log", record: try .log(archiveRoot: root))
            defer { try? store.close() }
            let at = Date(timeIntervalSince1970: 1_760_000_000.25)
            #expect(
                try await store.catalog.addHold(
                    recordingID: "rec_1",
                    workspaceID: nil,
                    reason: "case 1",
                    operatorName: "ana",
                    now: at
                )
            )
            #expect(
                try await !store.catalog.addHold(
                    recordingID: "rec_1",
                    workspaceID: nil,
                    reason: "again",
                    operatorName: "ana",
                    now: at
                ),
                "an identical active hold is not placed, nor recorded, twice"
            )
            #expect(
                try await store.catalog.removeHold(
                    recordingID: "rec_1",
                    workspaceID: nil,
                    reason: "closed",
                    operatorName: "bo",
                    now: at.addingTimeInterval(1)
                )
            )
            let (entries, unreadable) = try HoldsLog(archiveRoot: root).entries()
            #expect(unreadable == 0)
            #expect(entries.map(\.action) == [.add, .remove])
            #expect(entries.map(\.reason) == ["case 1", "closed"] && entries.map(\.operator) == ["ana", "bo"])
            #expect(entries.first?.at == at)
        }
    }

    /// Holds a database got before its record existed are recorded there once, in order, by the first backfill.
    @Test func holdsPlacedBeforeTheRecordExistedAreBackfilledOnce() async throws {
        try await withTemporaryDirectory { root in
            let store = try await Self.openDatabase("record_backfill", record: nil)
            defer { try? store.close() }
            let at = Date(timeIntervalSince1970: 1_760_000_000)
            for id in ["rec_1", "rec_2"] {
                try await store.catalog.addHold(
                    recordingID: id,
                    workspaceID: nil,
                    reason: "old",
                    operatorName: "ana",
                    now: at
                )
            }
            try await store.catalog.removeHold(
                recordingID: "rec_2",
                workspaceID: nil,
                reason: nil,
                operatorName: "ana",
                now: at.addingTimeInterval(1)
            )
            let record = try SecondHoldRecord.log(archiveRoot: root)
            #expect(try await record.backfill { try await store.catalog.holdEvents() } == 3)
            #expect(
                try await record.backfill { try await store.catalog.holdEvents() } == 0,
                "only into an empty record"
            )
            let entries = try HoldsLog(archiveRoot: root).entries().entries
            #expect(entries.map(\.recordingID) == ["rec_1", "rec_2", "rec_2"])
            #expect(entries.map(\.action) == [.add, .add, .remove] && entries.last?.at == at.addingTimeInterval(1))
        }
    }

    /// A placement whose record cannot be written is rolled back, so the database never holds a hold the record
    /// lacks.
    ///
    /// A lifting is committed first and recorded after, so a failing record leaves the record one hold ahead.
    @Test func theRecordIsWrittenBeforeAPlacementCommitsAndAfterALiftingDoes() async throws {
        try await withTemporaryDirectory { root in
            let record = try SecondHoldRecord.log(archiveRoot: root)
            let log = HoldsLog(archiveRoot: root)
            let store = try await Self.openDatabase("record_order", record: record)
            defer { try? store.close() }
            let at = Date(timeIntervalSince1970: 1_760_000_000)
            #expect(
                try await store.catalog.addHold(
                    recordingID: "rec_1",
                    workspaceID: "ws_1",
                    reason: "r",
                    operatorName: "ana",
                    now: at
                )
            )

            // The log becomes unwritable: a directory in its place.
            try FileManager.default.moveItem(atPath: log.path, toPath: log.path + ".kept")
            try FileManager.default.createDirectory(atPath: log.path, withIntermediateDirectories: false)
            await #expect(throws: StoreError.self) {
                try await store.catalog.addHold(
                    recordingID: "rec_2",
                    workspaceID: "ws_1",
                    reason: "r",
                    operatorName: "ana",
                    now: at
                )
            }
            #expect(try await !store.catalog.isHeld(recordingID: "rec_2", workspaceID: "ws_1"), "rolled back")
            #expect(try await store.catalog.holdEvents().count == 1)

            let lifting = await #expect(throws: StoreError.self) {
                try await store.catalog.removeHold(
                    recordingID: "rec_1",
                    workspaceID: "ws_1",
                    reason: nil,
                    operatorName: "ana",
                    now: at
                )
            }
            #expect(lifting?.message.contains("was lifted in the database") == true, "\(String(describing: lifting))")
            #expect(lifting?.message.contains(log.path) == true)
            #expect(try await !store.catalog.isHeld(recordingID: "rec_1", workspaceID: "ws_1"), "committed first")
        }
    }

    /// `rebuild-catalog` from a local root into a new database gets back the holds recorded through the lost one.
    @Test func aLocalRootsHoldsComeBackIntoANewDatabase() async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            _ = try CatalogRebuildTests.packArchive("rec_1", root: root, scratch: scratch)
            _ = try CatalogRebuildTests.packArchive("rec_2", root: root, scratch: scratch)
            let lost = try await Self.openDatabase("record_lost", record: try .log(archiveRoot: root))
            let at = Date(timeIntervalSince1970: 1_760_000_000)
            for id in ["rec_1", "rec_2"] {
                try await lost.catalog.addHold(
                    recordingID: id,
                    workspaceID: "ws_1",
                    reason: "case 3",
                    operatorName: "ana",
                    now: at
                )
            }
            try await lost.catalog.removeHold(
                recordingID: "rec_2",
                workspaceID: "ws_1",
                reason: nil,
                operatorName: "ana",
                now: at.addingTimeInterval(2)
            )
            try lost.close()

            let fresh = try await Self.openDatabase("record_fresh", record: nil)
            defer { try? fresh.close() }
            let report = try await ArchiveStore.rebuildCatalog(archiveRoot: root, into: fresh, describing: "fresh")
            #expect(report.catalogued.count == 2 && report.holdEventsReplayed == 3 && report.activeHolds == 1)
            #expect(try await fresh.catalog.isHeld(recordingID: "rec_1", workspaceID: "ws_1"))
            #expect(try await !fresh.catalog.isHeld(recordingID: "rec_2", workspaceID: "ws_1"))
        }
    }

    /// Each event is its own object under `.userplane-archiver/holds/`, written once with the run's Object Lock.
    @Test func holdRecordsInTheBucketAreWriteOnceObjectsWithTheRunsLock() async throws {
        try await withMotoServer { moto in
            try await moto.createBucket("hold-records-locked", objectLock: true)
            let destination = try Self.destination(
                moto,
                bucket: "hold-records-locked",
                lock: .init(mode: .governance, retainFor: .seconds(86_400))
            )
            let store = try await Self.openDatabase("record_s3", record: .objects(destination))
            defer { try? store.close() }
            let at = Date(timeIntervalSince1970: 1_760_000_000.5)
            try await store.catalog.addHold(
                recordingID: "rec_1",
                workspaceID: "ws_1",
                reason: "case 5",
                operatorName: "ana",
                now: at
            )
            try await store.catalog.removeHold(
                recordingID: "rec_1",
                workspaceID: "ws_1",
                reason: "closed",
                operatorName: "ana",
                now: at.addingTimeInterval(1)
            )
            let objects = try await destination.client.list(prefix: "team/archive/.userplane-archiver/holds/")
            #expect(objects.count == 2)
            #expect(
                objects.first?.key.hasPrefix("team/archive/.userplane-archiver/holds/20251009T") == true,
                "\(objects.map(\.key))"
            )
            for object in objects {
                let lock = try await destination.client.objectLock(object.key, versionId: nil)
                #expect(lock.mode == .governance && (lock.retainUntil ?? .distantPast) > Date(), "\(object.key)")
            }
            let (entries, skipped) = try await destination.readHoldRecords(in: objects)
            #expect(skipped.isEmpty)
            #expect(entries.map(\.action) == [.add, .remove] && entries.first?.at == at)
        }
    }

    /// Records from a tampered bucket: too large, not JSON, an id with a control character, a NUL in the reason:
    /// each is skipped and described with its key escaped; the valid ones are replayed in time order, merged with
    /// the state directory's `holds.jsonl` without counting an event twice.
    @Test func tamperedHoldRecordsAreSkippedAndTheRestMergedInTimeOrder() async throws {
        try await withMotoServer { moto in
            try await withTemporaryDirectory { scratch in
                try await moto.createBucket("hold-records-tampered", objectLock: false)
                let destination = try Self.destination(moto, bucket: "hold-records-tampered", lock: nil)
                // Written out of time order: the replay orders them.
                try await destination.putHoldRecord(Self.entry(.remove, "rec_2", at: 300))
                try await destination.putHoldRecord(Self.entry(.add, "rec_2", at: 100))
                try await destination.putHoldRecord(Self.entry(.add, "rec_1", at: 200))
                let folder = "team/archive/.userplane-archiver/holds/"
                let planted: [(String, [UInt8])] = [
                    ("big\u{202E}.json", Array(repeating: 0x20, count: S3Destination.maximumHoldRecordBytes + 1)),
                    ("garbage.json", Array("not json {".utf8)),
                    ("escape.json", try HoldsLog.line(Self.entry(.remove, "rec_1\u{1B}[2J", at: 400))),
                    ("nul.json", try HoldsLog.line(Self.entry(.remove, "rec_1", at: 400, reason: "a\u{0}b"))),
                ]
                for (name, bytes) in planted {
                    _ = try await destination.client.putOnce(folder + name, bytes: bytes, contentType: "x", lock: nil)
                }
                let listing = try await destination.client.list(prefix: "team/archive/")
                let (entries, skipped) = try await destination.readHoldRecords(in: listing)
                #expect(entries.map(\.at.timeIntervalSince1970) == [100, 200, 300])
                #expect(skipped.count == 4, "\(skipped)")
                #expect(
                    !skipped.joined().contains("\u{1B}") && !skipped.joined().contains("\u{202E}"),
                    "escaped: \(skipped)"
                )
                #expect(skipped.contains { $0.contains("big\\u{202E}.json") && $0.contains("larger than") })
                #expect(skipped.contains { $0.contains("garbage.json") && $0.contains("is not a hold record") })
                #expect(skipped.contains { $0.contains("escape.json") && $0.contains("control character U+001B") })
                #expect(skipped.contains { $0.contains("nul.json") && $0.contains("NUL") })

                // The state directory's log holds one of the bucket's events too, and one of its own.
                let state = scratch.appendingPathComponent("state", isDirectory: true)
                try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
                let log = try SecondHoldRecord.log(archiveRoot: state)
                try await log.append(Self.entry(.add, "rec_2", at: 100))
                try await log.append(Self.entry(.add, "rec_3", at: 250))
                let fresh = try await Self.openDatabase("record_merge", record: nil)
                defer { try? fresh.close() }
                let report = try await destination.rebuildCatalog(into: fresh, describing: "fresh", stateRoot: state)
                #expect(report.holdEventsReplayed == 4 && report.holdRecordsReplayed == 2, "\(report)")
                #expect(report.skippedHoldRecords.count == 4)
                #expect(
                    try await fresh.catalog.holdEvents().map(\.recordingID) == ["rec_2", "rec_1", "rec_3", "rec_2"]
                )
                #expect(try await fresh.catalog.holds().map(\.recordingID).sorted() == ["rec_1", "rec_3"])
            }
        }
    }

    /// A bucket stuffed with junk under the records' folder gets the first skipped records described, then one line
    /// counting the rest; the valid record among them is still replayed.
    @Test func junkBeyondTheDescriptionCapIsCountedInOneLine() async throws {
        try await withMotoServer { moto in
            try await moto.createBucket("hold-records-junk", objectLock: false)
            let destination = try Self.destination(moto, bucket: "hold-records-junk", lock: nil)
            let cap = ArchiveStore.RebuildReport.maximumSkippedDescriptions
            for index in 0..<(cap + 5) {
                _ = try await destination.client.putOnce(
                    "team/archive/.userplane-archiver/holds/junk-\(index).json",
                    bytes: Array("[]".utf8),
                    contentType: "application/json",
                    lock: nil
                )
            }
            try await destination.putHoldRecord(Self.entry(.add, "rec_1", at: 100))
            let listing = try await destination.client.list(prefix: "team/archive/")
            let (entries, skipped) = try await destination.readHoldRecords(in: listing)
            #expect(entries.map(\.recordingID) == ["rec_1"])
            #expect(skipped.count == cap + 1)
            #expect(skipped.last == "and 5 more hold record(s) skipped (only the first ones are listed)")
        }
    }

    /// A rebuild of an `s3://` archive into a new `state.sqlite` replays the bucket's hold records too.
    @Test func holdRecordsAreReplayedIntoARebuiltStateFile() async throws {
        try await withMotoServer { moto in
            try await withTemporaryDirectory { state in
                try await moto.createBucket("hold-records-sqlite", objectLock: false)
                let destination = try Self.destination(moto, bucket: "hold-records-sqlite", lock: nil)
                try await destination.putHoldRecord(Self.entry(.add, "rec_1", at: 100))
                try await destination.putHoldRecord(Self.entry(.add, "rec_2", at: 200))
                try await destination.putHoldRecord(Self.entry(.remove, "rec_2", at: 300))
                let report = try await destination.rebuildCatalog(stateRoot: state)
                #expect(report.holdEventsReplayed == 3 && report.holdRecordsReplayed == 3 && report.activeHolds == 1)
                let store = try ArchiveStore(archiveRoot: state)
                defer { try? store.close() }
                #expect(try await store.catalog.holds().map(\.recordingID) == ["rec_1"])
                #expect(try await store.catalog.holdEvents().map(\.at.timeIntervalSince1970) == [100, 200, 300])
            }
        }
    }

    /// A tampered `holds.jsonl` (on a shared filesystem anyone with access can write): lines that decode but name an
    /// id with a control character, or hold a NUL, are reported escaped and skipped; the rest is replayed.
    @Test func tamperedLinesOfTheHoldsLogAreSkippedOnReplay() async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            _ = try CatalogRebuildTests.packArchive("rec_1", root: root, scratch: scratch)
            let log = try SecondHoldRecord.log(archiveRoot: root)
            try await log.append(Self.entry(.add, "rec_1", at: 100))
            try await log.append(Self.entry(.remove, "rec_1\u{1B}]0;x\u{7}", at: 200))
            try await log.append(Self.entry(.remove, "rec_1", at: 300, reason: "lifted\u{0}"))
            let report = try await ArchiveStore.rebuildCatalog(archiveRoot: root)
            #expect(report.holdEventsReplayed == 1 && report.activeHolds == 1, "\(report)")
            #expect(report.skippedHoldRecords.count == 2, "\(report.skippedHoldRecords)")
            #expect(report.skippedHoldRecords.first?.contains("control character U+001B") == true)
            #expect(report.skippedHoldRecords.last?.contains("NUL") == true)
            #expect(!report.skippedHoldRecords.joined().contains("\u{1B}"))
        }
    }

    /// The merge keeps the log's own order, puts the bucket's records between by time, and drops duplicates.
    @Test func theMergeKeepsTheLogsOrderAndDropsDuplicates() {
        let log = [Self.entry(.add, "a", at: 10), Self.entry(.remove, "a", at: 10), Self.entry(.add, "b", at: 30)]
        let bucket = [Self.entry(.add, "x", at: 5), Self.entry(.remove, "a", at: 10), Self.entry(.add, "y", at: 20)]
        let merged = ArchiveStore.merge(log: log, bucket: bucket)
        #expect(merged.map(\.entry.recordingID) == ["x", "a", "a", "y", "b"])
        #expect(merged.map(\.fromBucket) == [true, false, false, true, false])
    }

    /// A line torn by a crash mid-append no longer swallows the next complete line.
    @Test func anAppendAfterATornLineStartsALineOfItsOwn() async throws {
        try await withTemporaryDirectory { directory in
            let log = HoldsLog(databasePath: directory.appendingPathComponent("state.sqlite").path)
            try log.append(Self.entry(.add, "rec_1", at: 1))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log.path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(#"{"action":"add","recor"#.utf8))
            try handle.close()
            try log.append(Self.entry(.add, "rec_2", at: 2))
            let (entries, unreadable) = try log.entries()
            #expect(entries.map(\.recordingID) == ["rec_1", "rec_2"] && unreadable == 1)
        }
    }
}
