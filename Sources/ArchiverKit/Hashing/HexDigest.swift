/// Lowercase hexadecimal rendering of digests, as `sha256sum` and BagIt manifests write them.
enum HexDigest {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The lowercase hex form of `bytes`.
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` is exactly `length` lowercase or uppercase hex digits.
    static func isHex(_ text: String, length: Int) -> Bool {
        text.utf8.count == length
            && text.utf8.allSatisfy { byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
            }
    }
}

/// SHA-256 and SHA-512 computed together over one stream of bytes, on the calling thread.
struct DualDigest {
    private let sha256 = HashState(.sha256)
    private let sha512 = HashState(.sha512)
    private(set) var byteCount: Int64 = 0

    mutating func update(_ buffer: UnsafeRawBufferPointer) {
        sha256.update(buffer)
        sha512.update(buffer)
        byteCount += Int64(buffer.count)
    }

    /// Finishes both digests, as lowercase hex.
    func finalize() -> (sha256: String, sha512: String) {
        (sha256.finalizeHex(), sha512.finalizeHex())
    }
}
