internal import COpenSSL

/// A secret-keyed check that bytes read back later in the same process are exactly the bytes that were sealed:
/// a Poly1305 tag under a random one-time key that never leaves memory (never stored, logged or written).
///
/// A download computes one beside its SHA-256 and SHA-512 from the very same buffers (``DigestPipeline``), and the
/// packer checks the staged file against it on the copy into the tar instead of hashing SHA-256 again
/// (``ArchivePackager``): Poly1305 runs about 10 GiB per CPU-second here against SHA-256's 1.3 GiB, and it is a
/// message authentication code, so even someone who could rewrite the staged file cannot make different bytes pass
/// without the key (a forgery succeeds with probability at most 2^-76 for a 2 GiB file, and one try only: a
/// mismatch fails the packing). Equal tags therefore mean the tar holds the bytes that were hashed while
/// downloading, as an equal SHA-256 did. A resource staged by an earlier process has no seal and is checked by
/// SHA-256 as before.
///
/// Each key seals one stream (``Sealer/reset()`` draws a new key), as Poly1305 requires.
package struct ContentSeal: Sendable, Hashable, CustomStringConvertible {
    /// The one-time key (32 bytes).
    fileprivate let key: [UInt8]
    /// The Poly1305 tag of the sealed bytes (16 bytes).
    fileprivate let tag: [UInt8]

    /// Never the key or the tag.
    package var description: String { "ContentSeal(redacted)" }

    /// Whether `checker`, fed the bytes read back, saw exactly the sealed bytes.
    package func matches(_ checker: Checker) -> Bool {
        let computed = checker.mac.finalize()
        guard computed.count == tag.count else { return false }
        // Constant-time comparison: the tag is secret too.
        var difference: UInt8 = 0
        for index in tag.indices { difference |= computed[index] ^ tag[index] }
        return difference == 0
    }

    /// A checker for bytes read back: feed it with ``Checker/update(_:)``, then ask ``matches(_:)``.
    package func checker() -> Checker { Checker(key: key) }

    /// Seals a byte stream: created with a random key, fed in order, finished with ``seal()``.
    ///
    /// - Important: Not thread-safe; one thread at a time.
    package final class Sealer {
        private var key: [UInt8]
        fileprivate var mac: Poly1305

        /// Starts sealing under a fresh random key; `nil` when this libcrypto offers no Poly1305 (a FIPS-only
        /// configuration), and callers then check by SHA-256.
        package init?() {
            guard Poly1305.method != nil else { return nil }
            key = Self.randomKey()
            mac = Poly1305(key: key)
        }

        /// Adds `bytes` to the sealed stream.
        package func update(_ bytes: UnsafeRawBufferPointer) { mac.update(bytes) }

        /// The seal of everything added since creation or the last ``reset()``; more bytes may follow.
        package func seal() -> ContentSeal { ContentSeal(key: key, tag: mac.finalize()) }

        /// Forgets everything added so far and draws a new key.
        package func reset() {
            key = Self.randomKey()
            mac = Poly1305(key: key)
        }

        private static func randomKey() -> [UInt8] {
            var key = [UInt8](repeating: 0, count: 32)
            guard RAND_bytes(&key, 32) == 1 else {
                fatalError("OpenSSL could not produce 32 random bytes for a content seal key")
            }
            return key
        }
    }

    /// Recomputes a seal's tag over bytes read back.
    ///
    /// - Important: Not thread-safe; one thread at a time.
    package final class Checker {
        fileprivate let mac: Poly1305

        fileprivate init(key: [UInt8]) { mac = Poly1305(key: key) }

        /// Adds `bytes` read back, in order.
        package func update(_ bytes: UnsafeRawBufferPointer) { mac.update(bytes) }
    }
}

/// A running Poly1305 (OpenSSL 3 EVP_MAC); the only code that calls libcrypto's MAC functions.
private final class Poly1305 {
    private let context: OpaquePointer

    init(key: [UInt8]) {
        guard let method = Self.method, let context = EVP_MAC_CTX_new(method) else {
            fatalError("OpenSSL could not allocate a Poly1305 context: out of memory")
        }
        self.context = context
        guard EVP_MAC_init(context, key, key.count, nil) == 1 else {
            fatalError("OpenSSL failed to start a Poly1305 MAC")
        }
    }

    deinit { EVP_MAC_CTX_free(context) }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard EVP_MAC_update(context, base, bytes.count) == 1 else {
            fatalError("OpenSSL failed to update a Poly1305 MAC")
        }
    }

    /// The tag of everything added so far; the state is left running (a copy is finished).
    func finalize() -> [UInt8] {
        guard let copy = EVP_MAC_CTX_dup(context) else {
            fatalError("OpenSSL could not copy a Poly1305 context: out of memory")
        }
        defer { EVP_MAC_CTX_free(copy) }
        var tag = [UInt8](repeating: 0, count: 16)
        var length = 0
        guard EVP_MAC_final(copy, &tag, &length, tag.count) == 1, length == 16 else {
            fatalError("OpenSSL failed to finish a Poly1305 MAC")
        }
        return tag
    }

    /// Fetched once (`nil` when no provider offers it); an EVP_MAC from EVP_MAC_fetch is immutable and documented as
    /// shareable between threads.
    nonisolated(unsafe) static let method: OpaquePointer? = EVP_MAC_fetch(nil, "POLY1305", nil)
}
