internal import COpenSSL

/// Two SHA-256 digests of one byte stream in one pass: of the bytes as they are, and of the same bytes behind a fixed
/// prefix (a whole number of 64-byte blocks long), on the x86 SHA extensions.
///
/// A staged video's download hashes its body for the bag's manifest, and the tar that packing makes of the staged
/// file is the tar headers (the ``PackingFront``, 1,536 bytes or more in 512-byte blocks) followed by that very body.
/// The second digest is the tar's SHA-256 so far: packing continues it over the rest of the tar (``SHA256Midstate``,
/// ``ArchiveWriteHandle``) instead of reading the body again to hash it. Both states run over the same blocks with one
/// message schedule, interleaved (`upa_sha256_ni_blocks` in COpenSSL's `sha256_ni.h`); on this machine the second
/// costs about 0.45 of a SHA-256 pass (256 MiB: 0.28 s for both against 0.19 s for one; OpenSSL's SHA-256 0.19 s).
///
/// Only the compression function is native code; padding, lengths and output are here. ``TwinSHA256Tests`` checks
/// every result against OpenSSL (``HashState``) for lengths across block boundaries and split updates.
///
/// `nil` from ``init(prefix:)`` where the CPU has no SHA extensions (other CPUs, other architectures): callers then
/// hash as before with ``HashState``.
///
/// - Important: Not thread-safe; one thread at a time.
package final class TwinSHA256 {
    /// Whether this CPU can run it.
    package static let isAvailable = upa_sha256_ni_available() != 0

    /// SHA-256's initial state.
    static let initialState: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]

    /// The state of the plain digest (the bytes as they are).
    private var plain: [UInt32] = TwinSHA256.initialState
    /// The state of the prefixed digest; empty for a single digest (``SHA256Midstate/resume()``).
    private var prefixed: [UInt32]
    /// The bytes of the last, incomplete block (fewer than 64).
    private var pending: [UInt8] = []
    /// The bytes added since creation (the prefix not counted).
    private(set) var byteCount: Int64 = 0
    /// The prefix of the second digest (a whole number of 64-byte blocks).
    let prefix: [UInt8]

    /// Starts both digests: the second has already taken `prefix`; `nil` when the CPU has no SHA extensions or
    /// `prefix` is not a whole number of 64-byte blocks.
    package init?(prefix: [UInt8]) {
        guard Self.isAvailable, prefix.count % 64 == 0 else { return nil }
        var state = Self.initialState
        prefix.withUnsafeBytes { bytes in
            state.withUnsafeMutableBufferPointer { words in
                upa_sha256_ni_blocks(
                    words.baseAddress,
                    nil,
                    bytes.bindMemory(to: UInt8.self).baseAddress,
                    prefix.count / 64
                )
            }
        }
        prefixed = state
        self.prefix = prefix
    }

    /// One digest continuing from `midstate` (see ``SHA256Midstate/resume()``).
    fileprivate init(resuming midstate: SHA256Midstate) {
        plain = midstate.state
        prefixed = []
        pending = midstate.pending
        byteCount = midstate.byteCount
        prefix = []
    }

    /// Adds `bytes` to both digests.
    package func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), !bytes.isEmpty else { return }
        var count = bytes.count
        byteCount += Int64(count)
        if !pending.isEmpty {
            let taken = min(64 - pending.count, count)
            pending.append(contentsOf: UnsafeBufferPointer(start: base, count: taken))
            base += taken
            count -= taken
            guard pending.count == 64 else { return }
            pending.withUnsafeBufferPointer { block in
                if let start = block.baseAddress { compress(start, blocks: 1) }
            }
            pending.removeAll(keepingCapacity: true)
        }
        let whole = count / 64
        if whole > 0 { compress(base, blocks: whole) }
        let rest = count - whole * 64
        if rest > 0 { pending.append(contentsOf: UnsafeBufferPointer(start: base + whole * 64, count: rest)) }
    }

    /// The plain digest of everything added, as lowercase hex; more bytes may follow.
    package func plainHex() -> String {
        HexDigest.string(Self.finish(plain, pending: pending, totalBytes: byteCount))
    }

    /// The prefixed digest so far, to be continued elsewhere (`nil` for a single digest).
    package func prefixedMidstate() -> SHA256Midstate? {
        guard !prefixed.isEmpty else { return nil }
        return SHA256Midstate(
            state: prefixed,
            pending: pending,
            byteCount: Int64(prefix.count) + byteCount,
            prefix: prefix
        )
    }

    private func compress(_ data: UnsafePointer<UInt8>, blocks: Int) {
        plain.withUnsafeMutableBufferPointer { first in
            if prefixed.isEmpty {
                upa_sha256_ni_blocks(first.baseAddress, nil, data, blocks)
            } else {
                prefixed.withUnsafeMutableBufferPointer { second in
                    upa_sha256_ni_blocks(first.baseAddress, second.baseAddress, data, blocks)
                }
            }
        }
    }

    /// The digest of a state that has taken `totalBytes` bytes, the last `pending` of them not yet compressed:
    /// SHA-256's padding (0x80, zeros, the length in bits, big-endian), then the state's words big-endian.
    static func finish(_ state: [UInt32], pending: [UInt8], totalBytes: Int64) -> [UInt8] {
        var state = state
        var tail = pending
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        let bits = UInt64(totalBytes) &* 8
        for shift in stride(from: 56, through: 0, by: -8) {
            tail.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
        tail.withUnsafeBufferPointer { bytes in
            state.withUnsafeMutableBufferPointer { words in
                upa_sha256_ni_blocks(words.baseAddress, nil, bytes.baseAddress, bytes.count / 64)
            }
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in state {
            for shift in stride(from: 24, through: 0, by: -8) {
                digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift)))
            }
        }
        return digest
    }
}

/// A SHA-256 in progress, taken from a ``TwinSHA256`` and continued later in the same process with more bytes: the
/// tar's SHA-256 over its headers and the video's body, carried from the download to the packer.
///
/// It holds a digest's inner state, never the bytes it saw (besides the last incomplete block, under 64 bytes).
/// Never persisted.
package struct SHA256Midstate: Sendable, Hashable, CustomStringConvertible {
    /// The eight state words after the compressed blocks.
    fileprivate let state: [UInt32]
    /// The bytes after the last whole block (fewer than 64).
    fileprivate let pending: [UInt8]
    /// How many bytes the digest has taken, the prefix included.
    package let byteCount: Int64
    /// The bytes the digest took before the stream (the tar headers), which the packer compares with the headers it
    /// expects.
    package let prefix: [UInt8]

    package var description: String { "SHA256Midstate(\(byteCount) bytes)" }

    /// A digest that continues from here: ``TwinSHA256/update(_:)`` adds more bytes, ``TwinSHA256/plainHex()``
    /// finishes it.
    package func resume() -> TwinSHA256 { TwinSHA256(resuming: self) }
}
