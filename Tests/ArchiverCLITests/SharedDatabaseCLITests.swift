import ArchiverTestSupport
import Foundation
import Testing

/// `--database` end to end (issue 15): real binaries against a real PostgreSQL server, two "hosts" being two
/// processes with their own archive roots and one shared database.
@Suite(.postgresServer, .timeLimit(.minutes(5))) struct SharedDatabaseCLITests {
    static func archiver(
        _ arguments: [String],
        environment extra: [String: String] = [:]
    ) async throws -> ChildProcess.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["USER"] = "tester"
        environment["USERPLANE_DATABASE_URL"] = nil
        environment["PGPASSWORD"] = nil
        for (name, value) in extra { environment[name] = value }
        return try await ChildProcess.run(
            ExecutableLocator.url(of: "userplane-archiver"),
            arguments,
            environment: environment
        )
    }

    @Test func aHoldPlacedOnOneHostIsSeenFromAnother() async throws {
        let database = try await PostgresTestServer.suiteServer().createDatabase("cli")
        try await withTemporaryDirectory { directory in
            let hostA = directory.appendingPathComponent("a").path
            let hostB = directory.appendingPathComponent("b").path
            try FileManager.default.createDirectory(atPath: hostA, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: hostB, withIntermediateDirectories: true)
            let passwordFile = directory.appendingPathComponent("pgpass")
            try Data((database.password + "\n").utf8).write(to: passwordFile)
            let add = try await Self.archiver([
                "hold", "add", "rec_legal_1", "--reason", "litigation 42", "--force", "--archive", hostA,
                "--database", database.urlWithoutPassword, "--database-password-file", passwordFile.path,
            ])
            #expect(add.status == 0, "\(add.stderr)")
            // Host B names the database in the environment, with the password in PGPASSWORD.
            let list = try await Self.archiver(
                ["hold", "list", "--archive", hostB, "--json"],
                environment: ["USERPLANE_DATABASE_URL": database.urlWithoutPassword, "PGPASSWORD": database.password]
            )
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout.contains("rec_legal_1"))
            #expect(list.stdout.contains("litigation 42"))
            let status = try await Self.archiver(
                ["status", "--archive", hostB, "--json"],
                environment: ["USERPLANE_DATABASE_URL": database.url]
            )
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("\"activeHolds\" : 1"))
            for output in [add, list, status] {
                #expect(!output.stdout.contains(database.password) && !output.stderr.contains(database.password))
            }
        }
    }

    @Test func aPasswordOnTheCommandLineIsRefusedWithoutEchoingIt() async throws {
        let database = try await PostgresTestServer.suiteServer().createDatabase("argv")
        let result = try await Self.archiver(["hold", "list", "--database", database.url])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--database-password-file"))
        #expect(!result.stderr.contains(database.password))
    }

    @Test func aWrongPasswordAndANewerSchemaAreClearErrors() async throws {
        let server = try PostgresTestServer.suiteServer()
        let database = try await server.createDatabase("errors")
        let wrongPassword = "not-it-\(UUID())"
        let wrong = try await Self.archiver(
            ["hold", "list"],
            environment: ["USERPLANE_DATABASE_URL": database.urlWithoutPassword, "PGPASSWORD": wrongPassword]
        )
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("28P01"))
        #expect(!wrong.stderr.contains(wrongPassword))
        let ok = try await Self.archiver(["hold", "list"], environment: ["USERPLANE_DATABASE_URL": database.url])
        #expect(ok.status == 0, "\(ok.stderr)")
        try await server.psql(
            database: database.name,
            "INSERT INTO userplane.schema_migrations (identifier) VALUES ('pg99-from-the-future')"
        )
        let newer = try await Self.archiver(["hold", "list"], environment: ["USERPLANE_DATABASE_URL": database.url])
        #expect(newer.status == 65)
        #expect(newer.stderr.contains("newer userplane-archiver"))
        #expect(!newer.stderr.contains(database.password))
        #expect(newer.stderr.contains("postgres://\(database.role):***@"))
    }

    @Test func aHoldAddedOnOneHostIsHonouredByAPruneOnAnother() async throws {
        let server = try PostgresTestServer.suiteServer()
        let database = try await server.createDatabase("prune")
        try await withTemporaryDirectory { directory in
            let hostA = directory.appendingPathComponent("a")
            let hostB = directory.appendingPathComponent("b")
            try FileManager.default.createDirectory(at: hostA, withIntermediateDirectories: true)
            // Host B's archive root holds two old archives that the shared catalogue lists.
            for id in ["rec_held", "rec_free"] {
                let folder = hostB.appendingPathComponent("ws_1/2023/01", isDirectory: true)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try Data("tar of \(id)".utf8).write(to: folder.appendingPathComponent("\(id).tar"))
                try Data("sum of \(id)".utf8).write(to: folder.appendingPathComponent("\(id).tar.sha256"))
            }
            let environment = ["USERPLANE_DATABASE_URL": database.url]
            // The first command migrates the database; then the catalogue is seeded as archive runs would leave it.
            let first = try await Self.archiver(["hold", "list"], environment: environment)
            #expect(first.status == 0, "\(first.stderr)")
            try await server.psql(
                database: database.name,
                """
                INSERT INTO userplane.archives (workspace_id, recording_id, relative_path, size_bytes, sha256,
                    archived_at, recording_created_at)
                VALUES ('ws_1', 'rec_held', 'ws_1/2023/01/rec_held.tar', 10, repeat('a', 64), now(), '2023-01-05'),
                       ('ws_1', 'rec_free', 'ws_1/2023/01/rec_free.tar', 10, repeat('b', 64), now(), '2023-01-06')
                """
            )
            let hold = try await Self.archiver(
                ["hold", "add", "rec_held", "--reason", "subpoena", "--archive", hostA.path],
                environment: environment
            )
            #expect(hold.status == 0, "\(hold.stderr)")
            let prune = try await Self.archiver(
                ["prune", "--archive", hostB.path, "--keep-within", "30d", "--yes"],
                environment: environment
            )
            #expect(prune.status == 0, "\(prune.stderr)")
            let folder = hostB.appendingPathComponent("ws_1/2023/01").path
            #expect(FileManager.default.fileExists(atPath: folder + "/rec_held.tar"))
            #expect(!FileManager.default.fileExists(atPath: folder + "/rec_free.tar"))
            let log = try await server.psql(
                database: database.name,
                "SELECT recording_id || ':' || outcome FROM userplane.deletion_log WHERE scope = 'local' ORDER BY id"
            )
            #expect(log.contains("rec_free:deleted"))
            #expect(!log.contains("rec_held:deleted"))
        }
    }

    @Test func auditRecordsItsChecksInTheSharedDatabase() async throws {
        let server = try PostgresTestServer.suiteServer()
        let database = try await server.createDatabase("audit")
        try await withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("root")
            let folder = root.appendingPathComponent("ws_1/2023/01", isDirectory: true)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("not a tar".utf8).write(to: folder.appendingPathComponent("rec_bad.tar"))
            let environment = ["USERPLANE_DATABASE_URL": database.url]
            let first = try await Self.archiver(["hold", "list"], environment: environment)
            #expect(first.status == 0, "\(first.stderr)")
            try await server.psql(
                database: database.name,
                """
                INSERT INTO userplane.archives (workspace_id, recording_id, relative_path, size_bytes, sha256,
                    archived_at, recording_created_at)
                VALUES ('ws_1', 'rec_bad', 'ws_1/2023/01/rec_bad.tar', 9, repeat('c', 64), now(), '2023-01-05')
                """
            )
            let audit = try await Self.archiver(["audit", "--archive", root.path], environment: environment)
            #expect(audit.status == 4, "\(audit.stderr)")
            let events = try await server.psql(
                database: database.name,
                "SELECT recording_id || ':' || outcome FROM userplane.audit_events"
            )
            #expect(events.trimmingCharacters(in: .whitespacesAndNewlines) == "rec_bad:failed")
        }
    }
}
