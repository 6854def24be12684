package import Foundation

extension UTCTime {
    /// Dates as `2026-04-30T12:51:30Z` (``iso8601(_:)``): the bytes `JSONEncoder`'s `.iso8601` wrote, without ICU.
    package static var jsonEncoding: JSONEncoder.DateEncodingStrategy {
        .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(iso8601(date))
        }
    }

    /// Dates as ``parseISO8601(_:)`` reads them: what ``jsonEncoding`` writes, and any other ISO 8601 timestamp.
    package static var jsonDecoding: JSONDecoder.DateDecodingStrategy {
        .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseISO8601(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "Expected an ISO 8601 date such as 2026-04-30T12:51:30Z, got \(text)"
                )
            }
            return date
        }
    }
}
