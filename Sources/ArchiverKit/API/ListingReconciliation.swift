/// What a finished listing saw compared with what the server said it would see (product.md §6, §9).
public struct ListingReconciliation: Sendable, Hashable {
    /// Distinct recording ids seen across all pages (before the client-side date filter).
    public var uniqueIds: Int
    /// Items skipped because their id was already seen (insertions during listing shift items onto
    /// the next page).
    public var duplicatesSkipped: Int
    /// Items that could not be decoded (no id or no parseable `createdAt`).
    public var undecodableItems: Int
    /// Recordings yielded (passing every filter).
    public var matched: Int
    /// Pages fetched.
    public var pagesFetched: Int
    /// `pagination.total` on the first page.
    public var firstPageTotal: Int?
    /// `pagination.total` on the last page.
    public var lastPageTotal: Int?
    /// Whether the listing stopped at ``APIClient/Configuration/Pagination/maximumPages`` with more pages left.
    public var stoppedAtPageLimit: Bool
    /// Directly requested ids the API answered as not found or gone.
    public var goneIds: [String]

    /// `uniqueIds + undecodableItems − lastPageTotal`: positive when more were seen than reported
    /// (insertions while listing), negative when fewer (deletions while listing, or items missed).
    public var difference: Int? {
        lastPageTotal.map { uniqueIds + undecodableItems - $0 }
    }
}
