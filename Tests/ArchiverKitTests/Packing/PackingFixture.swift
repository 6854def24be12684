import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// Builds staged recordings from real files in a test's temporary directory, and rewrites tars for tamper tests.
enum PackingFixture {
    static let createdAt = Date(timeIntervalSince1970: 1_714_567_890.123)
    static let archivedAt = Date(timeIntervalSince1970: 1_720_000_000.456)

    /// Deterministic pseudo-random bytes.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        var out = [UInt8](repeating: 0, count: count)
        for index in 0..<count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            out[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        return out
    }

    /// Writes `bytes` to `directory/name` and returns an archived resource for it.
    static func stage(
        _ kind: String,
        _ name: String,
        _ bytes: [UInt8],
        mediaType: String?,
        in directory: URL
    ) throws -> StagedResource {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        let digest = try FileDigest.compute(url)
        return StagedResource(
            kind: kind,
            stagedFile: url,
            mediaType: mediaType,
            size: digest.size,
            sha256: digest.sha256,
            sha512: digest.sha512,
            provenance: ArchiveProvenance(
                source: "https://blobs.example.com/\(kind)/\(name)",
                etag: "\"etag-\(kind)\"",
                lastModified: "Wed, 01 May 2024 12:00:00 GMT",
                requestIds: ["req-\(kind)-1", "req-\(kind)-2"],
                resolvedAt: createdAt.addingTimeInterval(100),
                downloadedAt: createdAt.addingTimeInterval(101.5),
                attempts: 2,
                resumedBytes: 7,
                httpStatus: 206
            )
        )
    }

    /// A recording with every kind archived (non-empty), staged under `directory/staging`.
    static func fullRecording(
        in directory: URL,
        id: String = "rec_123",
        videoBytes: Int = 3 * 1024 * 1024 + 17
    )
        throws -> StagedRecording
    {
        let staging = directory.appendingPathComponent("staging-\(RecordingPathComponent.encode(id))")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        let resources = [
            try stage(
                "actions",
                "a.json",
                Array(#"[{"type":"click"}]"#.utf8),
                mediaType: "application/json",
                in: staging
            ),
            try stage("video", "v.part", bytes(videoBytes, seed: 1), mediaType: "video/webm", in: staging),
            try stage("thumbnail", "t.part", bytes(4096, seed: 2), mediaType: "image/png", in: staging),
            try stage(
                "console-log",
                "c.part",
                Array("{\"level\":\"info\",\"msg\":\"héllo\"}\n".utf8),
                mediaType: nil,
                in: staging
            ),
            try stage(
                "network-log",
                "n.part",
                Array(#"{"entries":[]}"#.utf8),
                mediaType: "application/json",
                in: staging
            ),
        ]
        return StagedRecording(
            workspaceID: "ws_1",
            recordingID: id,
            createdAt: createdAt,
            durationMs: 61_000,
            runID: "run-1",
            archivedAt: archivedAt,
            recordingJSON: Array(#"{"id":"rec_123","title":"Démo – ünïcode"}"#.utf8),
            resources: resources
        )
    }

    /// Packs `recording` into `directory/archive/<encoded>.tar`.
    static func pack(_ recording: StagedRecording, in directory: URL) throws -> PackedArchive {
        let out = directory.appendingPathComponent("archive")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let tar = out.appendingPathComponent(RecordingPathComponent.encode(recording.recordingID) + ".tar")
        return try ArchivePackager().pack(recording, to: tar)
    }

    struct Member: Equatable {
        var name: String
        var isDirectory: Bool
        var bytes: [UInt8]
    }

    /// Every member of a tar, read back with libarchive.
    static func members(of tar: URL) throws -> [Member] {
        let reader = try ArchiveReadHandle(path: tar.path, bufferBytes: 64 * 1024)
        var members: [Member] = []
        while let entry = try reader.nextEntry() {
            var bytes: [UInt8] = []
            try reader.readData { bytes.append(contentsOf: $0) }
            members.append(Member(name: entry.name, isDirectory: entry.kind == .directory, bytes: bytes))
        }
        return members
    }

    /// `members` of a data-first archive in the order earlier versions wrote: the bag directory, `bagit.txt`,
    /// `bag-info.txt`, `archive-manifest.json`, then `data/` and the rest as they were.
    static func earlierVersionOrder(_ members: [Member]) -> [Member] {
        let leading = ["bagit.txt", "bag-info.txt", ArchiveLayout.manifestFileName]
        let bag = members.first { $0.isDirectory && $0.name.split(separator: "/").count == 1 }
        let tags = leading.compactMap { name in members.first { $0.name.hasSuffix("/" + name) && !$0.isDirectory } }
        let rest = members.filter { member in
            member != bag && !tags.contains { $0.name == member.name }
        }
        return (bag.map { [$0] } ?? []) + tags + rest
    }

    /// Rewrites a tar through `transform`, then writes a sidecar that matches the new bytes.
    static func rewrite(_ tar: URL, _ transform: ([Member]) -> [Member]) throws {
        let members = transform(try members(of: tar))
        let writer = try ArchiveWriteHandle(path: tar.path)
        let metadata = ArchiveWriteHandle.MemberMetadata(mtime: 0)
        for member in members {
            if member.isDirectory {
                try writer.addDirectory(member.name, metadata: metadata)
            } else {
                try writer.addFile(member.name, bytes: member.bytes, metadata: metadata)
            }
        }
        let result = try writer.finish()
        try Data("\(result.sha256)  \(tar.lastPathComponent)\n".utf8).write(
            to: URL(fileURLWithPath: tar.path + ".sha256")
        )
    }

    /// Runs `executable` with `arguments` under `env -i` (empty environment, so the C locale).
    static func runWithEmptyEnvironment(
        _ executable: URL,
        _ arguments: [String]
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["-i", executable.path] + arguments
        )
        return (result.status, result.stdout, result.stderr)
    }
}
