/// Percent-encodes one URL path segment or query value so that any id reaches the server intact.
///
/// Everything outside RFC 3986 unreserved characters (`A–Z a–z 0–9 - . _ ~`) is encoded as UTF-8 `%XX`,
/// so `/`, `?`, `#`, `%`, spaces and non-ASCII stay inside one segment. A segment made only of dots
/// (`.`, `..`) is encoded entirely (`%2E%2E`) so that no client or proxy treats it as a dot-segment.
enum PathSegment {
    static func encode(_ text: String) -> String {
        if !text.isEmpty, text.allSatisfy({ $0 == "." }) {
            return String(repeating: "%2E", count: text.count)
        }
        var encoded = ""
        encoded.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF")
                encoded += "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
            }
        }
        return encoded
    }
}
