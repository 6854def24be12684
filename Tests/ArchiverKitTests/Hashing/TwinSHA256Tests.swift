import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// ``TwinSHA256`` (SHA-NI, two states over one schedule) must give exactly OpenSSL's SHA-256 (``HashState``) for the
/// bytes and for the bytes behind its prefix, whatever the lengths and however the bytes are split.
@Suite(.enabled(if: TwinSHA256.isAvailable, "this CPU has no SHA extensions; TwinSHA256 is then never used"))
struct TwinSHA256Tests {
    /// Lengths around every block boundary the padding cares about (55/56/63/64), and some larger ones.
    static let lengths = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 65_537, 1_000_003]

    @Test func knownAnswers() throws {
        let twin = try #require(TwinSHA256(prefix: []))
        #expect(twin.plainHex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        Array("abc".utf8).withUnsafeBytes { twin.update($0) }
        #expect(twin.plainHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // FIPS 180-2's two-block message.
        let twoBlocks = try #require(TwinSHA256(prefix: []))
        Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8).withUnsafeBytes { twoBlocks.update($0) }
        #expect(twoBlocks.plainHex() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func bothDigestsAgreeWithOpenSSLForEveryLengthAndSplit() throws {
        let prefix = PackingFixture.bytes(1536, seed: 3)
        let bytes = PackingFixture.bytes(Self.lengths.max()! + 200, seed: 4)
        var generator = SystemRandomNumberGenerator()
        for length in Self.lengths {
            let body = Array(bytes[0..<length])
            for split in 0..<3 {
                let twin = try #require(TwinSHA256(prefix: prefix))
                var offset = 0
                while offset < length {
                    // Whole, then pieces of 1..200 bytes, then pieces up to 70,000 bytes.
                    let limit = [length, 200, 70_000][split]
                    let count = min(length - offset, Int.random(in: 1...max(limit, 1), using: &generator))
                    body[offset..<offset + count].withUnsafeBytes { twin.update($0) }
                    offset += count
                }
                #expect(twin.plainHex() == HashState.hex(.sha256, of: body), "length \(length), split \(split)")
                let midstate = try #require(twin.prefixedMidstate())
                #expect(midstate.byteCount == Int64(prefix.count + length))
                #expect(midstate.prefix == prefix)
                // Continued elsewhere with more bytes, as the packer continues the tar after the body.
                let rest = Array(bytes[0..<(length % 97 + 1)])
                let resumed = midstate.resume()
                rest.withUnsafeBytes { resumed.update($0) }
                #expect(resumed.plainHex() == HashState.hex(.sha256, of: prefix + body + rest), "length \(length)")
                #expect(midstate.resume().plainHex() == HashState.hex(.sha256, of: prefix + body))
            }
        }
    }

    @Test func aPrefixThatIsNotWholeBlocksIsRefused() {
        #expect(TwinSHA256(prefix: [UInt8](repeating: 1, count: 100)) == nil)
        #expect(TwinSHA256(prefix: [UInt8](repeating: 1, count: 128)) != nil)
    }

    @Test func theDigestKeepsRunningAfterItIsRead() throws {
        let twin = try #require(TwinSHA256(prefix: [UInt8](repeating: 7, count: 64)))
        let first = PackingFixture.bytes(100, seed: 5)
        let second = PackingFixture.bytes(300, seed: 6)
        first.withUnsafeBytes { twin.update($0) }
        #expect(twin.plainHex() == HashState.hex(.sha256, of: first))
        second.withUnsafeBytes { twin.update($0) }
        #expect(twin.plainHex() == HashState.hex(.sha256, of: first + second))
        let midstate = try #require(twin.prefixedMidstate())
        #expect(
            midstate.resume().plainHex()
                == HashState.hex(.sha256, of: [UInt8](repeating: 7, count: 64) + first + second)
        )
    }
}
