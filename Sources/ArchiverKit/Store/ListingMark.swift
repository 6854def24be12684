package import Foundation

/// Where the listing of one workspace stands for one job kind and filter set (`listing_marks`).
///
/// A scheduled run lists newest first and stops once a whole page lies at or before
/// ``highWaterMark`` minus the overlap window; ``lastFullListingAt`` says when the whole list was
/// last read (the only listing that notices recordings that appeared behind the window).
package struct ListingMark: Sendable, Hashable {
    /// The job kind whose queue the listing fed.
    package var kind: JobKind
    /// The workspace.
    package var workspaceID: String
    /// SHA-256 (hex) of the normalised filters (``RecordingFilter/listingKey``).
    package var filterHash: String
    /// The normalised filters in words, such as `all recordings` or `projects [prj_1]`.
    package var filters: String
    /// The newest `createdAt` any complete listing has seen; `nil` when none saw a recording.
    package var highWaterMark: Date?
    /// When the last complete listing started.
    package var lastListingAt: Date
    /// ``ListingPlan/Mode/incremental`` or ``ListingPlan/Mode/full``: how the last complete listing read the list.
    package var lastListingMode: ListingPlan.Mode
    /// When the last listing that read the whole list started; `nil` if none did.
    package var lastFullListingAt: Date?

    /// Creates a mark.
    package init(
        kind: JobKind,
        workspaceID: String,
        filterHash: String,
        filters: String,
        highWaterMark: Date?,
        lastListingAt: Date,
        lastListingMode: ListingPlan.Mode,
        lastFullListingAt: Date?
    ) {
        self.kind = kind
        self.workspaceID = workspaceID
        self.filterHash = filterHash
        self.filters = filters
        self.highWaterMark = highWaterMark
        self.lastListingAt = lastListingAt
        self.lastListingMode = lastListingMode
        self.lastFullListingAt = lastFullListingAt
    }
}
