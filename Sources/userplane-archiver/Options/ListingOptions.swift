import ArchiverKit
import ArgumentParser
import Foundation

/// How much of the workspace a run lists: only what is new (the default once a full listing is on
/// record), or everything.
struct ListingOptions: ParsableArguments {
    @Flag(
        name: .long,
        help: ArgumentHelp(
            "List the whole workspace this run (a full reconciliation) instead of only what is new.",
            discussion:
                "Without it a run lists newest first and stops once a whole page lies at or before the high-water "
                + "mark of the earlier runs minus --listing-overlap; the first run, a filter change and every "
                + "--full-listing-every list everything."
        )
    )
    var fullListing = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How far behind the high-water mark an incremental listing still reads, for recordings that appear "
                + "late, e.g. 72h. (config: listing_overlap; default: \(ArchiverDefaults.listingOverlapHours)h)",
            valueName: "duration"
        )
    )
    var listingOverlap: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "List the whole workspace when the last full listing is this old, e.g. 7d. "
                + "(config: full_listing_every; default: \(ArchiverDefaults.fullListingEveryDays)d)",
            valueName: "duration"
        )
    )
    var fullListingEvery: String?

    func validate() throws {
        _ = try parsed(listingOverlap, flag: "--listing-overlap")
        _ = try parsed(fullListingEvery, flag: "--full-listing-every")
    }

    /// Adds the listing flags to the flag layer.
    func apply(to layer: inout ArchiverConfiguration) throws {
        layer.listingOverlap = try parsed(listingOverlap, flag: "--listing-overlap")
        layer.fullListingEvery = try parsed(fullListingEvery, flag: "--full-listing-every")
    }

    private func parsed(_ text: String?, flag: String) throws -> RetentionDuration? {
        guard let text else { return nil }
        do {
            return try RetentionDuration(parsing: text)
        } catch {
            throw ValidationError("\(flag): \(error)")
        }
    }
}
