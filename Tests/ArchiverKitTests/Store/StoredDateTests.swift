import ArchiverKit
import Foundation
import GRDB
import Testing

/// `StoredDate` must write exactly the text GRDB's own `Date` conversion wrote, and read back every date that
/// `state.sqlite` files written before it hold, to the same instant GRDB decoded.
@Suite struct StoredDateTests {
    /// Instants around the edges of millisecond rounding, days, years and 1970.
    static let samples: [Date] = [
        Date(timeIntervalSince1970: 1_700_000_000),
        Date(timeIntervalSince1970: 1_700_000_000.123),
        Date(timeIntervalSince1970: 1_700_000_000.1234),
        Date(timeIntervalSince1970: 1_700_000_000.9995),
        Date(timeIntervalSince1970: 1_700_000_000.0005),
        Date(timeIntervalSince1970: 946_684_799.9996),  // 1999-12-31 23:59:59.9996 rounds into 2000
        Date(timeIntervalSince1970: 0),
        Date(timeIntervalSince1970: -1234.567),
        Date(timeIntervalSince1970: 2_147_483_647.5),
        Date(timeIntervalSinceReferenceDate: 801_234_567.891_234),
        Date(timeIntervalSince1970: 1_709_164_800.25),  // 2024-02-29 00:00:00.250
    ]

    @Test(arguments: samples)
    func writesTheTextGRDBWrote(date: Date) {
        #expect(date.stored.databaseValue == date.databaseValue)
        #expect(StoredDate.text(date) == String.fromDatabaseValue(date.databaseValue))
    }

    @Test func readsRowsGRDBWroteToTheInstantGRDBRead() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (i INTEGER, at DATETIME NOT NULL, maybe DATETIME)")
            for (index, date) in Self.samples.enumerated() {
                // GRDB's own binding of a Date: the format of every state file written so far.
                try db.execute(sql: "INSERT INTO t VALUES (?, ?, NULL)", arguments: [index, date])
            }
        }
        try queue.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM t ORDER BY i")
            #expect(rows.count == Self.samples.count)
            for row in rows {
                let index: Int = row["i"]
                let grdb: Date = row["at"]
                #expect(try row.date("at", in: "t") == grdb, "row \(index)")
                #expect(abs(try row.date("at", in: "t").timeIntervalSince(Self.samples[index])) < 0.001)
                #expect(try row.optionalDate("maybe", in: "t") == nil)
                #expect(try row.optionalDate("at", in: "t") == grdb)
            }
        }
    }

    @Test(arguments: [
        "2026-04-30", "2026-04-30 12:51", "2026-04-30 12:51:30", "2026-04-30T12:51:30.5", "2026-04-30 12:51:30.123",
        "2026-04-30 12:51:30.123456789", "2026-04-30T12:51:30.9999Z", "1969-12-31 23:59:59.999",
    ])
    func readsEveryTextFormGRDBReads(text: String) throws {
        let grdb = try #require(Date.fromDatabaseValue(text.databaseValue))
        #expect(StoredDate.fromDatabaseValue(text.databaseValue)?.date == grdb)
    }

    @Test func readsNumbersAsSecondsSince1970AndRejectsTheRest() {
        #expect(
            StoredDate.fromDatabaseValue(1_700_000_000.databaseValue)?.date
                == Date(timeIntervalSince1970: 1_700_000_000)
        )
        #expect(StoredDate.fromDatabaseValue(1.5.databaseValue)?.date == Date(timeIntervalSince1970: 1.5))
        #expect(StoredDate.fromDatabaseValue(DatabaseValue.null) == nil)
        #expect(StoredDate.fromDatabaseValue("yesterday".databaseValue) == nil)
    }

    @Test func theStoreReadsARowAnEarlierReleaseWrote() async throws {
        let started = Date(timeIntervalSince1970: 1_700_000_000.9995)
        try await StoreFixtures.withStore { store, _ in
            // Written as releases before StoredDate wrote it: GRDB's own Date binding, into the store's file.
            let queue = try DatabaseQueue(path: store.path)
            try await queue.write { db in
                try db.execute(
                    sql: "INSERT INTO runs (id, command, startedAt) VALUES (?, ?, ?)",
                    arguments: ["run_old", "archive", started]
                )
            }
            let grdb = try await queue.read { db in try Date.fetchOne(db, sql: "SELECT startedAt FROM runs") }
            try queue.close()
            let runs = try await store.catalog.runs()
            #expect(runs.map(\.id) == ["run_old"])
            #expect(runs.first?.startedAt == grdb)
            #expect(runs.first?.finishedAt == nil)
        }
    }

    @Test func theStoreRoundTripsMilliseconds() async throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000.123)
        try await StoreFixtures.withStore { store, _ in
            _ = try await store.jobs.enqueue([StoreFixtures.item("rec_1", createdAt: 0.456)], now: now)
            let job = try #require(try await store.jobs.job(workspaceID: "ws_1", recordingID: "rec_1"))
            // To the millisecond, up to the last bits of the Double arithmetic (as with GRDB's own conversion).
            #expect(abs(job.enqueuedAt.timeIntervalSince(now)) < 1e-6)
            #expect(abs(job.updatedAt.timeIntervalSince(now)) < 1e-6)
            #expect(abs(job.recordingCreatedAt.timeIntervalSince1970 - 1_700_000_000.456) < 1e-6)
        }
    }
}
