import Foundation

extension RecordingFilter {
    /// The filters that shape a listing, normalised, in words.
    ///
    /// Ids are sorted and de-duplicated, dates in UTC with milliseconds. ``recordingIDs`` are not part
    /// of it (direct fetches are not a listing).
    ///
    /// Two filters with the same description list the same recordings, so they share a high-water mark.
    package var listingDescription: String {
        var parts: [String] = []
        for (name, values) in [("projects", projectIds), ("links", linkIds), ("created_by", createdBy)] {
            let normalised = Set(values).sorted()
            if !normalised.isEmpty { parts.append("\(name) [\(normalised.joined(separator: ", "))]") }
        }
        if let since { parts.append("since \(UTCTime.iso8601RoundedMilliseconds(since))") }
        if let until { parts.append("until \(UTCTime.iso8601RoundedMilliseconds(until))") }
        return parts.isEmpty ? "all recordings" : parts.joined(separator: "; ")
    }

    /// SHA-256 (hex) of an unambiguous encoding of the normalised filters: the key of a listing mark.
    ///
    /// A filter change gives another key, so its first run lists the whole workspace.
    package var listingKey: String {
        // Length-prefixed fields: no id, however odd, can make two filter sets collide.
        var encoded = ""
        func field(_ name: String, _ values: [String]) {
            encoded += "\(name):\(values.count)"
            for value in values { encoded += ":\(value.utf8.count):\(value)" }
            encoded += ";"
        }
        field("project_id", Set(projectIds).sorted())
        field("link_id", Set(linkIds).sorted())
        field("created_by", Set(createdBy).sorted())
        field("since", since.map { ["\(Int64(($0.timeIntervalSince1970 * 1000).rounded()))"] } ?? [])
        field("until", until.map { ["\(Int64(($0.timeIntervalSince1970 * 1000).rounded()))"] } ?? [])
        return HashState.hex(.sha256, of: Array(encoded.utf8))
    }
}
