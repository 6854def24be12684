internal import COpenSSL

/// A running SHA-256 or SHA-512: the one type through which ArchiverKit hashes anything.
///
/// The implementation behind it is chosen here and nowhere else. The one exception is ``TwinSHA256``, which computes
/// two SHA-256 of one stream in one pass for in-place packing (no OpenSSL interface does that) and is checked against
/// this type.
///
/// The implementation is OpenSSL 3's libcrypto through EVP (the `COpenSSL` system library; libcurl's OpenSSL
/// flavour loads it anyway), chosen over swift-crypto by measurement: MiB per CPU-second of one thread, 512 MiB
/// in 1 MiB updates, 7 alternated rounds in one process (median / best), release build, x86_64 with SHA-NI and
/// AVX-512 on a shared 2-core VM (issue 13; absolute figures are lower than on a quiet machine, the ratios hold):
///
/// | algorithm | OpenSSL 3.0.19 EVP | swift-crypto 4.5.2 (BoringSSL) |
/// | --- | --- | --- |
/// | SHA-256 | 1,287-1,314 / 1,343 | 1,297-1,316 / 1,360 |
/// | SHA-512 | 507-554 / 598 | 426-497 / 517 |
///
/// SHA-256 is a tie (both use the SHA-NI instructions); SHA-512, the costlier half of every download, is 10-20 %
/// cheaper with OpenSSL, which has an AVX2 SHA-512 where BoringSSL (swift-crypto 3.12.3 and 4.5.2 alike) stops at
/// AVX. Dropping swift-crypto also removes BoringSSL from the `userplane-archiver` executable. `archiver-bench
/// hash` re-measures the implementation in use.
///
/// To swap the implementation, change this file only (``HashStateTests`` pins the known-answer vectors).
///
/// - Important: Not thread-safe; one thread at a time (a ``DigestPipeline`` hands one over under its lock).
package final class HashState {
    /// The digest computed.
    package enum Algorithm: Sendable {
        case sha256
        case sha512

        /// The digest's length in bytes.
        var byteCount: Int { self == .sha256 ? 32 : 64 }
    }

    package let algorithm: Algorithm
    private let context: OpaquePointer

    /// Starts an empty digest.
    package init(_ algorithm: Algorithm) {
        guard let context = EVP_MD_CTX_new() else {
            fatalError("OpenSSL could not allocate a digest context: out of memory")
        }
        self.algorithm = algorithm
        self.context = context
        reset()
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `bytes` to the digest.
    package func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard EVP_DigestUpdate(context, base, bytes.count) == 1 else {
            fatalError("OpenSSL failed to update a \(algorithm) digest")
        }
    }

    /// Adds `bytes` to the digest.
    func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything added since creation or the last ``reset()``; the state is left as it was, so
    /// more bytes may follow.
    func finalize() -> [UInt8] {
        guard let copy = EVP_MD_CTX_new() else {
            fatalError("OpenSSL could not allocate a digest context: out of memory")
        }
        defer { EVP_MD_CTX_free(copy) }
        var digest = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        guard EVP_MD_CTX_copy_ex(copy, context) == 1, EVP_DigestFinal_ex(copy, &digest, &length) == 1 else {
            fatalError("OpenSSL failed to finish a \(algorithm) digest")
        }
        return Array(digest.prefix(Int(length)))
    }

    /// ``finalize()`` as lowercase hex.
    package func finalizeHex() -> String {
        HexDigest.string(finalize())
    }

    /// Forgets everything added so far.
    func reset() {
        guard EVP_DigestInit_ex(context, Self.method(algorithm), nil) == 1 else {
            fatalError("OpenSSL failed to start a \(algorithm) digest")
        }
    }

    /// The digest of `bytes`.
    static func digest(_ algorithm: Algorithm, of bytes: [UInt8]) -> [UInt8] {
        let state = HashState(algorithm)
        state.update(bytes)
        return state.finalize()
    }

    /// The lowercase hex digest of `bytes`.
    static func hex(_ algorithm: Algorithm, of bytes: [UInt8]) -> String {
        HexDigest.string(digest(algorithm, of: bytes))
    }

    private static func method(_ algorithm: Algorithm) -> OpaquePointer {
        switch algorithm {
        case .sha256: sha256Method
        case .sha512: sha512Method
        }
    }

    // Fetched once: `EVP_sha256()` would make every EVP_DigestInit_ex look the provider up again (OpenSSL 3).
    // unchecked-free: an EVP_MD from EVP_MD_fetch is immutable and documented as shareable between threads.
    private nonisolated(unsafe) static let sha256Method: OpaquePointer =
        EVP_MD_fetch(nil, "SHA2-256", nil) ?? EVP_sha256()
    private nonisolated(unsafe) static let sha512Method: OpaquePointer =
        EVP_MD_fetch(nil, "SHA2-512", nil) ?? EVP_sha512()
}
