import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// Listing marks in a real `state.sqlite`, reopened.
@Suite struct ListingMarkStoreTests {
    static func mark(_ highWaterMark: Date?, at: Date, full: Date?, filterHash: String = "h1") -> ListingMark {
        ListingMark(
            kind: "archive",
            workspaceId: "ws_1",
            filterHash: filterHash,
            filters: "all recordings",
            highWaterMark: highWaterMark,
            lastListingAt: at,
            lastListingMode: full == nil ? "incremental" : "full",
            lastFullListingAt: full
        )
    }

    @Test func theHighWaterMarkOnlyMovesForwardAndSurvivesAReopen() async throws {
        let t0 = StoreFixtures.referenceDate
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            #expect(try await store.catalog.listingMark(kind: "archive", workspaceID: "ws_1", filterHash: "h1") == nil)
            try await store.catalog.recordListing(Self.mark(t0, at: t0, full: t0))
            // An incremental listing that saw nothing newer (the newest were deleted) keeps the mark and the
            // last full listing.
            let kept = try await store.catalog.recordListing(
                Self.mark(t0.addingTimeInterval(-100), at: t0.addingTimeInterval(60), full: nil)
            )
            #expect(kept.highWaterMark == t0)
            #expect(kept.lastFullListingAt == t0)
            #expect(kept.lastListingMode == "incremental")
            try await store.catalog.recordListing(
                Self.mark(t0.addingTimeInterval(500), at: t0.addingTimeInterval(120), full: nil)
            )
            try await store.catalog.recordListing(Self.mark(nil, at: t0, full: t0, filterHash: "h2"))
            try store.close()

            let reopened = try ArchiveStore(archiveRoot: root)
            let stored = try #require(
                try await reopened.catalog.listingMark(kind: "archive", workspaceID: "ws_1", filterHash: "h1")
            )
            #expect(stored.highWaterMark == t0.addingTimeInterval(500))
            #expect(stored.lastFullListingAt == t0)
            #expect(stored.lastListingAt == t0.addingTimeInterval(120))
            #expect(try await reopened.catalog.listingMarks().map(\.filterHash) == ["h1", "h2"])
            try reopened.close()
        }
    }
}
