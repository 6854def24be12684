package import Foundation
import GRDB

extension CatalogStore {
    /// Records the start of a run.
    ///
    /// - Throws: ``StoreError``.
    package func startRun(id: String, command: String, startedAt: Date) async throws {
        try await database.write { db in
            try db.execute(
                sql: "INSERT INTO runs (id, command, startedAt) VALUES (?, ?, ?)",
                arguments: [id, command, startedAt.stored]
            )
        }
    }

    /// Records the end of a run.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/notFound`` for an unknown run id.
    package func finishRun(
        id: String,
        finishedAt: Date,
        exitCode: Int,
        reportPath: String?,
        counts: RunCounts?
    ) async throws {
        let changed = try await database.write { db in
            try db.execute(
                sql: "UPDATE runs SET finishedAt = ?, exitCode = ?, reportPath = ?, counts = ? WHERE id = ?",
                arguments: [finishedAt.stored, exitCode, reportPath, counts?.storedText, id]
            )
            return db.changesCount
        }
        if changed == 0 { throw StoreError(code: .notFound, message: "run \(id) was never started") }
    }

    /// Runs, most recent first.
    ///
    /// - Throws: ``StoreError``.
    package func runs(limit: Int = 100) async throws -> [RunRecord] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM runs ORDER BY startedAt DESC, rowid DESC LIMIT ?",
                arguments: [limit]
            )
            .map { row in
                let counts: String? = row["counts"]
                return RunRecord(
                    id: row["id"],
                    command: row["command"],
                    startedAt: try row.date("startedAt", in: "runs"),
                    finishedAt: try row.optionalDate("finishedAt", in: "runs"),
                    exitCode: row["exitCode"],
                    reportPath: row["reportPath"],
                    counts: counts.flatMap(RunCounts.init(storedText:))
                )
            }
        }
    }
}
