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
}
