import Foundation
import Testing

@testable import ArchiverKit

/// ``ContentSeal``: a check of bytes read back against the bytes sealed, under a secret one-time key.
@Suite struct ContentSealTests {
    static func seal(_ chunks: [[UInt8]]) throws -> ContentSeal {
        let sealer = try #require(ContentSeal.Sealer())
        for chunk in chunks { chunk.withUnsafeBytes { sealer.update($0) } }
        return sealer.seal()
    }

    static func matches(_ seal: ContentSeal, _ chunks: [[UInt8]]) -> Bool {
        let checker = seal.checker()
        for chunk in chunks { chunk.withUnsafeBytes { checker.update($0) } }
        return seal.matches(checker)
    }

    @Test func theSameBytesMatchWhateverTheChunking() throws {
        let bytes = PackingFixture.bytes(300_001, seed: 3)
        let seal = try Self.seal([Array(bytes[..<7]), Array(bytes[7..<131_072]), Array(bytes[131_072...])])
        #expect(Self.matches(seal, [bytes]))
        #expect(
            Self.matches(
                seal,
                stride(from: 0, to: bytes.count, by: 4096).map { Array(bytes[$0..<min($0 + 4096, bytes.count)]) }
            )
        )
        #expect(Self.matches(try Self.seal([]), []))
    }

    @Test func anyChangedTruncatedOrExtendedStreamDoesNotMatch() throws {
        let bytes = PackingFixture.bytes(200_000, seed: 4)
        let seal = try Self.seal([bytes])
        for index in [0, 15, 16, 99_999, 199_999] {
            var changed = bytes
            changed[index] ^= 0x01
            #expect(!Self.matches(seal, [changed]), "a flipped bit at \(index) went unnoticed")
        }
        #expect(!Self.matches(seal, [Array(bytes.dropLast())]))
        #expect(!Self.matches(seal, [bytes, [0]]))
        #expect(!Self.matches(seal, []))
    }

    @Test func everySealerDrawsItsOwnKeyAndResetDrawsANewOne() throws {
        let bytes = Array("the same bytes".utf8)
        let first = try Self.seal([bytes])
        let second = try Self.seal([bytes])
        // Fresh random keys: equal bytes give unrelated seals, so no seal can be predicted or reused.
        #expect(first != second)
        let sealer = try #require(ContentSeal.Sealer())
        bytes.withUnsafeBytes { sealer.update($0) }
        let before = sealer.seal()
        #expect(sealer.seal() == before, "sealing again without new bytes changes nothing")
        sealer.reset()
        let other = Array("other".utf8)
        other.withUnsafeBytes { sealer.update($0) }
        let after = sealer.seal()
        #expect(Self.matches(after, [other]))
        #expect(!Self.matches(after, [bytes, other]), "reset must forget the bytes before it")
        sealer.reset()
        bytes.withUnsafeBytes { sealer.update($0) }
        let again = sealer.seal()
        #expect(Self.matches(again, [bytes]))
        #expect(again != before, "reset must draw a new key: the same bytes sealed again must not give the same seal")
    }

    @Test func itsDescriptionRevealsNeitherKeyNorTag() throws {
        let seal = try Self.seal([Array("x".utf8)])
        #expect("\(seal)" == "ContentSeal(redacted)")
        #expect(String(reflecting: seal) == "ContentSeal(redacted)")
    }
}
