import ArchiverKit
import ArchiverPostgres
import ArchiverTestSupport
import Foundation
import Logging
import Testing
import UserplaneSimulator

/// Legal holds placed with `--database` survive the loss of that database (product.md §10), end to end with the
/// real binary, the simulator, a real PostgreSQL server and a real S3 server (moto): `hold add/remove` record every
/// event a second time where the archives are (the root's `holds.jsonl`, or objects in the bucket); after the
/// database is lost, `rebuild-catalog` into a new one brings the holds back and `prune` keeps the held archive.
@Suite(.postgresServer, .timeLimit(.minutes(10)), .serialized) struct SharedHoldRecordCLITests {
    static func pruneReport(_ stdout: String) throws -> RetentionReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(RetentionReport.self, from: Data(stdout.utf8))
    }

    /// Places a hold in `database` as an archiver older than the second record did: in the database only.
    static func placeHoldInTheDatabaseOnly(_ id: String, database: PostgresTestServer.Database) async throws {
        let store = try await PostgresStateStore.open(
            try DatabaseURL(parsing: database.url),
            logger: Logger(label: "hold-record.cli.test"),
            maximumConnections: 1
        )
        defer { try? store.close() }
        try await store.catalog.addHold(
            recordingID: id,
            workspaceID: nil,
            reason: "placed before the record",
            operatorName: "old",
            now: Date(timeIntervalSinceNow: -60)
        )
    }

    /// A local root: the events are lines of the root's `holds.jsonl`, replayed into the new database.
    @Test func holdsOfALocalRootComeBackAfterTheDatabaseIsLost() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 3, seed: 31)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                let logs = EndToEnd.logDirectory(directory)
                let environment = EndToEnd.environment(simulator)
                let server = try PostgresTestServer.suiteServer()
                let lost = try await server.createDatabase("holdrec_lost")
                let passwordFile = directory.appendingPathComponent("pgpass")
                try Data((lost.password + "\n").utf8).write(to: passwordFile)
                let shared = ["--database", lost.urlWithoutPassword, "--database-password-file", passwordFile.path]
                let first = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root, shared),
                    environment: environment,
                    logDirectory: logs
                )
                #expect(first.status == 0, "\(first.stderr.suffix(3000))")
                let ids = simulator.archivableRecordingIDs().sorted()
                try #require(ids.count >= 3)
                let (held, lifted, older) = (ids[0], ids[1], ids[2])
                // A hold the database got before the record existed: the next hold command backfills it.
                try await Self.placeHoldInTheDatabaseOnly(older, database: lost)
                for arguments in [
                    ["hold", "add", held, "--reason", "case 31"],
                    ["hold", "add", lifted, "--reason", "case 32"],
                    ["hold", "remove", lifted, "--reason", "closed"],
                ] {
                    let result = try await ArchiverProcess.run(
                        arguments + ["--archive", root.path] + shared,
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(result.status == 0, "\(arguments): \(result.output.suffix(2000))")
                }
                let log = try Data(contentsOf: root.appendingPathComponent(".userplane-archiver/holds.jsonl"))
                let entries = log.split(separator: 0x0A).compactMap { HoldsLog.entry(decoding: $0) }
                #expect(
                    entries.map(\.action) == [.add, .add, .add, .remove],
                    "\(String(decoding: log, as: UTF8.self))"
                )
                #expect(entries.map(\.recordingID) == [older, held, lifted, lifted])
                #expect(entries.map(\.reason) == ["placed before the record", "case 31", "case 32", "closed"])

                // The database is lost: a new, empty one is rebuilt from the archives and the root's record.
                let fresh = try await server.createDatabase("holdrec_fresh")
                try Data((fresh.password + "\n").utf8).write(to: passwordFile)
                let rebuiltShared = [
                    "--database", fresh.urlWithoutPassword, "--database-password-file", passwordFile.path,
                ]
                let rebuild = try await ArchiverProcess.run(
                    ["rebuild-catalog", "--archive", root.path, "--json"] + rebuiltShared,
                    environment: environment,
                    logDirectory: logs
                )
                #expect(rebuild.status == 0, "\(rebuild.output.suffix(3000))")
                let document = try JSONSerialization.jsonObject(with: Data(rebuild.stdout.utf8)) as? [String: Any]
                #expect(document?["holdEventsReplayed"] as? Int == 4, "\(rebuild.stdout)")
                #expect(document?["activeHolds"] as? Int == 2, "\(rebuild.stdout)")

                let prune = try await ArchiverProcess.run(
                    ["prune", "--archive", root.path, "--keep-within", "1s", "--yes", "--json"] + rebuiltShared,
                    environment: environment,
                    logDirectory: logs
                )
                #expect(prune.status == 0, "\(prune.output.suffix(3000))")
                let report = try Self.pruneReport(prune.stdout)
                for id in [held, older] {
                    #expect(report.entries.first { $0.recordingID == id }?.action == .held, "\(prune.stdout)")
                }
                #expect(report.entries.first { $0.recordingID == lifted }?.action == .deleted, "\(prune.stdout)")
                let tars = RetentionCLITests.tars(under: root).filter { $0.hasSuffix(".tar") }
                #expect(
                    tars.map { ($0 as NSString).lastPathComponent }.sorted()
                        == ["\(held).tar", "\(older).tar"].sorted()
                )
            }
        }
    }

    /// An `s3://` archive: every event is its own object under `PREFIX/.userplane-archiver/holds/`; a tampered one
    /// is reported (escaped) and skipped, the rest replayed into the new database.
    @Test func holdsOfAnS3ArchiveComeBackAfterTheDatabaseIsLost() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 4, seed: 37)) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { directory in
                    let server = try PostgresTestServer.suiteServer()
                    let lost = try await server.createDatabase("holdrec_s3_lost")
                    // No Object Lock: no S3 legal hold brings the hold back, only the hold records can.
                    try await moto.createBucket("holdrec-cli", objectLock: false)
                    let target = "s3://holdrec-cli/p"
                    let logs = EndToEnd.logDirectory(directory)
                    var environment = S3ArchiveCLITests.environment(simulator, moto, stateHome: directory)
                    environment["USERPLANE_DATABASE_URL"] = lost.url
                    let first = try await ArchiverProcess.run(
                        S3ArchiveCLITests.archive(simulator, target),
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(first.status == 0, "\(first.stderr.suffix(3000))")
                    let ids = simulator.archivableRecordingIDs().sorted()
                    try #require(ids.count >= 2)
                    let (held, lifted) = (ids[0], ids[1])
                    // Held in the database before the record existed: the next hold command backfills it, and
                    // `hold add` of it again adds nothing.
                    try await Self.placeHoldInTheDatabaseOnly(held, database: lost)
                    for arguments in [
                        ["hold", "add", held, "--reason", "case 41"],
                        ["hold", "add", lifted, "--reason", "case 42"],
                        ["hold", "remove", lifted, "--reason", "closed"],
                    ] {
                        let result = try await ArchiverProcess.run(
                            arguments + ["--archive", target],
                            environment: environment,
                            logDirectory: logs
                        )
                        #expect(result.status == 0, "\(arguments): \(result.output.suffix(2000))")
                    }
                    let client = S3Client(
                        bucket: "holdrec-cli",
                        configuration: try .init(environment: moto.environment)
                    )
                    let folder = "p/.userplane-archiver/holds/"
                    let records = try await client.list(prefix: folder)
                    #expect(records.count == 3, "\(records.map(\.key))")
                    var actions: [HoldEvent.Action] = []
                    for record in records {
                        let bytes = try #require(try await client.getSmall(record.key))
                        actions += [try #require(HoldsLog.entry(decoding: bytes))].map(\.action)
                    }
                    #expect(actions.sorted { $0.rawValue < $1.rawValue } == [.add, .add, .remove])
                    // A tampered record: it would lift the hold, but names an id no hold command stores.
                    let tampered = HoldsLog.Entry(
                        action: .remove,
                        recordingID: held + "\u{1B}[2J",
                        workspaceID: nil,
                        reason: nil,
                        operator: "mallory",
                        at: Date()
                    )
                    _ = try await client.putOnce(
                        folder + "29990101T000000.000Z-\u{202E}evil.json",
                        bytes: try HoldsLog.line(tampered),
                        contentType: "application/json",
                        lock: nil
                    )

                    let fresh = try await server.createDatabase("holdrec_s3_fresh")
                    environment["USERPLANE_DATABASE_URL"] = fresh.url
                    let rebuild = try await ArchiverProcess.run(
                        ["rebuild-catalog", "--archive", target],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(rebuild.status == 0, "a skipped record is a warning: \(rebuild.output.suffix(3000))")
                    #expect(rebuild.stdout.contains("3 hold event(s) replayed, 1 active hold(s)"), "\(rebuild.stdout)")
                    #expect(rebuild.stdout.contains("warning: hold record skipped: s3://holdrec-cli/p/"))
                    #expect(rebuild.stdout.contains("\\u{202E}evil.json") && rebuild.stdout.contains("U+001B"))
                    #expect(!rebuild.output.contains("\u{1B}") && !rebuild.output.contains("\u{202E}"))

                    let prune = try await ArchiverProcess.run(
                        ["prune", "--archive", target, "--keep-within", "1s", "--yes", "--json"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(prune.status == 0, "\(prune.output.suffix(3000))")
                    let report = try Self.pruneReport(prune.stdout)
                    #expect(report.entries.first { $0.recordingID == held }?.action == .held, "\(prune.stdout)")
                    #expect(report.entries.first { $0.recordingID == lifted }?.action == .deleted, "\(prune.stdout)")
                    let tars = try await client.list(prefix: "p/").map(\.key).filter { $0.hasSuffix(".tar") }
                    #expect(tars.count == 1 && tars.first?.hasSuffix("/\(held).tar") == true, "\(tars)")
                }
            }
        }
    }

    /// With `object_lock`/`retain_for` configured, the hold records are locked like the archives: write-once.
    @Test func holdRecordsGetTheConfiguredObjectLock() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 2, seed: 43)) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { directory in
                    let database = try await PostgresTestServer.suiteServer().createDatabase("holdrec_locked")
                    try await moto.createBucket("holdrec-locked", objectLock: true)
                    let target = "s3://holdrec-locked/p"
                    let config = directory.appendingPathComponent("config.toml")
                    try Data("object_lock = \"governance\"\nretain_for = \"1d\"\n".utf8).write(to: config)
                    let logs = EndToEnd.logDirectory(directory)
                    var environment = S3ArchiveCLITests.environment(simulator, moto, stateHome: directory)
                    environment["USERPLANE_DATABASE_URL"] = database.url
                    let first = try await ArchiverProcess.run(
                        S3ArchiveCLITests.archive(simulator, target, ["--config", config.path]),
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(first.status == 0, "\(first.stderr.suffix(3000))")
                    let held = try #require(simulator.archivableRecordingIDs().sorted().first)
                    let hold = try await ArchiverProcess.run(
                        ["hold", "add", held, "--archive", target, "--reason", "case 51", "--config", config.path],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(hold.status == 0, "\(hold.output.suffix(2000))")
                    let client = S3Client(
                        bucket: "holdrec-locked",
                        configuration: try .init(environment: moto.environment)
                    )
                    let records = try await client.list(prefix: "p/.userplane-archiver/holds/")
                    let record = try #require(records.first)
                    #expect(records.count == 1)
                    let lock = try await client.objectLock(record.key, versionId: nil)
                    #expect(lock.mode == .governance, "\(lock)")
                    #expect((lock.retainUntil ?? .distantPast) > Date().addingTimeInterval(23 * 3600), "\(lock)")
                }
            }
        }
    }
}
