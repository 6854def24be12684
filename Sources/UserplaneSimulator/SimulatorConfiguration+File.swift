import Foundation

extension SimulatorConfiguration {
    /// Decodes a configuration from JSON in which every key is optional.
    ///
    /// The JSON object is merged key by key (recursively) over the defaults, so
    /// `{"faults": {"apiLatencyMilliseconds": 50}}` changes only that value.
    ///
    /// ## Configuration keys
    /// The property names of ``SimulatorConfiguration``, ``SimulatorConfiguration/RateLimit`` (`rateLimit`),
    /// ``SimulatorConfiguration/Blob`` (`blob`), ``SimulatorConfiguration/Content`` (`content`) and
    /// ``SimulatorFaults`` (`faults`), except that ids keep the API's `Id` spelling:
    /// `hostileRecordingId` sets ``SimulatorConfiguration/hostileRecordingID`` and `vanishedRecordingIds`
    /// sets ``SimulatorFaults/vanishedRecordingIDs``.
    ///
    /// - Parameter json: A UTF-8 JSON object.
    /// - Throws: `DecodingError` or a JSON syntax error when `json` is not a valid configuration.
    public init(json: [UInt8]) throws {
        self = try JSONMerging.decode(Self.self, overriding: SimulatorConfiguration(), with: json)
    }
}

extension SimulatorFaults {
    /// Decodes faults from JSON in which every key is optional, merged over `base`.
    ///
    /// - Parameters:
    ///   - json: A UTF-8 JSON object.
    ///   - base: The values of keys `json` does not name.
    /// - Throws: `DecodingError` or a JSON syntax error.
    public init(json: [UInt8], over base: SimulatorFaults = SimulatorFaults()) throws {
        self = try JSONMerging.decode(Self.self, overriding: base, with: json)
    }
}

enum JSONMerging {
    static func decode<T: Codable>(_ type: T.Type, overriding base: T, with json: [UInt8]) throws -> T {
        let encoder = JSONEncoder()
        let baseObject = try JSONSerialization.jsonObject(with: encoder.encode(base))
        let overrides = try JSONSerialization.jsonObject(with: Data(json))
        let merged = merge(baseObject, overrides)
        return try JSONDecoder().decode(T.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    private static func merge(_ base: Any, _ overrides: Any) -> Any {
        guard var baseDictionary = base as? [String: Any], let overrideDictionary = overrides as? [String: Any] else {
            return overrides
        }
        for (key, value) in overrideDictionary {
            if let existing = baseDictionary[key] {
                baseDictionary[key] = merge(existing, value)
            } else {
                baseDictionary[key] = value
            }
        }
        return baseDictionary
    }
}
