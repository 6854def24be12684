import ArchiverTestSupport
import Crypto
import Foundation
import Testing

@testable import ArchiverKit

@Suite(.timeLimit(.minutes(3))) struct ArchivePackagerTests {
    @Test func roundTripPreservesNamesOrderBytesAndMetadata() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory)
            let packed = try PackingFixture.pack(recording, in: directory)
            let members = try PackingFixture.members(of: packed.tarURL)
            #expect(
                members.map(\.name) == [
                    "rec_123/", "rec_123/data/", "rec_123/data/video.webm", "rec_123/data/thumbnail.png",
                    "rec_123/data/console-log.ndjson", "rec_123/data/network-log.json", "rec_123/data/actions.json",
                    "rec_123/data/recording.json", "rec_123/bagit.txt", "rec_123/bag-info.txt",
                    "rec_123/archive-manifest.json", "rec_123/manifest-sha256.txt", "rec_123/manifest-sha512.txt",
                    "rec_123/tagmanifest-sha256.txt", "rec_123/tagmanifest-sha512.txt",
                ]
            )
            let byName = Dictionary(uniqueKeysWithValues: members.map { ($0.name, $0.bytes) })
            #expect(byName["rec_123/data/recording.json"] == recording.recordingJSON)
            for resource in recording.resources {
                let name = "rec_123/data/" + ArchiveLayout.fileName(kind: resource.kind, mediaType: resource.mediaType)
                let staged = try [UInt8](Data(contentsOf: try #require(resource.stagedFile)))
                #expect(byName[name] == staged, "\(name) bytes differ from the staged file")
                #expect(HexDigest.string(SHA512.hash(data: try #require(byName[name]))) == resource.sha512)
            }
            #expect(
                byName["rec_123/bagit.txt"] == Array("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".utf8)
            )
            let bagInfo = String(decoding: try #require(byName["rec_123/bag-info.txt"]), as: UTF8.self)
            let payloadBytes = recording.recordingJSON.count + recording.resources.reduce(0) { $0 + Int($1.size) }
            #expect(bagInfo.contains("Payload-Oxum: \(payloadBytes).6\n"))
            #expect(bagInfo.contains("External-Identifier: rec_123\n"))
            #expect(bagInfo.contains("Bagging-Date: 2024-07-03\n"))

            let reader = try ArchiveReadHandle(path: packed.tarURL.path, bufferBytes: 4096)
            while let entry = try reader.nextEntry() {
                #expect(entry.permissions == (entry.kind == .directory ? 0o755 : 0o644), "\(entry.name)")
                #expect(entry.mtime == 1_714_567_890)
                #expect(entry.uid == 0 && entry.gid == 0 && entry.uname == "root" && entry.gname == "root")
            }

            let tarDigest = try FileDigest.compute(packed.tarURL)
            #expect(packed.sha256 == tarDigest.sha256 && packed.size == tarDigest.size)
            let sidecar = try String(contentsOf: packed.sidecarURL, encoding: .utf8)
            #expect(sidecar == "\(tarDigest.sha256)  rec_123.tar\n")
            #expect(!FileManager.default.fileExists(atPath: packed.tarURL.path + ".partial"))
        }
    }

    @Test func manifestRecordsEveryResourceFieldAndNonArchivedReasons() async throws {
        try await withTemporaryDirectory { directory in
            var recording = try PackingFixture.fullRecording(in: directory)
            recording.resources.removeAll { $0.kind == "actions" }
            recording.resources.append(
                StagedResource(kind: "actions", availability: .notCaptured, apiMessage: "Action capture was disabled")
            )
            let packed = try PackingFixture.pack(recording, in: directory)
            let manifest = try ArchiveReader.readManifest(packed.tarURL)
            #expect(manifest == packed.manifest)
            #expect(manifest.schema == "userplane-archiver/manifest/v1")
            #expect(manifest.tool.name == "userplane-archiver" && manifest.tool.version == ArchiverKitVersion.version)
            #expect(manifest.runID == "run-1" && manifest.workspaceID == "ws_1" && manifest.recordingID == "rec_123")
            #expect(manifest.durationMs == 61_000)
            #expect(abs(manifest.createdAt.timeIntervalSince(PackingFixture.createdAt)) < 0.001)
            let actions = try #require(manifest.resources["actions"])
            #expect(actions.availability == .notCaptured && actions.message == "Action capture was disabled")
            #expect(actions.fileName == nil && actions.sha256 == nil)
            let video = try #require(manifest.resources["video"])
            let staged = try #require(recording.resources.first { $0.kind == "video" })
            #expect(
                video.availability == .archived && video.fileName == "video.webm" && video.mediaType == "video/webm"
            )
            #expect(video.size == staged.size && video.sha256 == staged.sha256 && video.sha512 == staged.sha512)
            #expect(
                video.provenance.source == "https://blobs.example.com/video/v.part"
                    && video.provenance.etag == "\"etag-video\""
            )
            #expect(
                video.provenance.lastModified == "Wed, 01 May 2024 12:00:00 GMT"
                    && video.provenance.requestIds == ["req-video-1", "req-video-2"]
            )
            #expect(
                video.provenance.attempts == 2 && video.provenance.resumedBytes == 7
                    && video.provenance.httpStatus == 206
            )
            #expect(video.provenance.resolvedAt != nil && video.provenance.downloadedAt != nil)

            let json = String(decoding: try packed.manifest.encoded(), as: UTF8.self)
            #expect(json.contains("\"archivedAt\" : \"2024-07-03T09:46:40.456Z\""))
            #expect(json.contains("\"createdAt\" : \"2024-05-01T12:51:30.123Z\""))
            #expect(try packed.manifest.encoded() == packed.manifest.encoded())
            #expect(ArchiverVerifierShortcut.verify(packed.tarURL).isValid)
        }
    }

    @Test func emptyFilesAndNoArchivedResourcesStillFormAValidBag() async throws {
        try await withTemporaryDirectory { directory in
            let staging = directory.appendingPathComponent("staging")
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            let empty = try PackingFixture.stage("console-log", "c", [], mediaType: nil, in: staging)
            let recording = StagedRecording(
                workspaceID: "ws_1",
                recordingID: "rec_empty",
                createdAt: PackingFixture.createdAt,
                durationMs: nil,
                runID: "run-2",
                archivedAt: PackingFixture.archivedAt,
                recordingJSON: [],
                resources: [
                    empty,
                    StagedResource(kind: "video", availability: .notCaptured, apiMessage: "Video capture disabled"),
                    StagedResource(kind: "thumbnail", availability: .unavailable, apiMessage: "Not generated"),
                ]
            )
            let packed = try PackingFixture.pack(recording, in: directory)
            let names = try PackingFixture.members(of: packed.tarURL).map(\.name)
            #expect(
                names.contains("rec_empty/data/console-log.ndjson") && names.contains("rec_empty/data/recording.json")
            )
            #expect(!names.contains { $0.contains("video") || $0.contains("thumbnail") })
            let verdict = ArchiverVerifierShortcut.verify(packed.tarURL)
            #expect(verdict.isValid, "\(verdict.problems)")

            let none = StagedRecording(
                workspaceID: "ws_1",
                recordingID: "rec_none",
                createdAt: PackingFixture.createdAt,
                durationMs: nil,
                runID: "run-2",
                archivedAt: PackingFixture.archivedAt,
                recordingJSON: Array("{}".utf8),
                resources: ["video", "thumbnail", "console-log", "network-log", "actions"].map {
                    StagedResource(kind: $0, availability: .notCaptured, apiMessage: "capture disabled")
                }
            )
            let packedNone = try PackingFixture.pack(none, in: directory)
            let noneVerdict = ArchiverVerifierShortcut.verify(packedNone.tarURL)
            #expect(noneVerdict.isValid, "\(noneVerdict.problems)")
            #expect(try ArchiveReader.readManifest(packedNone.tarURL).resources.count == 5)
        }
    }

    @Test func tarEndsWithTarsUsualPaddingNotTheLargeWriteBlock() async throws {
        try await withTemporaryDirectory { directory in
            let packed = try PackingFixture.pack(try PackingFixture.fullRecording(in: directory), in: directory)
            let bytes = try [UInt8](Data(contentsOf: packed.tarURL))
            #expect(bytes.count == Int(packed.size) && bytes.count % 10240 == 0)
            // After the last member (text, so its last byte is not zero): its 512-byte padding, the two zero blocks
            // of the end marker, and the record padding up to a multiple of 10240; never a 1 MiB write block.
            let trailingZeros = bytes.reversed().prefix { $0 == 0 }.count
            #expect(trailingZeros >= 1024 && trailingZeros < 511 + 1024 + 10240, "\(trailingZeros) trailing zeros")
        }
    }

    @Test func refusesStagedFileWhoseBytesChangedSinceDownload() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory)
            let video = try #require(recording.resources.first { $0.kind == "video" }?.stagedFile)
            var bytes = try [UInt8](Data(contentsOf: video))
            bytes[1_000_000] ^= 0x01
            try Data(bytes).write(to: video)
            #expect(throws: PackingError(code: .digestMismatch, message: "")) {
                try PackingFixture.pack(recording, in: directory)
            }
            let files = try FileManager.default.contentsOfDirectory(
                atPath: directory.appendingPathComponent("archive").path
            )
            #expect(files.isEmpty, "a refused pack must leave nothing behind, found \(files)")
        }
    }

    @Test func refusesStagedFileThatVanishedOrChangedSize() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory)
            let thumbnail = try #require(recording.resources.first { $0.kind == "thumbnail" }?.stagedFile)
            try Data([1, 2, 3]).write(to: thumbnail)
            #expect(throws: PackingError(code: .sizeMismatch, message: "")) {
                try PackingFixture.pack(recording, in: directory)
            }
            try FileManager.default.removeItem(at: thumbnail)
            #expect(throws: PackingError(code: .notFound, message: "")) {
                try PackingFixture.pack(recording, in: directory)
            }
            let files = try FileManager.default.contentsOfDirectory(
                atPath: directory.appendingPathComponent("archive").path
            )
            #expect(files.isEmpty, "a failed pack must leave nothing behind, found \(files)")
        }
    }

    @Test func hostileAndLongRecordingIDsStayInsideOneEncodedDirectory() async throws {
        try await withTemporaryDirectory { directory in
            for id in ["../../etc/pässwd\nx", String(repeating: "日本語", count: 120)] {
                let recording = try PackingFixture.fullRecording(in: directory, id: id, videoBytes: 1000)
                let packed = try PackingFixture.pack(recording, in: directory)
                let bag = RecordingPathComponent.encode(id)
                #expect(packed.tarURL.lastPathComponent == bag + ".tar")
                let members = try PackingFixture.members(of: packed.tarURL)
                #expect(members.allSatisfy { $0.name.hasPrefix(bag + "/") })
                #expect(try ArchiveReader.readManifest(packed.tarURL).recordingID == id)
                let verdict = ArchiverVerifierShortcut.verify(packed.tarURL)
                #expect(verdict.isValid, "\(verdict.problems)")
            }
        }
    }

    @Test func nonASCIIAndLongMemberNamesRoundTripInTheCLocale() async throws {
        try await withTemporaryDirectory { directory in
            let tar = directory.appendingPathComponent("names.tar")
            let long = "bag/" + String(repeating: "l", count: 150) + "/ünïcödé-日本-\u{1F600}.txt"
            let writer = try ArchiveWriteHandle(path: tar.path)
            try writer.addDirectory("bag/", metadata: .init(mtime: 0))
            try writer.addFile(long, bytes: Array("x".utf8), metadata: .init(mtime: 0))
            try writer.addFile("bag/é", bytes: [], metadata: .init(mtime: 0))
            _ = try writer.finish()
            let names = try PackingFixture.members(of: tar).map(\.name)
            #expect(names == ["bag/", long, "bag/é"])
        }
    }

    @Test func rejectsTarNameThatDoesNotMatchTheRecording() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory)
            #expect(throws: PackingError(code: .invalidInput, message: "")) {
                try ArchivePackager().pack(recording, to: directory.appendingPathComponent("other.tar"))
            }
        }
    }
}

/// The default verifier, for brevity.
enum ArchiverVerifierShortcut {
    static func verify(_ tar: URL) -> ArchiveVerification { ArchiveVerifier().verify(tarURL: tar) }
}
