import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// A full file system while packing: "disk full" with what to do, a retryable failure, and no `.partial` left.
///
/// Uses a real 1 MiB tmpfs, which needs root (`mount`); skipped with the reason otherwise.
@Suite(.timeLimit(.minutes(2))) struct PackingDiskFullTests {
    static var isRoot: Bool { geteuid() == 0 }

    /// Mounts a tmpfs of `size` at `<directory>/small` for the duration of `body`.
    static func withSmallFileSystem(
        size: String,
        in directory: URL,
        _ body: (URL) async throws -> Void
    ) async throws {
        let mountPoint = directory.appendingPathComponent("small", isDirectory: true)
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mount = try await ChildProcess.run(
            URL(fileURLWithPath: "/bin/mount"),
            ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint.path]
        )
        try #require(mount.status == 0, "mount failed: \(mount.stderr)")
        do {
            try await body(mountPoint)
        } catch {
            _ = try? await ChildProcess.run(URL(fileURLWithPath: "/bin/umount"), [mountPoint.path])
            throw error
        }
        _ = try await ChildProcess.run(URL(fileURLWithPath: "/bin/umount"), [mountPoint.path])
    }

    @Test(.enabled(if: isRoot, "mounting a tmpfs needs root"))
    func diskFullWhilePackingIsReportedAndRetryable() async throws {
        try await withTemporaryDirectory { directory in
            // 3 MiB of video staged outside, packed into a 1 MiB file system.
            let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 3 << 20)
            try await Self.withSmallFileSystem(size: "1m", in: directory) { mountPoint in
                let tar = mountPoint.appendingPathComponent("rec_123.tar")
                let error = #expect(throws: PackingError.self) { try ArchivePackager().pack(recording, to: tar) }
                #expect(error?.code == .diskFull)
                #expect(
                    error?.message.hasPrefix("disk full while packing rec_123: free space in \(mountPoint.path)")
                        == true,
                    "\(String(describing: error))"
                )
                #expect(error.map { RetryPolicy.isRetryableJob($0) } == true)
                let left = try FileManager.default.contentsOfDirectory(atPath: mountPoint.path)
                #expect(left.isEmpty, "nothing left, found \(left)")
            }
        }
    }

    @Test(.enabled(if: isRoot, "mounting a tmpfs needs root"))
    func diskFullWhileDownloadingIsReportedAndRetryable() async throws {
        try await withTemporaryDirectory { directory in
            try await Self.withSmallFileSystem(size: "64k", in: directory) { mountPoint in
                let partial = try PartialFile(
                    destination: mountPoint.appendingPathComponent("video.webm"),
                    readBufferBytes: 4096
                )
                defer { partial.close() }
                let chunk = [UInt8](repeating: 7, count: 256 << 10)
                let error = #expect(throws: TransferError.self) {
                    try chunk.withUnsafeBytes { try partial.append($0) }
                }
                #expect(error?.message.hasPrefix("disk full") == true, "\(String(describing: error))")
                #expect(error.map { RetryPolicy.isRetryableJob($0) } == true)
            }
        }
    }
}
