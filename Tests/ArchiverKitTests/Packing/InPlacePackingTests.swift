import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// A staged video whose download reserved the tar's first bytes becomes the tar itself (no copy): the result is
/// byte-for-byte the copy's, the staged bytes are checked as before, and whatever a crash leaves is handled.
@Suite(.timeLimit(.minutes(3))) struct InPlacePackingTests {
    /// `recording` with its video staged as a download with a ``PackingFront`` leaves it: `front` (default: the
    /// headers for its size) then the body, then `tail`.
    static func reserved(
        _ recording: StagedRecording,
        in directory: URL,
        front: [UInt8]? = nil,
        tail: [UInt8] = []
    ) throws -> (recording: StagedRecording, staged: URL) {
        var recording = recording
        let index = try #require(recording.resources.firstIndex { $0.kind == "video" })
        let resource = recording.resources[index]
        let body = try [UInt8](Data(contentsOf: try #require(resource.stagedFile)))
        let fileName = ArchiveLayout.fileName(kind: "video", mediaType: resource.mediaType)
        let packingFront = try PackingFront(
            recordingID: recording.recordingID,
            fileName: fileName,
            createdAt: recording.createdAt
        )
        let header = try front ?? #require(packingFront.header(size: Int64(body.count)))
        #expect(header.count == packingFront.reservedBytes)
        let staged = directory.appendingPathComponent("reserved-" + fileName)
        try Data(header + body + tail).write(to: staged)
        recording.resources[index].stagedFile = staged
        recording.resources[index].dataOffset = Int64(packingFront.reservedBytes)
        return (recording, staged)
    }

    static func identity(_ url: URL) -> [UInt64]? {
        var info = stat()
        guard lstat(url.path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }

    /// The copy's tar and sidecar for `recording` (its staged files plain).
    static func copied(_ recording: StagedRecording, in directory: URL) throws -> (tar: Data, sidecar: Data) {
        let packed = try PackingFixture.pack(recording, in: directory.appendingPathComponent("copy"))
        return (try Data(contentsOf: packed.tarURL), try Data(contentsOf: packed.sidecarURL))
    }

    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, stdout: String) {
        let result = try await ChildProcess.run(URL(fileURLWithPath: executable), arguments)
        return (result.status, result.stdout + result.stderr)
    }

    @Test func theStagedVideoBecomesTheTarByteForByteAsTheCopyWouldWriteIt() async throws {
        try await withTemporaryDirectory { directory in
            let plain = try PackingFixture.fullRecording(in: directory, id: "rec_ü 1")
            let expected = try Self.copied(plain, in: directory)
            let (recording, staged) = try Self.reserved(plain, in: directory)
            let packed = try PackingFixture.pack(recording, in: directory.appendingPathComponent("in-place"))
            #expect(Self.identity(packed.tarURL) == Self.identity(staged), "the tar is not the staged file")
            #expect(try Data(contentsOf: packed.tarURL) == expected.tar)
            #expect(try Data(contentsOf: packed.sidecarURL) == expected.sidecar)
            #expect(!FileManager.default.fileExists(atPath: packed.tarURL.path + ".partial"))
            #expect(ArchiveVerifier().verify(tarURL: packed.tarURL).isValid)
            let list = try await Self.run("/usr/bin/tar", ["-tvf", packed.tarURL.path])
            #expect(list.status == 0 && list.stdout.contains("data/video.webm"), "\(list)")
            let extracted = directory.appendingPathComponent("extracted")
            try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
            #expect(try await Self.run("/usr/bin/tar", ["-xf", packed.tarURL.path, "-C", extracted.path]).status == 0)
            let sums = try await Self.run(
                "/bin/sh",
                [
                    "-c", "cd \"$1\" && sha256sum -c \"$2\"", "sh", packed.tarURL.deletingLastPathComponent().path,
                    packed.sidecarURL.lastPathComponent,
                ]
            )
            #expect(sums.status == 0 && sums.stdout.contains(": OK"), "\(sums)")
        }
    }

    @Test func aSealedReservedVideoPacksInPlaceAndAChangedBodyIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let plain = try PackingFixture.fullRecording(in: directory)
            let expected = try Self.copied(plain, in: directory)
            var (recording, staged) = try Self.reserved(plain, in: directory)
            let index = try #require(recording.resources.firstIndex { $0.kind == "video" })
            let body = try [UInt8](Data(contentsOf: try #require(plain.resources[index].stagedFile)))
            let sealer = try #require(ContentSeal.Sealer())
            body.withUnsafeBytes { sealer.update($0) }
            recording.resources[index].contentSeal = sealer.seal()
            let output = directory.appendingPathComponent("in-place")
            let packed = try PackingFixture.pack(recording, in: output)
            #expect(Self.identity(packed.tarURL) == Self.identity(staged))
            #expect(try Data(contentsOf: packed.tarURL) == expected.tar)

            // The same staged bytes with one body byte changed: refused by the seal, no tar, nothing appended.
            let (changed, changedStaged) = try Self.reserved(plain, in: directory.appendingPathComponent("copy"))
            var bytes = try [UInt8](Data(contentsOf: changedStaged))
            bytes[bytes.count - 100] ^= 0x10
            try Data(bytes).write(to: changedStaged)
            var sealedChanged = changed
            sealedChanged.resources[index].contentSeal = recording.resources[index].contentSeal
            let other = directory.appendingPathComponent("refused")
            let error = #expect(throws: PackingError.self) { try PackingFixture.pack(sealedChanged, in: other) }
            #expect(error?.code == .digestMismatch)
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: other.appendingPathComponent("archive").path)
                    .isEmpty
            )
            #expect(try Data(contentsOf: changedStaged).count == bytes.count)
        }
    }

    @Test func aChangedReservedBodyOrFrontIsRefusedWithoutASeal() async throws {
        for position in [PositionInFile.body, .front] {
            try await withTemporaryDirectory { directory in
                let plain = try PackingFixture.fullRecording(in: directory)
                let (recording, staged) = try Self.reserved(plain, in: directory)
                var bytes = try [UInt8](Data(contentsOf: staged))
                let offset = Int(recording.resources.first { $0.kind == "video" }?.dataOffset ?? 0)
                // The body's change is caught by its SHA-256; a front changed after the pre-check would be caught
                // by the comparison in the single pass, and changed before it, the copy is used: either way, the
                // tar never holds other bytes than those downloaded.
                bytes[position == .body ? offset + 5000 : 100] ^= 0x01
                try Data(bytes).write(to: staged)
                if position == .body {
                    let error = #expect(throws: PackingError.self) { try PackingFixture.pack(recording, in: directory) }
                    #expect(error?.code == .digestMismatch)
                    #expect(error?.message.contains("re-download") == true)
                    let archive = directory.appendingPathComponent("archive").path
                    #expect(try FileManager.default.contentsOfDirectory(atPath: archive).isEmpty)
                } else {
                    let packed = try PackingFixture.pack(recording, in: directory)
                    #expect(
                        Self.identity(packed.tarURL) != Self.identity(staged),
                        "a changed front was packed in place"
                    )
                    #expect(ArchiveVerifier().verify(tarURL: packed.tarURL).isValid)
                    #expect(try Data(contentsOf: staged) == Data(bytes))
                }
            }
        }
    }

    enum PositionInFile { case body, front }

    @Test func aFrontThatIsNotTheHeaderForTheSizeIsCopiedFromItsOffset() async throws {
        try await withTemporaryDirectory { directory in
            let plain = try PackingFixture.fullRecording(in: directory)
            let expected = try Self.copied(plain, in: directory)
            let video = try #require(plain.resources.first { $0.kind == "video" })
            let front = try PackingFront(
                recordingID: plain.recordingID,
                fileName: "video.webm",
                createdAt: plain.createdAt
            )
            // What a download of 8 GiB or more keeps: the placeholder, not the headers for its size.
            let (recording, staged) = try Self.reserved(plain, in: directory, front: front.placeholder)
            let before = try Data(contentsOf: staged)
            let packed = try PackingFixture.pack(recording, in: directory.appendingPathComponent("in-place"))
            #expect(Self.identity(packed.tarURL) != Self.identity(staged))
            #expect(try Data(contentsOf: packed.tarURL) == expected.tar)
            #expect(try Data(contentsOf: staged) == before)
            #expect(before.count == front.reservedBytes + Int(video.size))
        }
    }

    /// Staging on another file system (say `--staging` for S3): no hard link is possible, the copy is used.
    @Test func aStagedVideoOnAnotherFileSystemIsCopied() async throws {
        let shm = URL(fileURLWithPath: "/dev/shm")
        try await withTemporaryDirectory { directory in
            let stagingDevice = Self.identity(shm)?.first
            guard let stagingDevice, stagingDevice != Self.identity(directory)?.first else {
                print("skipping: /dev/shm is missing or on the same file system as the temporary directory")
                return
            }
            let staging = shm.appendingPathComponent("archiver-in-place-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: staging) }
            let plain = try PackingFixture.fullRecording(in: directory)
            let expected = try Self.copied(plain, in: directory)
            let (recording, staged) = try Self.reserved(plain, in: staging)
            let packed = try PackingFixture.pack(recording, in: directory.appendingPathComponent("in-place"))
            #expect(Self.identity(packed.tarURL) != Self.identity(staged))
            #expect(try Data(contentsOf: packed.tarURL) == expected.tar)
            #expect(try Data(contentsOf: packed.sidecarURL) == expected.sidecar)
        }
    }

    /// Crash case (a): killed while appending the tail; the staged file holds bytes past its body and
    /// `<tar>.partial` is a second name of it.
    @Test func aTailLeftByAnInterruptedPackIsCutOffBeforePacking() async throws {
        try await withTemporaryDirectory { directory in
            let plain = try PackingFixture.fullRecording(in: directory)
            let expected = try Self.copied(plain, in: directory)
            let junk = PackingFixture.bytes(300_000, seed: 9)
            let (recording, staged) = try Self.reserved(plain, in: directory, tail: junk)
            let output = directory.appendingPathComponent("in-place")
            let archive = output.appendingPathComponent("archive")
            try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
            let tar = archive.appendingPathComponent("rec_123.tar")
            #expect(link(staged.path, tar.path + ".partial") == 0)
            let packed = try PackingFixture.pack(recording, in: output)
            #expect(Self.identity(packed.tarURL) == Self.identity(staged))
            #expect(try Data(contentsOf: packed.tarURL) == expected.tar)
            #expect(try Data(contentsOf: packed.sidecarURL) == expected.sidecar)
            #expect(!FileManager.default.fileExists(atPath: tar.path + ".partial"))
        }
    }

    /// Crash case (b): killed after the rename, before the catalog: `<tar>` is the staged file.
    ///
    /// Packing again unlinks that uncatalogued tar and packs afresh; a staged file with any other name is never rewritten.
    @Test func anUncataloguedTarThatIsTheStagedFileIsPackedAgainNotRewrittenUnderAnotherName() async throws {
        try await withTemporaryDirectory { directory in
            let plain = try PackingFixture.fullRecording(in: directory)
            let expected = try Self.copied(plain, in: directory)
            let (recording, staged) = try Self.reserved(plain, in: directory)
            let output = directory.appendingPathComponent("in-place")
            let first = try PackingFixture.pack(recording, in: output)
            #expect(Self.identity(first.tarURL) == Self.identity(staged))
            // Packed again from the same staging (its file is now the whole tar): same tar, still in place.
            let second = try PackingFixture.pack(recording, in: output)
            #expect(Self.identity(second.tarURL) == Self.identity(staged))
            #expect(try Data(contentsOf: second.tarURL) == expected.tar)
            #expect(try Data(contentsOf: second.sidecarURL) == expected.sidecar)

            // A third name (say a tar catalogued under another path) keeps its bytes: packing copies instead.
            let elsewhere = directory.appendingPathComponent("elsewhere.tar")
            #expect(link(staged.path, elsewhere.path) == 0)
            let third = try PackingFixture.pack(recording, in: output)
            #expect(Self.identity(third.tarURL) != Self.identity(staged))
            #expect(try Data(contentsOf: third.tarURL) == expected.tar)
            #expect(try Data(contentsOf: elsewhere) == expected.tar)
        }
    }
}
