import Foundation
import Testing

@testable import ArchiverKit

/// What is particular to the SQLite catalog; its contract is held by `CatalogContractTests`.
@Suite struct CatalogStoreTests {
    @Test func budgetDaysAreUTCCalendarDays() {
        let lateEvening = Date(timeIntervalSince1970: 1_700_006_399)  // 2023-11-14 23:59:59 UTC
        #expect(CatalogStore.budgetDay(of: lateEvening) == "2023-11-14")
        #expect(CatalogStore.budgetDay(of: lateEvening.addingTimeInterval(1)) == "2023-11-15")
    }
}
