import Crypto

/// Incremental SHA-256 with a hex result.
struct SHA256Hasher {
    private var hasher = SHA256()

    mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    var hexDigest: String { hexString(hasher.finalize()) }
}

/// Incremental SHA-512 with a hex result.
struct SHA512Hasher {
    private var hasher = SHA512()

    mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    var hexDigest: String { hexString(hasher.finalize()) }
}

private func hexString(_ digest: some Sequence<UInt8>) -> String {
    digest.map { byte in
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }.joined()
}
