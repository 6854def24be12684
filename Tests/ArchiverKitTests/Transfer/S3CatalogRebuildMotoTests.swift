import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// `rebuild-catalog` of an `s3://` archive against a real S3 server (moto) on loopback, with real packed tars: the
/// catalog comes back from the objects with their versions, ETags, locks and legal holds; hostile objects stay out.
@Suite(.timeLimit(.minutes(5)), .serialized) struct S3CatalogRebuildMotoTests {
    static let prefix = "team/archive"

    static func destination(_ moto: MotoServer, bucket: String, staging: URL) throws -> S3Destination {
        var configuration = try S3Client.Configuration(environment: moto.environment)
        configuration.backoff = Backoff(base: .milliseconds(10), maximum: .milliseconds(50))
        return S3Destination(
            client: S3Client(bucket: bucket, configuration: configuration),
            location: S3Location(bucket: bucket, prefix: prefix),
            lock: nil,
            stagingDirectory: staging
        )
    }

    /// Packs recording `id` of `ws_1` (created 2024-05) into `scratch`.
    static func pack(_ id: String, scratch: URL) throws -> URL {
        let recording = try PackingFixture.fullRecording(in: scratch, id: id, videoBytes: 4096)
        let directory = scratch.appendingPathComponent("packed-\(id)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tar = directory.appendingPathComponent(RecordingPathComponent.encode(id) + ".tar")
        return try ArchivePackager().pack(recording, to: tar).tarURL
    }

    /// Stores `tar` at `relative` under the prefix with a sidecar naming its digest, as an archive run would.
    @discardableResult
    static func upload(
        _ tar: URL,
        as relative: String,
        to destination: S3Destination,
        lock: S3ObjectLock? = nil
    ) async throws -> (tar: S3StoredObject, sidecar: S3StoredObject) {
        let key = destination.location.key(relative)
        let digest = try FileDigest.compute(tar)
        let stored = try await destination.client.putOnce(
            key,
            file: tar.path,
            size: digest.size,
            sha256: digest.sha256,
            contentType: "application/x-tar",
            lock: lock
        )
        let sidecar = try await destination.client.putOnce(
            key + ".sha256",
            bytes: Array("\(digest.sha256)  \((relative as NSString).lastPathComponent)\n".utf8),
            contentType: "text/plain; charset=utf-8",
            lock: lock
        )
        return (stored, sidecar)
    }

    /// Replaces the workspace id in a packed archive's manifest with `replacement` (JSON text), tag manifests and
    /// sidecar to match, so that the archive still verifies.
    static func renameWorkspace(of tar: URL, to replacement: String) throws {
        try PackingFixture.rewrite(tar) { members in
            guard let manifest = members.first(where: { $0.name.hasSuffix("/" + ArchiveLayout.manifestFileName) })
            else { return members }
            let edited = Array(
                String(decoding: manifest.bytes, as: UTF8.self)
                    .replacingOccurrences(of: #""workspaceId" : "ws_1""#, with: replacement).utf8
            )
            var digest = DualDigest()
            edited.withUnsafeBytes { digest.update($0) }
            let (sha256, sha512) = digest.finalize()
            return members.map { member in
                var member = member
                if member.name == manifest.name {
                    member.bytes = edited
                } else if member.name.contains("/tagmanifest-") {
                    let hex = member.name.hasSuffix("sha256.txt") ? sha256 : sha512
                    let lines = String(decoding: member.bytes, as: UTF8.self).split(separator: "\n").map { line in
                        line.hasSuffix("  " + ArchiveLayout.manifestFileName)
                            ? "\(hex)  \(ArchiveLayout.manifestFileName)" : String(line)
                    }
                    member.bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
                }
                return member
            }
        }
    }

    /// Valid archives are catalogued with what S3 reports (version ids, ETag, lock, legal hold as a catalog hold);
    /// a tampered object, a valid archive at a key no run would use, and one naming a control-character id are
    /// rejected; the rebuilt file reopens; a second rebuild is refused while it is intact.
    @Test func rebuildsTheCatalogFromTheBucket() async throws {
        try await withMotoServer { moto in
            try await withTemporaryDirectory { directory in
                try await moto.createBucket("rebuild-locked", objectLock: true)
                let destination = try Self.destination(moto, bucket: "rebuild-locked", staging: directory)
                try await destination.preflight()
                let lock = S3ObjectLock(mode: .governance, retainUntil: Date().addingTimeInterval(3600))
                let first = try await Self.upload(
                    try Self.pack("rec_1", scratch: directory),
                    as: "ws_1/2024/05/rec_1.tar",
                    to: destination,
                    lock: lock
                )
                let second = try await Self.upload(
                    try Self.pack("rec_2", scratch: directory),
                    as: "ws_1/2024/05/rec_2.tar",
                    to: destination,
                    lock: lock
                )
                try await destination.client.setLegalHold(
                    destination.location.key("ws_1/2024/05/rec_2.tar"),
                    versionId: second.tar.versionId,
                    on: true
                )
                // A valid archive of rec_3, but not where a run stores it.
                try await Self.upload(
                    try Self.pack("rec_3", scratch: directory),
                    as: "elsewhere/rec_3.tar",
                    to: destination
                )
                // A valid bag whose manifest names a workspace with an escape sequence.
                let hostile = try Self.pack("rec_4", scratch: directory)
                try Self.renameWorkspace(of: hostile, to: #""workspaceId" : "ws\u001b[2J""#)
                #expect(ArchiveVerifier().verify(tarURL: hostile).isValid, "the crafted bag must still verify")
                try await Self.upload(hostile, as: "ws_1/2024/05/rec_4.tar", to: destination)
                // Not a tar at all, with a sidecar naming some other digest.
                let junk = directory.appendingPathComponent("junk.tar")
                try Data("not a tar".utf8).write(to: junk)
                try await moto.putObject(
                    bucket: "rebuild-locked",
                    key: "\(Self.prefix)/ws_1/2024/05/junk.tar",
                    contents: junk
                )

                let state = directory.appendingPathComponent("state", isDirectory: true)
                try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
                let now = Date(timeIntervalSince1970: 1_800_000_000)
                let report = try await destination.rebuildCatalog(stateRoot: state, now: now)
                #expect(report.catalogued == ["ws_1/2024/05/rec_1.tar", "ws_1/2024/05/rec_2.tar"], "\(report)")
                let rejected = Dictionary(
                    report.rejected.map { ($0.path, $0.problems.first?.message ?? "") },
                    uniquingKeysWith: { first, _ in first }
                )
                #expect(rejected.count == 3, "\(report.rejected)")
                let base = "s3://rebuild-locked/\(Self.prefix)/"
                #expect(
                    rejected[base + "elsewhere/rec_3.tar"]?.contains("stores that recording at \(base)ws_1/2024/05/")
                        == true,
                    "\(rejected)"
                )
                #expect(rejected[base + "ws_1/2024/05/rec_4.tar"]?.contains("contains the control character") == true)
                #expect(rejected[base + "ws_1/2024/05/junk.tar"] != nil)
                #expect(!report.rejected.contains { $0.problems.contains { $0.message.contains("\u{1B}") } })
                #expect(report.legalHoldsFromS3 == 1)
                #expect(report.activeHolds == 1)

                let store = try ArchiveStore(archiveRoot: state)
                let archives = try await store.catalog.allArchives()
                #expect(archives.map(\.recordingID).sorted() == ["rec_1", "rec_2"])
                #expect(archives.allSatisfy { $0.verifiedAt == now && $0.workspaceID == "ws_1" && $0.sizeBytes > 0 })
                let objects = try await store.catalog.s3Objects()
                #expect(objects.count == 2)
                let recorded = try #require(objects.first { $0.recordingID == "rec_1" })
                #expect(recorded.bucket == "rebuild-locked")
                #expect(recorded.key == "\(Self.prefix)/ws_1/2024/05/rec_1.tar")
                #expect(recorded.versionId == first.tar.versionId && recorded.versionId != nil)
                #expect(recorded.sidecarVersionId == first.sidecar.versionId && recorded.sidecarVersionId != nil)
                #expect(recorded.etag == first.tar.etag && recorded.etag != nil)
                #expect(recorded.lockMode == "GOVERNANCE")
                let until = try #require(recorded.retainUntil)
                #expect(abs(until.timeIntervalSince(try #require(lock.retainUntil))) < 2)
                #expect(try await store.catalog.isHeld(recordingID: "rec_2", workspaceID: "ws_1"))
                #expect(try await !store.catalog.isHeld(recordingID: "rec_1", workspaceID: "ws_1"))
                let holdsLog = try HoldsLog(databasePath: store.path).entries().entries
                #expect(holdsLog.map(\.recordingID) == ["rec_2"], "the S3 hold has its second home too")
                try store.close()

                let again = await #expect(throws: StoreError.self) {
                    try await destination.rebuildCatalog(stateRoot: state, now: now)
                }
                #expect(again?.code == .catalogIntact)
            }
        }
    }
}
