import ArchiverKit
import ArchiverPostgres
import ArchiverTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite(.postgresServer, .timeLimit(.minutes(5))) struct PostgresMigrationTests {
    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        let database = try await PostgresTestDatabase.create("mig")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    try await PostgresTestDatabase.with(database, connections: 2) { _ in }
                }
            }
            try await group.waitForAll()
        }
        let server = try PostgresTestServer.suiteServer()
        let applied = try await server.psql(
            database: database.name,
            "SELECT identifier FROM userplane.schema_migrations ORDER BY identifier"
        )
        #expect(applied.split(separator: "\n") == ["pg1-queue-catalog-holds", "pg2-shared-pacer", "pg3-s3-objects"])
        let owner = try await server.psql(
            database: database.name,
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'userplane' AND tablename = 'jobs'"
        )
        #expect(owner.trimmingCharacters(in: .whitespacesAndNewlines) == database.role)
    }

    @Test func aDatabaseMigratedByANewerArchiverIsRefused() async throws {
        let database = try await PostgresTestDatabase.create("future")
        try await PostgresTestDatabase.with(database) { _ in }
        let server = try PostgresTestServer.suiteServer()
        try await server.psql(
            database: database.name,
            "INSERT INTO userplane.schema_migrations (identifier) VALUES ('pg99-from-the-future')"
        )
        let error = await #expect(throws: StoreError.self) {
            try await PostgresTestDatabase.with(database) { _ in }
        }
        #expect(error?.code == .newerSchema)
        #expect(error?.message.contains("pg99-from-the-future") == true)
        #expect(error?.message.contains(database.password) == false)
    }

    @Test func appendOnlyTablesRefuseUpdatesAndDeletes() async throws {
        let database = try await PostgresTestDatabase.create("append")
        try await PostgresTestDatabase.with(database) { store in
            try await store.rows(
                """
                INSERT INTO deletion_log (recording_id, workspace_id, archive_path, archive_sha256, at, scope, outcome)
                VALUES ('rec', 'ws', 'p.tar', 'abc', clock_timestamp(), 'local', 'deleted')
                """,
                doing: "test"
            )
            await #expect(throws: StoreError.self) {
                try await store.rows("UPDATE deletion_log SET outcome = 'x'", doing: "test")
            }
            await #expect(throws: StoreError.self) {
                try await store.rows("DELETE FROM deletion_log", doing: "test")
            }
            let count = try await store.rows("SELECT count(*)::bigint FROM deletion_log", doing: "test")
            #expect(try count.first?[0].decode(Int64.self) == 1)
        }
    }

    @Test func aWrongPasswordIsAClearErrorWithoutThePassword() async throws {
        let database = try await PostgresTestDatabase.create("auth")
        var url = try DatabaseURL(parsing: database.url)
        url.password = "not-the-password-\(UUID().uuidString)"
        let wrong = url.password ?? ""
        let error = await #expect(throws: StoreError.self) {
            _ = try await PostgresStoreDatabase.open(url, logger: PostgresTestDatabase.logger)
        }
        #expect(error?.code == .cannotOpen)
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("28P01"))
        #expect(text.contains("--database-password-file"))
        #expect(text.contains(url.redacted.description))
        #expect(!text.contains(wrong))
    }

    @Test func anUnreachableServerFailsAtOnce() async throws {
        let url = try DatabaseURL(parsing: "postgres://nobody:secret-pw@127.0.0.1:1/x?sslmode=disable")
        let error = await #expect(throws: StoreError.self) {
            _ = try await PostgresStoreDatabase.open(url, logger: PostgresTestDatabase.logger)
        }
        #expect(error?.code == .cannotOpen)
        #expect(error.map { "\($0)" }?.contains("secret-pw") == false)
    }
}
