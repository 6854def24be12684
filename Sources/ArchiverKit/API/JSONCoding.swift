import Foundation

/// Shared JSON helpers for the API models: lenient numbers and ISO-8601 dates.
enum JSONCoding {
    static var decoder: JSONDecoder { JSONDecoder() }

    /// Parses an ISO-8601 date-time with or without fractional seconds, with `Z` or an offset, or a
    /// plain date (`2024-05-01`, taken as midnight UTC); see ``UTCTime/parseISO8601(_:)``.
    static func date(_ text: String) -> Date? {
        UTCTime.parseISO8601(text.trimmingCharacters(in: .whitespaces))
    }
}

/// A decoding key built from any string.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) {
        self.stringValue = string
        self.intValue = nil
    }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

extension KeyedDecodingContainer where Key == AnyCodingKey {
    /// A string, or `nil` when the member is absent, `null` or not a string.
    func lenientString(_ key: String) -> String? {
        (try? decodeIfPresent(String.self, forKey: AnyCodingKey(key))) ?? nil
    }

    /// A non-negative integer, accepting `12`, `12.0` and `"12"`; `nil` when absent, `null`, negative or unusable.
    ///
    /// Every number the API sends is a count, a size or a duration: a negative one is hostile or broken, and
    /// treating it as absent keeps it out of size checks and arithmetic (`seen - Int.min` would trap).
    func lenientInt(_ key: String) -> Int? {
        let codingKey = AnyCodingKey(key)
        var value: Int?
        if let number = (try? decodeIfPresent(Int.self, forKey: codingKey)) ?? nil {
            value = number
        } else if let number = (try? decodeIfPresent(Double.self, forKey: codingKey)) ?? nil, number.isFinite,
            abs(number) < 9e15
        {
            value = Int(number.rounded())
        } else if let text = lenientString(key) {
            value = Int(text)
        }
        return value.flatMap { $0 >= 0 ? $0 : nil }
    }

    /// A boolean, or `nil` when absent, `null` or not a boolean.
    func lenientBool(_ key: String) -> Bool? {
        (try? decodeIfPresent(Bool.self, forKey: AnyCodingKey(key))) ?? nil
    }

    /// An ISO-8601 date, or `nil` when absent, `null` or unparseable.
    func lenientDate(_ key: String) -> Date? {
        lenientString(key).flatMap(JSONCoding.date)
    }

    /// A nested object, or `nil` when absent, `null` or not an object.
    func object(_ key: String) -> KeyedDecodingContainer<AnyCodingKey>? {
        guard (try? decodeNil(forKey: AnyCodingKey(key))) == false else { return nil }
        return try? nestedContainer(keyedBy: AnyCodingKey.self, forKey: AnyCodingKey(key))
    }

    /// Whether the member exists (even as `null`).
    func has(_ key: String) -> Bool { contains(AnyCodingKey(key)) }
}
