import Foundation
import Testing

@testable import ArchiverKit

/// When a run lists everything and when only what is new.
@Suite struct ListingPlanTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func mark(highWaterMark: Date?, lastFull: Date?) -> ListingMark {
        ListingMark(
            kind: .archive,
            workspaceID: "ws",
            filterHash: RecordingFilter().listingKey,
            filters: "all recordings",
            highWaterMark: highWaterMark,
            lastListingAt: now.addingTimeInterval(-3600),
            lastListingMode: .incremental,
            lastFullListingAt: lastFull
        )
    }

    @Test func incrementalStopsAtTheHighWaterMarkMinusTheOverlap() {
        let mark = Self.mark(
            highWaterMark: Self.now.addingTimeInterval(-600),
            lastFull: Self.now.addingTimeInterval(-86_400)
        )
        var settings = ListingPlan.Settings()
        let plan = ListingPlan.decide(mark: mark, settings: settings, isById: false, now: Self.now)
        #expect(plan.mode == .incremental)
        #expect(plan.cutoff == Self.now.addingTimeInterval(-600 - 72 * 3600))
        settings.overlap = .seconds(60)
        let narrow = ListingPlan.decide(mark: mark, settings: settings, isById: false, now: Self.now)
        #expect(narrow.cutoff == Self.now.addingTimeInterval(-660))
    }

    @Test func fullListingOnTheFirstRunOnDemandAndWhenTheLastFullOneIsTooOld() {
        let settings = ListingPlan.Settings()
        #expect(ListingPlan.decide(mark: nil, settings: settings, isById: false, now: Self.now).mode == .full)

        var forced = settings
        forced.forceFull = true
        let fresh = Self.mark(highWaterMark: Self.now, lastFull: Self.now.addingTimeInterval(-60))
        #expect(ListingPlan.decide(mark: fresh, settings: forced, isById: false, now: Self.now).mode == .full)
        #expect(ListingPlan.decide(mark: fresh, settings: settings, isById: false, now: Self.now).mode == .incremental)

        let sevenDays: TimeInterval = 7 * 86_400
        let due = Self.mark(highWaterMark: Self.now, lastFull: Self.now.addingTimeInterval(-sevenDays))
        let plan = ListingPlan.decide(mark: due, settings: settings, isById: false, now: Self.now)
        #expect(plan.mode == .full)
        #expect(plan.cutoff == nil)
        let almost = Self.mark(highWaterMark: Self.now, lastFull: Self.now.addingTimeInterval(-sevenDays + 1))
        #expect(ListingPlan.decide(mark: almost, settings: settings, isById: false, now: Self.now).mode == .incremental)

        let neverFull = Self.mark(highWaterMark: Self.now, lastFull: nil)
        #expect(ListingPlan.decide(mark: neverFull, settings: settings, isById: false, now: Self.now).mode == .full)
        let empty = Self.mark(highWaterMark: nil, lastFull: Self.now)
        #expect(ListingPlan.decide(mark: empty, settings: settings, isById: false, now: Self.now).mode == .full)
    }

    @Test func namedRecordingsAreFetchedById() {
        let plan = ListingPlan.decide(mark: nil, settings: .init(), isById: true, now: Self.now)
        #expect(plan.mode == .byId)
        #expect(plan.cutoff == nil)
    }

    @Test func theListingKeyFollowsTheNormalisedFilters() {
        let base = RecordingFilter(projectIds: ["p2", "p1"], createdBy: ["m1"])
        let same = RecordingFilter(recordingIDs: [], projectIds: ["p1", "p2", "p1"], createdBy: ["m1"])
        #expect(base.listingKey == same.listingKey)
        #expect(base.listingDescription == "projects [p1, p2]; created_by [m1]")
        #expect(RecordingFilter().listingDescription == "all recordings")
        let variants = [
            RecordingFilter(),
            RecordingFilter(projectIds: ["p1"]),
            RecordingFilter(linkIds: ["p1"]),
            RecordingFilter(createdBy: ["p1"]),
            RecordingFilter(projectIds: ["p1,p2"]),
            RecordingFilter(projectIds: ["p1", "p2"]),
            RecordingFilter(since: Date(timeIntervalSince1970: 0)),
            RecordingFilter(until: Date(timeIntervalSince1970: 0)),
            RecordingFilter(since: Date(timeIntervalSince1970: 1)),
        ]
        #expect(Set(variants.map(\.listingKey)).count == variants.count, "every filter set has its own mark")
        #expect(base.listingKey.count == 64)
    }
}
