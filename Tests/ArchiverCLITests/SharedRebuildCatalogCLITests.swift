import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// `rebuild-catalog` for archives beyond one machine, end to end with the real binary, the simulator, a real S3
/// server (moto) and a real PostgreSQL server: a lost state directory of an `s3://` archive, and a reset shared
/// database, are rebuilt from the archives; the next `archive` run downloads and stores nothing again, and a held
/// recording stays held.
@Suite(.postgresServer, .timeLimit(.minutes(10)), .serialized) struct SharedRebuildCatalogCLITests {
    static func versions(_ moto: MotoServer, bucket: String, prefix: String) async throws -> [S3ListedObject] {
        let client = S3Client(bucket: bucket, configuration: try .init(environment: moto.environment))
        return try await client.listVersions(prefix: prefix + "/")
    }

    /// The S3 archive's state directory is lost whole (catalog and `holds.jsonl`): the rebuild restores the catalog
    /// from the objects and the hold from the S3 legal hold.
    @Test func s3ArchiveWhoseStateDirectoryIsLostIsRebuiltFromTheBucket() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 3)) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { directory in
                    try await moto.createBucket("rebuild-cli", objectLock: true)
                    let target = "s3://rebuild-cli/p"
                    let lost = directory.appendingPathComponent("lost-state", isDirectory: true)
                    let logs = EndToEnd.logDirectory(directory)
                    let environment = S3ArchiveCLITests.environment(simulator, moto, stateHome: directory)
                    let archiveArguments = S3ArchiveCLITests.archive(
                        simulator,
                        target,
                        ["--object-lock", "governance", "--retain-for", "1d"]
                    )
                    let first = try await ArchiverProcess.run(
                        archiveArguments + ["--state-dir", lost.path],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(first.status == 0, "\(first.stderr.suffix(3000))")
                    let archivable = simulator.archivableRecordingIDs()
                    let held = try #require(archivable.sorted().first)
                    let hold = try await ArchiverProcess.run(
                        ["hold", "add", held, "--archive", target, "--state-dir", lost.path, "--reason", "case 24"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(hold.status == 0, "\(hold.output.suffix(2000))")
                    let versions = try await Self.versions(moto, bucket: "rebuild-cli", prefix: "p")
                    let blobs = simulator.counters().blobRequests

                    try FileManager.default.removeItem(at: lost)
                    let state = directory.appendingPathComponent("new-state", isDirectory: true)
                    let unsafe = try await ArchiverProcess.run(
                        archiveArguments + ["--state-dir", state.path],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(unsafe.status == 65, "\(unsafe.output.suffix(3000))")
                    #expect(
                        unsafe.stderr.contains("rebuild-catalog --archive \(target) --state-dir \(state.path)"),
                        "the refusal names the command that restores the catalog: \(unsafe.stderr.suffix(2000))"
                    )
                    let rebuild = try await ArchiverProcess.run(
                        ["rebuild-catalog", "--archive", target, "--state-dir", state.path, "--json"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(rebuild.status == 0, "\(rebuild.output.suffix(3000))")
                    let document = try JSONSerialization.jsonObject(with: Data(rebuild.stdout.utf8)) as? [String: Any]
                    #expect((document?["catalogued"] as? [String])?.count == archivable.count, "\(rebuild.stdout)")
                    #expect(document?["legalHoldsFromS3"] as? Int == 1)
                    #expect(document?["activeHolds"] as? Int == 1)
                    #expect(!rebuild.output.contains(moto.secretAccessKey))

                    let store = try ArchiveStore(archiveRoot: state)
                    #expect(Set(try await store.catalog.allArchives().map(\.recordingID)) == Set(archivable))
                    let objects = try await store.catalog.s3Objects()
                    let tars = Dictionary(
                        versions.filter { $0.key.hasSuffix(".tar") }.map { ($0.key, $0.versionId) },
                        uniquingKeysWith: { first, _ in first }
                    )
                    #expect(objects.count == archivable.count)
                    for object in objects {
                        #expect(object.versionId != nil && object.versionId == tars[object.key], "\(object.key)")
                        #expect(object.lockMode == "GOVERNANCE" && object.etag != nil)
                    }
                    #expect(try await store.catalog.isHeld(recordingID: held, workspaceID: simulator.workspaceID))
                    try store.close()

                    let again = try await ArchiverProcess.run(
                        archiveArguments + ["--state-dir", state.path],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(again.status == 0, "\(again.stderr.suffix(3000))")
                    #expect(simulator.counters().blobRequests == blobs, "nothing is downloaded again")
                    #expect(
                        try await Self.versions(moto, bucket: "rebuild-cli", prefix: "p").count == versions.count,
                        "no new object version"
                    )
                    let list = try await ArchiverProcess.run(
                        ["hold", "list", "--archive", target, "--state-dir", state.path],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(list.status == 0 && list.stdout.contains(held), "\(list.output.suffix(2000))")

                    let refused = try await ArchiverProcess.run(
                        ["rebuild-catalog", "--archive", target, "--state-dir", state.path],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(refused.status == 1, "\(refused.output.suffix(2000))")
                    #expect(refused.stderr.contains("opens cleanly"))
                }
            }
        }
    }

    /// A shared database reset under an S3 archive: rebuilt into a new, empty database, after which `archive`
    /// against it stores nothing again; a rebuild into a database that holds a catalog is refused.
    @Test func s3ArchiveIsRebuiltIntoAResetSharedDatabase() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 3, seed: 11)) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { directory in
                    let server = try PostgresTestServer.suiteServer()
                    let original = try await server.createDatabase("lost")
                    try await moto.createBucket("rebuild-shared-cli", objectLock: false)
                    let target = "s3://rebuild-shared-cli/q"
                    let logs = EndToEnd.logDirectory(directory)
                    var environment = S3ArchiveCLITests.environment(simulator, moto, stateHome: directory)
                    environment["USERPLANE_DATABASE_URL"] = original.url
                    let archiveArguments = S3ArchiveCLITests.archive(simulator, target)
                    let first = try await ArchiverProcess.run(
                        archiveArguments,
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(first.status == 0, "\(first.stderr.suffix(3000))")
                    let versions = try await Self.versions(moto, bucket: "rebuild-shared-cli", prefix: "q")
                    let blobs = simulator.counters().blobRequests

                    // The database is lost; the hosts are pointed at a new, empty one.
                    let reset = try await server.createDatabase("reset")
                    environment["USERPLANE_DATABASE_URL"] = reset.url
                    // Archiving into the empty database is refused, as with a missing state.sqlite.
                    let unsafe = try await ArchiverProcess.run(
                        archiveArguments,
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(unsafe.status == 65, "\(unsafe.output.suffix(3000))")
                    #expect(unsafe.stderr.contains("rebuild-catalog --archive \(target) --database URL"))
                    #expect(simulator.counters().blobRequests == blobs, "the refused run downloads nothing")
                    let rebuild = try await ArchiverProcess.run(
                        ["rebuild-catalog", "--archive", target],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(rebuild.status == 0, "\(rebuild.output.suffix(3000))")
                    let archivable = simulator.archivableRecordingIDs()
                    #expect(
                        rebuild.stdout.contains("\(archivable.count) archive(s) catalogued, 0 rejected"),
                        "\(rebuild.stdout)"
                    )
                    #expect(rebuild.stdout.contains("into postgres://"), "\(rebuild.stdout)")
                    #expect(!rebuild.output.contains(reset.password))

                    let status = try await ArchiverProcess.run(
                        ["status", "--archive", target, "--json"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(status.status == 0, "\(status.stderr.suffix(2000))")
                    let summary = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
                    #expect(summary?["archivesTotal"] as? Int == archivable.count, "\(status.stdout)")
                    #expect((summary?["missingOnDisk"] as? [Any])?.isEmpty == true, "every object is in the bucket")

                    let again = try await ArchiverProcess.run(
                        archiveArguments,
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(again.status == 0, "\(again.stderr.suffix(3000))")
                    #expect(simulator.counters().blobRequests == blobs, "nothing is downloaded again")
                    #expect(
                        try await Self.versions(moto, bucket: "rebuild-shared-cli", prefix: "q").count
                            == versions.count
                    )

                    environment["USERPLANE_DATABASE_URL"] = original.url
                    let refused = try await ArchiverProcess.run(
                        ["rebuild-catalog", "--archive", target],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(refused.status == 1, "\(refused.output.suffix(2000))")
                    #expect(refused.stderr.contains("already holds a catalog (\(archivable.count) archive(s)"))
                }
            }
        }
    }

    /// `--database` with a local root: the root's archives and `holds.jsonl` go into the empty database.
    @Test func localRootIsRebuiltIntoTheSharedDatabase() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 3, seed: 5)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                let logs = EndToEnd.logDirectory(directory)
                let environment = EndToEnd.environment(simulator)
                let first = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root),
                    environment: environment,
                    logDirectory: logs
                )
                #expect(first.status == 0, "\(first.stderr.suffix(3000))")
                let held = try #require(simulator.archivableRecordingIDs().sorted().first)
                let hold = try await ArchiverProcess.run(
                    ["hold", "add", held, "--archive", root.path, "--reason", "case 24"],
                    environment: environment,
                    logDirectory: logs
                )
                #expect(hold.status == 0, "\(hold.output.suffix(2000))")

                let database = try await PostgresTestServer.suiteServer().createDatabase("fromroot")
                let passwordFile = directory.appendingPathComponent("pgpass")
                try Data((database.password + "\n").utf8).write(to: passwordFile)
                let shared = ["--database", database.urlWithoutPassword, "--database-password-file", passwordFile.path]
                let blobs = simulator.counters().blobRequests
                let unsafe = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root, shared),
                    environment: environment,
                    logDirectory: logs
                )
                #expect(unsafe.status == 65, "\(unsafe.output.suffix(3000))")
                #expect(unsafe.stderr.contains("rebuild-catalog --archive \(root.path) --database URL"))
                #expect(simulator.counters().blobRequests == blobs, "the refused run downloads nothing")
                let rebuild = try await ArchiverProcess.run(
                    ["rebuild-catalog", "--archive", root.path, "--json"] + shared,
                    environment: environment,
                    logDirectory: logs
                )
                #expect(rebuild.status == 0, "\(rebuild.output.suffix(3000))")
                let document = try JSONSerialization.jsonObject(with: Data(rebuild.stdout.utf8)) as? [String: Any]
                let archivable = simulator.archivableRecordingIDs()
                #expect((document?["catalogued"] as? [String])?.count == archivable.count, "\(rebuild.stdout)")
                #expect(document?["activeHolds"] as? Int == 1)

                let list = try await ArchiverProcess.run(
                    ["hold", "list", "--archive", root.path, "--json"] + shared,
                    environment: environment,
                    logDirectory: logs
                )
                #expect(list.status == 0 && list.stdout.contains(held) && list.stdout.contains("case 24"))
                let status = try await ArchiverProcess.run(
                    ["status", "--archive", root.path, "--json"] + shared,
                    environment: environment,
                    logDirectory: logs
                )
                #expect(status.status == 0, "\(status.stderr.suffix(2000))")
                let summary = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
                #expect(summary?["archivesTotal"] as? Int == archivable.count, "\(status.stdout)")

                let refused = try await ArchiverProcess.run(
                    ["rebuild-catalog", "--archive", root.path] + shared,
                    environment: environment,
                    logDirectory: logs
                )
                #expect(refused.status == 1, "\(refused.output.suffix(2000))")
                #expect(refused.stderr.contains("already holds a catalog"))
                #expect(!refused.output.contains(database.password))
            }
        }
    }
}
