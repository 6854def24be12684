import ArchiverPostgres
import ArchiverTestSupport
import Foundation
import Logging
import Testing

@testable import ArchiverKit

/// `rebuild-catalog` into a shared PostgreSQL database (a lost or reset one), from a local root and from an S3
/// bucket, against a real PostgreSQL server (and moto for S3): the catalog, the S3 object records and the holds
/// come back; a database that already holds a catalog is refused and left as it was.
@Suite(.postgresServer, .timeLimit(.minutes(5)), .serialized) struct SharedCatalogRebuildTests {
    static func openDatabase(_ name: String) async throws -> (store: PostgresStateStore, url: DatabaseURL) {
        let database = try await PostgresTestServer.suiteServer().createDatabase(name)
        let url = try DatabaseURL(parsing: database.url)
        let store = try await PostgresStateStore.open(url, logger: Logger(label: "rebuild.test"), maximumConnections: 2)
        return (store, url)
    }

    @Test func localRootIsRebuiltIntoAnEmptyDatabaseWithTheHoldsLog() async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let first = try CatalogRebuildTests.packArchive("rec_1", root: root, scratch: scratch)
            _ = try CatalogRebuildTests.packArchive("rec_2", root: root, scratch: scratch)
            // A tampered archive: verified, reported, left out.
            let tampered = try CatalogRebuildTests.packArchive("rec_3", root: root, scratch: scratch)
            let handle = try FileHandle(forWritingTo: tampered.tarURL)
            try handle.seek(toOffset: 2048)
            try handle.write(contentsOf: Data("tampered".utf8))
            try handle.close()
            // The holds log the root kept while its state was SQLite: one hold placed, one placed and lifted.
            _ = try PrivateFile.makeDirectories([ArchiveStore.stateDirectoryName], under: root.path)
            let log = HoldsLog(databasePath: ArchiveStore.databaseURL(archiveRoot: root).path)
            let at = Date(timeIntervalSince1970: 1_750_000_000)
            try log.append(
                .init(
                    action: .add,
                    recordingID: "rec_1",
                    workspaceID: "ws_1",
                    reason: "case 9",
                    operator: "ana",
                    at: at
                )
            )
            try log.append(
                .init(action: .add, recordingID: "rec_2", workspaceID: nil, reason: "x", operator: "bo", at: at)
            )
            try log.append(
                .init(action: .remove, recordingID: "rec_2", workspaceID: nil, reason: nil, operator: "bo", at: at)
            )

            let (store, url) = try await Self.openDatabase("rebuild_local")
            defer { try? store.close() }
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let report = try await ArchiveStore.rebuildCatalog(
                archiveRoot: root,
                into: store,
                describing: "\(url)",
                now: now
            )
            #expect(report.catalogued.sorted() == ["ws_1/2024/05/rec_1.tar", "ws_1/2024/05/rec_2.tar"], "\(report)")
            #expect(report.rejected.map(\.path) == [tampered.tarURL.path])
            #expect(report.holdEventsReplayed == 3)
            #expect(report.activeHolds == 1)

            let archives = try await store.catalog.allArchives()
            #expect(archives.map(\.recordingID).sorted() == ["rec_1", "rec_2"])
            let rec1 = try #require(archives.first { $0.recordingID == "rec_1" })
            #expect(
                rec1.sha256 == first.sha256 && rec1.verifiedAt == now && rec1.relativePath == "ws_1/2024/05/rec_1.tar"
            )
            #expect(try await store.catalog.isHeld(recordingID: "rec_1", workspaceID: "ws_1"))
            #expect(try await !store.catalog.isHeld(recordingID: "rec_2", workspaceID: "ws_1"))
            let events = try await store.catalog.holdEvents()
            #expect(events.map(\.at) == [at, at, at], "replayed at their own time")
            #expect(events.first?.operatorName == "ana" && events.first?.reason == "case 9")
            #expect(try log.entries().entries.count == 3, "the replay appends nothing to the root's log")

            let again = await #expect(throws: StoreError.self) {
                try await ArchiveStore.rebuildCatalog(archiveRoot: root, into: store, describing: "\(url)", now: now)
            }
            #expect(again?.code == .catalogIntact)
            #expect(again?.message.contains("already holds a catalog (2 archive(s), 3 hold event(s))") == true)
            #expect(try await store.catalog.holdEvents().count == 3, "the refusal wrote nothing")
        }
    }

    /// Two hosts rebuilding into one database: while one holds the rebuild lock, the real binary's
    /// `rebuild-catalog --database` on another is refused (exit 1) and writes nothing; once it is released, it runs.
    @Test func oneRebuildAtATimePerDatabase() async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            _ = try CatalogRebuildTests.packArchive("rec_1", root: root, scratch: scratch)
            let database = try await PostgresTestServer.suiteServer().createDatabase("rebuild_lock")
            let url = try DatabaseURL(parsing: database.url)
            let store = try await PostgresStateStore.open(
                url,
                logger: Logger(label: "rebuild.test"),
                maximumConnections: 3
            )
            defer { try? store.close() }
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("USERPLANE_") }
            environment["USERPLANE_DATABASE_URL"] = database.url
            func rebuild() async throws -> ChildProcess.Result {
                try await ChildProcess.run(
                    ExecutableLocator.url(of: "userplane-archiver"),
                    ["rebuild-catalog", "--archive", root.path],
                    environment: environment
                )
            }
            let refused = try await store.whileRebuilding { try await rebuild() }
            #expect(refused.status == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains("another rebuild-catalog is filling"), "\(refused.stderr)")
            #expect(!refused.stderr.contains(database.password))
            #expect(try await store.catalog.allArchives().isEmpty, "the refused rebuild wrote nothing")
            let rebuilt = try await rebuild()
            #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
            #expect(try await store.catalog.allArchives().map(\.recordingID) == ["rec_1"])
        }
    }

    @Test func holdEventsAloneMakeTheDatabaseNotEmpty() async throws {
        try await withTemporaryDirectory { root in
            let (store, url) = try await Self.openDatabase("rebuild_holds")
            defer { try? store.close() }
            try await store.catalog.addHold(
                recordingID: "rec_9",
                workspaceID: nil,
                reason: "placed before the rebuild",
                operatorName: "ana",
                now: Date()
            )
            let refused = await #expect(throws: StoreError.self) {
                try await ArchiveStore.rebuildCatalog(archiveRoot: root, into: store, describing: "\(url)")
            }
            #expect(refused?.code == .catalogIntact)
        }
    }

    @Test func s3ArchiveIsRebuiltIntoAnEmptyDatabase() async throws {
        try await withMotoServer { moto in
            try await withTemporaryDirectory { directory in
                try await moto.createBucket("rebuild-shared", objectLock: true)
                let destination = try S3CatalogRebuildMotoTests.destination(
                    moto,
                    bucket: "rebuild-shared",
                    staging: directory
                )
                let lock = S3ObjectLock(mode: .compliance, retainUntil: Date().addingTimeInterval(3600))
                let held = try await S3CatalogRebuildMotoTests.upload(
                    try S3CatalogRebuildMotoTests.pack("rec_1", scratch: directory),
                    as: "ws_1/2024/05/rec_1.tar",
                    to: destination,
                    lock: lock
                )
                try await destination.client.setLegalHold(
                    destination.location.key("ws_1/2024/05/rec_1.tar"),
                    versionId: held.tar.versionId,
                    on: true
                )
                try await S3CatalogRebuildMotoTests.upload(
                    try S3CatalogRebuildMotoTests.pack("rec_2", scratch: directory),
                    as: "ws_1/2024/05/rec_2.tar",
                    to: destination
                )

                let (store, url) = try await Self.openDatabase("rebuild_s3")
                defer { try? store.close() }
                let state = directory.appendingPathComponent("state", isDirectory: true)
                let report = try await destination.rebuildCatalog(into: store, describing: "\(url)", stateRoot: state)
                #expect(report.catalogued == ["ws_1/2024/05/rec_1.tar", "ws_1/2024/05/rec_2.tar"], "\(report)")
                #expect(report.rejected.isEmpty, "\(report.rejected)")
                #expect(report.legalHoldsFromS3 == 1)
                #expect(try await store.catalog.allArchives().count == 2)
                let objects = try await store.catalog.s3Objects()
                let locked = try #require(objects.first { $0.recordingID == "rec_1" })
                #expect(locked.versionId == held.tar.versionId && locked.versionId != nil)
                #expect(locked.sidecarVersionId == held.sidecar.versionId)
                #expect(locked.etag == held.tar.etag)
                #expect(locked.lockMode == "COMPLIANCE" && locked.retainUntil != nil)
                let plain = try #require(objects.first { $0.recordingID == "rec_2" })
                #expect(plain.lockMode == nil && plain.retainUntil == nil)
                #expect(try await store.catalog.isHeld(recordingID: "rec_1", workspaceID: "ws_1"))
                #expect(try await !store.catalog.isHeld(recordingID: "rec_2", workspaceID: "ws_1"))
                #expect(
                    !FileManager.default.fileExists(atPath: ArchiveStore.databaseURL(archiveRoot: state).path),
                    "no SQLite state is written next to a shared database"
                )

                let again = await #expect(throws: StoreError.self) {
                    try await destination.rebuildCatalog(into: store, describing: "\(url)", stateRoot: state)
                }
                #expect(again?.code == .catalogIntact)
            }
        }
    }
}
