import Foundation
import GRDB

extension CatalogStore {
    /// The listing mark of a workspace, job kind and filter set, if a complete listing was ever recorded.
    ///
    /// - Throws: ``StoreError``.
    package func listingMark(kind: JobKind, workspaceID: String, filterHash: String) async throws -> ListingMark? {
        try await database.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM listing_marks WHERE kind = ? AND workspaceId = ? AND filterHash = ?",
                arguments: [kind.rawValue, workspaceID, filterHash]
            ).map(ListingMark.init(row:))
        }
    }

    /// Every listing mark, by workspace, kind and filters.
    ///
    /// - Throws: ``StoreError``.
    package func listingMarks() async throws -> [ListingMark] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM listing_marks ORDER BY workspaceId, kind, filters, filterHash")
                .map(ListingMark.init(row:))
        }
    }

    /// Records a complete listing: the high-water mark only ever moves forward, and a listing that
    /// read the whole list stamps ``ListingMark/lastFullListingAt``.
    ///
    /// - Parameter mark: The listing's outcome; its `highWaterMark` is merged with the stored one (the
    ///   later wins) and a `nil` `lastFullListingAt` keeps the stored one.
    /// - Returns: The mark as stored.
    /// - Throws: ``StoreError``.
    @discardableResult
    package func recordListing(_ mark: ListingMark) async throws -> ListingMark {
        try await database.write { db in
            let existing = try Row.fetchOne(
                db,
                sql: "SELECT * FROM listing_marks WHERE kind = ? AND workspaceId = ? AND filterHash = ?",
                arguments: [mark.kind.rawValue, mark.workspaceID, mark.filterHash]
            ).map(ListingMark.init(row:))
            var merged = mark
            if let stored = existing?.highWaterMark {
                merged.highWaterMark = max(stored, mark.highWaterMark ?? stored)
            }
            merged.lastFullListingAt = mark.lastFullListingAt ?? existing?.lastFullListingAt
            try db.execute(
                sql: """
                    INSERT INTO listing_marks (kind, workspaceId, filterHash, filters, highWaterMark, lastListingAt,
                        lastListingMode, lastFullListingAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (kind, workspaceId, filterHash) DO UPDATE SET
                        filters = excluded.filters, highWaterMark = excluded.highWaterMark,
                        lastListingAt = excluded.lastListingAt, lastListingMode = excluded.lastListingMode,
                        lastFullListingAt = excluded.lastFullListingAt
                    """,
                arguments: [
                    merged.kind.rawValue, merged.workspaceID, merged.filterHash, merged.filters,
                    merged.highWaterMark.stored,
                    merged.lastListingAt.stored, merged.lastListingMode.rawValue, merged.lastFullListingAt.stored,
                ]
            )
            return merged
        }
    }
}

extension ListingMark {
    /// Decodes a `listing_marks` row.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/newerSchema`` for a kind this version does not know.
    init(row: Row) throws {
        let kindValue: String = row["kind"]
        guard let kind = JobKind(stored: kindValue) else {
            throw StoreError(
                code: .newerSchema,
                message: "a listing mark has unknown kind '\(kindValue)'; "
                    + "was state.sqlite written by a newer userplane-archiver?"
            )
        }
        self.init(
            kind: kind,
            workspaceID: row["workspaceId"],
            filterHash: row["filterHash"],
            filters: row["filters"],
            highWaterMark: try row.optionalDate("highWaterMark", in: "listing_marks"),
            lastListingAt: try row.date("lastListingAt", in: "listing_marks"),
            lastListingMode: ListingPlan.Mode(rawValue: row["lastListingMode"]),
            lastFullListingAt: try row.optionalDate("lastFullListingAt", in: "listing_marks")
        )
    }
}
