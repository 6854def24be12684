import Crypto
import Foundation
import Testing

@testable import ArchiverKit

/// ``HashState`` is the one place the SHA implementation is chosen: pin it to known answers and to swift-crypto.
@Suite struct HashStateTests {
    @Test func knownAnswerVectors() {
        #expect(
            HashState.hex(.sha256, of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        #expect(
            HashState.hex(.sha256, of: Array("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        )
        #expect(
            HashState.hex(.sha512, of: Array("abc".utf8))
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
    }

    @Test func finalizeLeavesTheStateRunningAndResetStartsAfresh() {
        for algorithm in [HashState.Algorithm.sha256, .sha512] {
            let state = HashState(algorithm)
            state.update(Array("a".utf8))
            #expect(state.finalizeHex() == HashState.hex(algorithm, of: Array("a".utf8)))
            state.update(Array("bc".utf8))
            #expect(state.finalizeHex() == HashState.hex(algorithm, of: Array("abc".utf8)))
            state.reset()
            state.update(Array("xyz".utf8))
            #expect(state.finalize() == HashState.digest(algorithm, of: Array("xyz".utf8)))
            #expect(state.finalize().count == algorithm.byteCount)
        }
    }

    @Test func unevenChunksAgreeWithSwiftCrypto() {
        let bytes = PackingFixture.bytes(3 << 20 | 12345, seed: 7)
        var dual = DualDigest()
        var offset = 0
        var step = 1
        bytes.withUnsafeBytes { buffer in
            while offset < buffer.count {
                let count = min(step, buffer.count - offset)
                dual.update(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)]))
                offset += count
                step = step * 7 % 1_048_573 + 1
            }
        }
        let (sha256, sha512) = dual.finalize()
        #expect(dual.byteCount == Int64(bytes.count))
        #expect(sha256 == HexDigest.string(SHA256.hash(data: bytes)))
        #expect(sha512 == HexDigest.string(SHA512.hash(data: bytes)))
    }

    /// ``BackgroundDigest/reset()`` forgets bytes still in the unsubmitted buffer and those already in the ring,
    /// and finalizing twice gives the same digest (finalizing does not end the running digest).
    @Test func backgroundDigestResetForgetsEverythingAndFinalizeIsRepeatable() {
        let bytes = PackingFixture.bytes(200_000, seed: 13)
        for algorithm in [HashState.Algorithm.sha256, .sha512] {
            let digest = BackgroundDigest(algorithm, bufferBytes: 65536, bufferCount: 2)
            defer { digest.shutdown() }
            bytes.withUnsafeBytes { digest.update($0) }  // three full buffers submitted, a partial one pending
            digest.reset()
            Array("abc".utf8).withUnsafeBytes { digest.update($0) }
            let abc = HashState.hex(algorithm, of: Array("abc".utf8))
            #expect(digest.finalizeHex() == abc)
            #expect(digest.finalizeHex() == abc)
            Array("d".utf8).withUnsafeBytes { digest.update($0) }
            #expect(digest.finalizeHex() == HashState.hex(algorithm, of: Array("abcd".utf8)))
        }
    }

    /// The sidecar's SHA-256 is computed on a second thread: uneven chunks across ring-buffer boundaries, and more
    /// bytes than the ring holds at once, must still give the single-threaded digest.
    @Test func backgroundDigestAgreesWithSwiftCrypto() {
        let bytes = PackingFixture.bytes(3 << 20 | 12345, seed: 11)
        for algorithm in [HashState.Algorithm.sha256, .sha512] {
            let digest = BackgroundDigest(algorithm, bufferBytes: 65536, bufferCount: 2)
            defer { digest.shutdown() }
            var offset = 0
            var step = 1
            bytes.withUnsafeBytes { buffer in
                while offset < buffer.count {
                    let count = min(step, buffer.count - offset)
                    digest.update(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)]))
                    offset += count
                    step = step * 7 % 200_003 + 1
                }
            }
            let expected =
                algorithm == .sha256
                ? HexDigest.string(SHA256.hash(data: bytes)) : HexDigest.string(SHA512.hash(data: bytes))
            #expect(digest.finalizeHex() == expected)
        }
    }

    /// The packer reads staged files straight into the sidecar digest's ring buffers: a lent buffer handed back to
    /// `update` is hashed in place, after the copied bytes before it and before those after it; a lent buffer
    /// given back unused, or passed from other than its first byte, adds nothing it did not copy.
    @Test func backgroundDigestHashesLentBuffersInPlaceAndInOrder() {
        let bytes = PackingFixture.bytes(1 << 20 | 777, seed: 12)
        let digest = BackgroundDigest(.sha256, bufferBytes: 65536, bufferCount: 3)
        defer { digest.shutdown() }
        var offset = 0
        var round = 0
        bytes.withUnsafeBytes { source in
            while offset < source.count {
                round += 1
                // A "header" copied into the ring, 1 to 1535 bytes.
                let header = min(source.count - offset, round * 389 % 1535 + 1)
                digest.update(UnsafeRawBufferPointer(rebasing: source[offset..<(offset + header)]))
                offset += header
                let lent = digest.lendBuffer()
                #expect(lent.count == 65536)
                let count = min(source.count - offset, lent.count - round % 5)
                lent.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
                if round % 4 == 0 {
                    // Not handed over: given back, so its bytes are not hashed; they are sent by copy instead.
                    digest.endLending()
                    digest.update(UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
                } else if round % 7 == 0 {
                    // Handed over from its second byte: copied, like any other bytes.
                    digest.update(UnsafeRawBufferPointer(rebasing: source[offset..<(offset + 1)]))
                    digest.update(UnsafeRawBufferPointer(rebasing: lent[1..<count]))
                    digest.endLending()
                } else {
                    digest.update(UnsafeRawBufferPointer(rebasing: lent[0..<count]))
                    digest.endLending()
                }
                offset += count
            }
        }
        #expect(digest.finalizeHex() == HexDigest.string(SHA256.hash(data: bytes)))
    }

    /// A download's SHA-512 runs on the caller's thread while enough streams are hashing, else on the pipeline's
    /// hashing thread, and a stream may switch between the two at any chunk (downloads start and finish around it):
    /// every mix must give the single-threaded digests, with the bytes in order.
    @Test func digestPipelineAgreesWhetherSHA512RunsInlineOrOnItsThread() {
        let bytes = PackingFixture.bytes(2 << 20 | 4321, seed: 14)
        let expected = (HexDigest.string(SHA256.hash(data: bytes)), HexDigest.string(SHA512.hash(data: bytes)))
        // Always on the hashing thread, always inline, and switching every few chunks.
        for mode in ["thread", "inline", "mixed"] {
            let pipeline = DigestPipeline(
                bufferBytes: 65536,
                bufferCount: 2,
                inlineFromActiveStreams: mode == "inline" ? 0 : .max
            )
            defer { pipeline.shutdown() }
            var offset = 0
            var step = 1
            var chunk = 0
            bytes.withUnsafeBytes { buffer in
                while offset < buffer.count {
                    chunk += 1
                    if mode == "mixed" { pipeline.inlineFromActiveStreams = chunk % 5 < 2 ? 0 : .max }
                    let count = min(step, buffer.count - offset)
                    pipeline.update(UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)]))
                    offset += count
                    step = step * 7 % 100_003 + 1
                }
            }
            let digests = pipeline.finalize()
            #expect(digests.sha256 == expected.0, "\(mode)")
            #expect(digests.sha512 == expected.1, "\(mode)")
        }
    }
}
