import Foundation
import Testing

@testable import ArchiverKit

/// The typed counts a run keeps in the catalog (``RunCounts``) name what the reports name and keep the
/// JSON text the `runs.counts` column held before they were typed.
@Suite struct RunCountsTests {
    @Test func anArchiveRunsCountsAreNamedAsInItsRunReport() throws {
        var counts = RunReport.Counts()
        counts.listed = 1
        counts.enqueued = 2
        counts.archived = 3
        counts.skippedAlreadyArchived = 4
        counts.deferred = 5
        counts.failed = 6
        counts.gone = 7
        let report = try JSONDecoder().decode([String: Int].self, from: JSONEncoder().encode(counts))
        #expect(RunCounts(counts).values == report)
    }

    @Test func theStoredTextIsTheJSONObjectWithSortedKeysAndReadsBackInAnyOrder() throws {
        let counts = RunCounts(["would-delete": 2, "deleted": 1, "held": 0])
        #expect(counts.storedText == #"{"deleted":1,"held":0,"would-delete":2}"#)
        #expect(RunCounts(storedText: #"{"would-delete":2,"held":0,"deleted":1}"#) == counts)
        #expect(RunCounts(storedText: counts.storedText)?["would-delete"] == 2)
        #expect(RunCounts(storedText: "[1]") == nil)
        #expect(RunCounts(storedText: #"{"deleted":"one"}"#) == nil)
        let encoded = try JSONEncoder().encode(counts)
        #expect(try JSONDecoder().decode(RunCounts.self, from: encoded) == counts)
    }
}
