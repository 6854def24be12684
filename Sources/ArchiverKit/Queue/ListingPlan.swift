package import Foundation

/// How a run lists a workspace: the whole list, or only what is new since the high-water mark.
///
/// Pure: decided from the stored ``ListingMark``, the settings and the clock.
package struct ListingPlan: Sendable, Hashable {
    /// How much of the list is read.
    package struct Mode: Sendable, Hashable, CustomStringConvertible {
        /// `incremental`, `full` or `by-id`.
        package let rawValue: String
        /// Newest first, down to the high-water mark minus the overlap window.
        package static let incremental = Self(rawValue: "incremental")
        /// Newest first, to the end of the list: a full reconciliation.
        package static let full = Self(rawValue: "full")
        /// `--recording ID`: the named recordings are fetched one by one; nothing is listed.
        package static let byId = Self(rawValue: "by-id")

        package var description: String { rawValue }
    }

    /// What decides the mode.
    package struct Settings: Sendable, Hashable {
        /// List everything this run (`--full-listing`).
        ///
        /// Default `false`.
        package var forceFull = false
        /// How far behind the high-water mark an incremental listing still reads: recordings can
        /// appear late, with a `createdAt` older than the newest one listed (`--listing-overlap`).
        ///
        /// Default 72 hours.
        package var overlap: Duration = .seconds(ArchiverDefaults.listingOverlapHours * 3600)
        /// A full listing is due once the last one is this old (`--full-listing-every`).
        ///
        /// Default 7 days.
        package var fullListingEvery: Duration = .seconds(ArchiverDefaults.fullListingEveryDays * 86_400)

        /// Creates the defaults.
        package init() {}
    }

    /// The mode.
    package var mode: Mode
    /// Incremental only: the listing stops after a page whose items all lie at or before this instant.
    package var cutoff: Date?
    /// Why this mode, for the report and the log.
    package var reason: String

    /// Decides how to list.
    ///
    /// - Parameters:
    ///   - mark: The stored mark of this workspace, kind and filter set, if any.
    ///   - settings: The settings.
    ///   - isById: Whether the run fetches named recordings (`--recording`) instead of listing.
    ///   - now: The current time.
    /// - Returns: The plan.
    package static func decide(mark: ListingMark?, settings: Settings, isById: Bool, now: Date) -> ListingPlan {
        if isById { return ListingPlan(mode: .byId, cutoff: nil, reason: "named recordings are fetched by id") }
        if settings.forceFull { return ListingPlan(mode: .full, cutoff: nil, reason: "--full-listing") }
        guard let mark else {
            return ListingPlan(mode: .full, cutoff: nil, reason: "first listing of this workspace and filter set")
        }
        guard let lastFull = mark.lastFullListingAt else {
            return ListingPlan(mode: .full, cutoff: nil, reason: "no full listing on record")
        }
        if now >= lastFull.adding(settings.fullListingEvery) {
            return ListingPlan(
                mode: .full,
                cutoff: nil,
                reason: "the last full listing (\(UTCTime.iso8601(lastFull))) is older than full_listing_every"
            )
        }
        guard let highWaterMark = mark.highWaterMark else {
            return ListingPlan(mode: .full, cutoff: nil, reason: "no recording listed yet")
        }
        return ListingPlan(
            mode: .incremental,
            cutoff: highWaterMark.addingTimeInterval(-Double(settings.overlap.milliseconds) / 1000),
            reason: "newest first down to the high-water mark \(UTCTime.iso8601(highWaterMark)) minus the overlap"
        )
    }
}
