/// Removes a secret from text that a server sent back (error bodies, headers) before it reaches a log or an error.
///
/// A hostile or buggy server may echo the API key in a body or a header such as `X-Request-Id`; an excerpt cut
/// at a fixed length may hold only the start of it. Every run of at least ``minimumPrefixBytes`` bytes that
/// matches the start of the secret (the whole secret when it is shorter) is replaced by `<redacted>`.
enum SecretRedaction {
    /// The shortest echoed prefix of the secret that is redacted.
    static let minimumPrefixBytes = 8
    /// What replaces a redacted run.
    static let marker = "<redacted>"

    /// `text` with every echo of `secret` (or of a prefix of at least ``minimumPrefixBytes`` bytes) replaced.
    ///
    /// - Parameters:
    ///   - text: Text from a server.
    ///   - secret: The secret; an empty secret changes nothing.
    /// - Returns: The redacted text.
    static func redact(_ text: String, secret: String) -> String {
        let needle = Array(secret.utf8)
        guard !needle.isEmpty else { return text }
        let minimum = min(minimumPrefixBytes, needle.count)
        let bytes = Array(text.utf8)
        guard bytes.count >= minimum else { return text }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        var changed = false
        while index < bytes.count {
            var length = 0
            while length < needle.count, index + length < bytes.count, bytes[index + length] == needle[length] {
                length += 1
            }
            if length >= minimum {
                output.append(contentsOf: marker.utf8)
                index += length
                changed = true
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return changed ? String(decoding: output, as: UTF8.self) : text
    }
}
