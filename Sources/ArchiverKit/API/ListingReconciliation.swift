public import Foundation

/// What a finished listing saw compared with what the server said it would see (product.md §6, §9).
public struct ListingReconciliation: Sendable, Hashable {
    /// Distinct recording ids seen across all pages (before the client-side date filter).
    public var uniqueIds: Int
    /// Items skipped because their id was already seen (insertions during listing shift items onto
    /// the next page; re-fetched pages repeat items).
    public var duplicatesSkipped: Int
    /// Items that could not be decoded (no id or no parseable `createdAt`).
    public var undecodableItems: Int
    /// Recordings yielded (passing every filter).
    public var matched: Int
    /// Pages fetched (list calls), re-fetched pages included.
    public var pagesFetched: Int
    /// `pagination.total` on the first page.
    public var firstPageTotal: Int?
    /// `pagination.total` on the last page.
    public var lastPageTotal: Int?
    /// Whether the listing stopped at ``APIClient/Configuration/Pagination/maximumPages`` with more pages left.
    public var stoppedAtPageLimit: Bool
    /// Whether the listing stopped after ``RecordingPages/maximumRepeatedPages`` pages in a row brought only ids
    /// already seen while the server still claimed more (a server that ignores `page`): the listing is incomplete.
    public var stoppedAtRepeatedPages = false
    /// Directly requested ids the API answered as not found or gone.
    public var goneIds: [String]
    /// Pages fetched again because `pagination.total` dropped between two pages: a deletion shifts
    /// later items onto pages already read, and re-reading those pages finds them.
    public var pagesRefetched = 0
    /// Pages fetched from the head again after the list grew while listing newest first (recordings
    /// created during the listing land on page 1, which was already read).
    public var headPagesRefetched = 0
    /// Whether the listing stopped at a page that lay wholly at or before its cutoff
    /// (``RecordingPages/stopAtOrBefore``) instead of reading to the end.
    public var stoppedAtCutoff = false
    /// Whether the listing read to the end of the list (an empty page, or `hasMore` false): it saw
    /// every recording that existed throughout.
    public var reachedEnd = false
    /// The newest `createdAt` seen on any page (before client-side filters).
    public var newestCreatedAt: Date?
    /// Pages that were not newest first although asked to be (the API ignored `sort_direction`): the
    /// listing then reads to the end whatever its cutoff.
    public var unsortedPages = 0

    /// Creates an empty reconciliation.
    public init(
        uniqueIds: Int = 0,
        duplicatesSkipped: Int = 0,
        undecodableItems: Int = 0,
        matched: Int = 0,
        pagesFetched: Int = 0,
        firstPageTotal: Int? = nil,
        lastPageTotal: Int? = nil,
        stoppedAtPageLimit: Bool = false,
        goneIds: [String] = []
    ) {
        self.uniqueIds = uniqueIds
        self.duplicatesSkipped = duplicatesSkipped
        self.undecodableItems = undecodableItems
        self.matched = matched
        self.pagesFetched = pagesFetched
        self.firstPageTotal = firstPageTotal
        self.lastPageTotal = lastPageTotal
        self.stoppedAtPageLimit = stoppedAtPageLimit
        self.goneIds = goneIds
    }

    /// `uniqueIds + undecodableItems − lastPageTotal`: positive when more were seen than reported
    /// (insertions while listing), negative when fewer (deletions while listing, or items missed).
    ///
    /// `nil` for a listing that stopped at its cutoff: it saw only the newest part of the list.
    public var difference: Int? {
        guard !stoppedAtCutoff else { return nil }
        return lastPageTotal.map { uniqueIds + undecodableItems - $0 }
    }
}
