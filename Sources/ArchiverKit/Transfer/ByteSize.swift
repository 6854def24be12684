import Foundation

/// Parses byte sizes written by people: `1048576`, `512MiB`, `64GiB`, `2TiB` (also `K`, `M`, `G`, `T`, `KB`...,
/// all binary multiples).
package enum ByteSize {
    /// The size `text` denotes, or `nil` when it is not a positive size that fits in 64 bits.
    ///
    /// - Parameter text: A whole number, optionally followed by a unit.
    /// - Returns: The size in bytes.
    package static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int64(digits), number > 0 else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let shifts: [String: Int64] = [
            "": 0, "b": 0, "k": 10, "kb": 10, "kib": 10, "m": 20, "mb": 20, "mib": 20, "g": 30, "gb": 30, "gib": 30,
            "t": 40, "tb": 40, "tib": 40,
        ]
        guard let shift = shifts[unit] else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: Int64(1) << shift)
        return overflow ? nil : bytes
    }
}
