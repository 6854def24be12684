import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// The data-first member order (payload before the tag files) and the readers that must stay cheap and accept
/// archives of both orders.
@Suite(.timeLimit(.minutes(3))) struct DataFirstOrderTests {
    @Test func readManifestSeeksOverThePayloadOfADataFirstTar() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 8 << 20)
            let packed = try PackingFixture.pack(recording, in: directory)
            var bytesRead: Int64 = 0
            let manifest = try ArchiveReader.readManifest(packed.tarURL, bytesRead: &bytesRead)
            #expect(manifest == packed.manifest)
            // The manifest lies after 8 MiB of video; only headers and small members are read.
            #expect(bytesRead < 1 << 20, "readManifest read \(bytesRead) of \(packed.size) bytes")
        }
    }

    @Test func readManifestOfATruncatedDataFirstTarFails() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 1 << 20)
            let packed = try PackingFixture.pack(recording, in: directory)
            #expect(truncate(packed.tarURL.path, 512 * 1024) == 0)
            #expect(throws: PackingError.self) { try ArchiveReader.readManifest(packed.tarURL) }
        }
    }

    @Test func archivesInTheEarlierOrderStillVerifyAndYieldTheirManifest() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 2 << 20)
            let packed = try PackingFixture.pack(recording, in: directory)
            try PackingFixture.rewrite(packed.tarURL) { PackingFixture.earlierVersionOrder($0) }
            let names = try PackingFixture.members(of: packed.tarURL).map(\.name)
            #expect(
                names.prefix(5) == [
                    "rec_123/", "rec_123/bagit.txt", "rec_123/bag-info.txt",
                    "rec_123/archive-manifest.json", "rec_123/data/",
                ]
            )
            let verdict = ArchiveVerifier().verify(tarURL: packed.tarURL)
            #expect(verdict.isValid, "\(verdict.problems)")
            var bytesRead: Int64 = 0
            #expect(try ArchiveReader.readManifest(packed.tarURL, bytesRead: &bytesRead) == packed.manifest)
            #expect(bytesRead < 1 << 20)
        }
    }
}
