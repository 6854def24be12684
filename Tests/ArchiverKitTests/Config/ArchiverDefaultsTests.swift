import Foundation
import Testing

@testable import ArchiverKit

/// Every documented default has one home, ``ArchiverDefaults``; the configuration types and the lowest
/// configuration layer read it from there (issue 11).
@Suite struct ArchiverDefaultsTests {
    @Test func defaultsAreTheDocumentedValues() {
        #expect(ArchiverDefaults.baseURL == "https://api.userplane.io/api/v1")
        #expect(ArchiverDefaults.apiRequestsPerMinute == 120)
        #expect(ArchiverDefaults.apiDailyBudget == 10_000)
        #expect(ArchiverDefaults.concurrency == 4)
        #expect(ArchiverDefaults.listingOverlapHours == 72 && ArchiverDefaults.fullListingEveryDays == 7)
        #expect(ArchiverDefaults.maximumBlobBytes == 64 << 30 && ArchiverDefaults.reservedFreeBytes == 256 << 20)
    }

    @Test func configurationTypesAndTheDefaultLayerUseThem() throws {
        let layer = ArchiverConfiguration.defaults
        #expect(layer.baseURL == ArchiverDefaults.baseURL)
        #expect(layer.apiRate == ArchiverDefaults.apiRequestsPerMinute)
        #expect(layer.apiDailyBudget == ArchiverDefaults.apiDailyBudget)
        #expect(layer.concurrency == ArchiverDefaults.concurrency)
        #expect(layer.listingOverlap?.description == "\(ArchiverDefaults.listingOverlapHours)h")
        #expect(layer.fullListingEvery?.description == "\(ArchiverDefaults.fullListingEveryDays)d")
        #expect(APIClient.Configuration(apiKey: .value("k")).baseURL == ArchiverDefaults.baseURL)
        #expect(APIPacer.Configuration().requestsPerWindow == ArchiverDefaults.apiRequestsPerMinute)
        #expect(APIPacer.Configuration().dailyLimit == ArchiverDefaults.apiDailyBudget)
        #expect(APIPacer.Configuration(requestsPerWindow: 1).dailyLimit == ArchiverDefaults.apiDailyBudget)
        #expect(Downloader.Configuration().maximumBlobBytes == ArchiverDefaults.maximumBlobBytes)
        let listing = ListingPlan.Settings()
        #expect(listing.overlap == .seconds(ArchiverDefaults.listingOverlapHours * 3600))
        #expect(listing.fullListingEvery == .seconds(ArchiverDefaults.fullListingEveryDays * 86_400))
        let queue = WorkerQueue.Configuration(
            kind: .archive,
            root: URL(fileURLWithPath: "/tmp"),
            workspaceID: "ws",
            runID: "run",
            exitCode: { _ in 0 }
        )
        #expect(queue.concurrency == ArchiverDefaults.concurrency)
        #expect(queue.reservedFreeBytes == ArchiverDefaults.reservedFreeBytes)
    }
}
