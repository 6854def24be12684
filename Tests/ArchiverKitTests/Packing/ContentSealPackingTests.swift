import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// Packing checks a staged file against the download's ``ContentSeal`` when it has one (instead of its SHA-256).
@Suite(.timeLimit(.minutes(3))) struct ContentSealPackingTests {
    /// Seals each archived resource's staged bytes as its download would have (`corrupting` seals other bytes).
    static func sealed(_ recording: StagedRecording, corrupting kind: String? = nil) throws -> StagedRecording {
        var recording = recording
        for index in recording.resources.indices where recording.resources[index].availability == .archived {
            var bytes = try [UInt8](Data(contentsOf: try #require(recording.resources[index].stagedFile)))
            if recording.resources[index].kind == kind { bytes[bytes.count / 2] ^= 0x80 }
            let sealer = try #require(ContentSeal.Sealer())
            bytes.withUnsafeBytes { sealer.update($0) }
            recording.resources[index].contentSeal = sealer.seal()
        }
        return recording
    }

    static func leftovers(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("archive").path)
    }

    @Test func sealedResourcesPackIntoTheSameVerifiedArchive() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory)
            let plain = try PackingFixture.pack(recording, in: directory)
            let plainBytes = try Data(contentsOf: plain.tarURL)
            let packed = try PackingFixture.pack(try Self.sealed(recording), in: directory)
            #expect(try Data(contentsOf: packed.tarURL) == plainBytes)
            #expect(packed.sha256 == plain.sha256)
            #expect(ArchiverVerifierShortcut.verify(packed.tarURL).isValid)
        }
    }

    @Test func aSealedStagedFileWhoseBytesChangedIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try Self.sealed(try PackingFixture.fullRecording(in: directory))
            let video = try #require(recording.resources.first { $0.kind == "video" }?.stagedFile)
            var bytes = try [UInt8](Data(contentsOf: video))
            bytes[1_000_000] ^= 0x01
            try Data(bytes).write(to: video)
            #expect(throws: PackingError(code: .digestMismatch, message: "")) {
                try PackingFixture.pack(recording, in: directory)
            }
            #expect(try Self.leftovers(in: directory).isEmpty)
        }
    }

    @Test func theSealIsWhatIsCheckedWhenThereIsOne() async throws {
        try await withTemporaryDirectory { directory in
            // The staged bytes match their SHA-256 but not the seal (of other bytes): the seal decides.
            let recording = try Self.sealed(try PackingFixture.fullRecording(in: directory), corrupting: "thumbnail")
            let error = #expect(throws: PackingError.self) { try PackingFixture.pack(recording, in: directory) }
            #expect(error?.code == .digestMismatch)
            #expect(error?.message.contains("thumbnail") == true)
            #expect(error?.message.contains("re-download") == true)
            #expect(try Self.leftovers(in: directory).isEmpty)
        }
    }
}
