import Foundation

/// The outcome counts of one run, by name, as the catalog keeps them with the run (``RunRecord/counts``).
///
/// Each command counts different things: an archive or download run its ``RunReport/Counts`` (`listed`,
/// `archived`, `failed`, ...), `prune` and `delete-remote` their ``RetentionReport/Action``s (`deleted`,
/// `held`, ...), `audit` the archives `checked`, `failed` and `missing`. It encodes as one flat JSON
/// object of name to count, which is also what both store engines keep in the `runs.counts` column.
package struct RunCounts: Sendable, Hashable, Codable {
    /// The counts by name.
    package var values: [String: Int]

    /// Creates counts from `values`.
    package init(_ values: [String: Int]) {
        self.values = values
    }

    /// The counts of an archive or download run, named as in its run report.
    package init(_ counts: RunReport.Counts) {
        values = [
            "listed": counts.listed,
            "enqueued": counts.enqueued,
            "archived": counts.archived,
            "skippedAlreadyArchived": counts.skippedAlreadyArchived,
            "deferred": counts.deferred,
            "failed": counts.failed,
            "gone": counts.gone,
        ]
    }

    /// The count named `name`, if the run counted it.
    package subscript(name: String) -> Int? { values[name] }

    /// Decodes a JSON object of name to count.
    package init(from decoder: any Decoder) throws {
        values = try decoder.singleValueContainer().decode([String: Int].self)
    }

    /// Encodes a JSON object of name to count.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }

    /// The text the stores keep: the JSON object with sorted keys, such as `{"checked":2,"failed":0}`.
    package var storedText: String {
        // Encoding a dictionary of strings to integers cannot fail.
        let data = (try? JSONEncoder.archiver.encode(values)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads the text a store kept (in any key order); `nil` when it is not a JSON object of name to count,
    /// so an unreadable column reads as no counts, as for an unfinished run.
    package init?(storedText: String) {
        guard let values = try? JSONDecoder.archiver.decode([String: Int].self, from: Data(storedText.utf8)) else {
            return nil
        }
        self.values = values
    }
}
