import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

#if canImport(Glibc)
import Glibc
#endif

/// A partial written with direct I/O (``DirectAppender``) holds exactly the appended bytes, in order, whatever the
/// chunk sizes, after a resume from an unaligned length, a truncation, a close without commit, and with a reserved tar
/// front; where the file system is a local disk's, the bytes really went past the page cache.
@Suite struct DirectWriteTests {
    typealias Fixture = DownloaderFixture

    /// The type of the file system `path` lies on, as GNU `stat -f -c %T` names it (read independently of the code
    /// under test).
    static func fileSystemType(_ path: String) -> String {
        // Output to a file, not a pipe: Foundation's pipe readers stop the process when a signal interrupts them.
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("stat-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        guard FileManager.default.createFile(atPath: output.path, contents: nil),
            let handle = try? FileHandle(forWritingTo: output)
        else { return "" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/stat")
        process.arguments = ["-f", "-c", "%T", path]
        process.standardOutput = handle
        guard (try? process.run()) != nil else { return "" }
        process.waitUntilExit()
        try? handle.close()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether `directory` lies on ext2/3/4, XFS or Btrfs, where direct I/O must be used.
    static func isLocalDiskFileSystem(_ directory: URL) -> Bool {
        ["ext2/ext3", "xfs", "btrfs"].contains(fileSystemType(directory.path))
    }

    /// How many of the file's pages are in the page cache (`mincore`).
    static func residentPages(_ url: URL) throws -> (resident: Int, total: Int) {
        let fd = open(url.path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        var status = stat()
        try #require(fstat(fd, &status) == 0)
        let size = Int(status.st_size)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let mapped = try #require(mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0))
        try #require(mapped != MAP_FAILED)
        defer { munmap(mapped, size) }
        let pages = (size + page - 1) / page
        var vector = [UInt8](repeating: 0, count: pages)
        try #require(mincore(mapped, size, &vector) == 0)
        return (vector.filter { $0 & 1 == 1 }.count, pages)
    }

    /// Appends `bytes` in pieces whose sizes cycle through `pieces`.
    static func append(_ bytes: ArraySlice<UInt8>, to partial: PartialFile, pieces: [Int]) throws {
        var offset = bytes.startIndex
        var index = 0
        while offset < bytes.endIndex {
            let count = min(pieces[index % pieces.count], bytes.endIndex - offset)
            try bytes[offset..<(offset + count)].withUnsafeBytes { try partial.append($0) }
            offset += count
            index += 1
        }
    }

    static let pieceSizes: [[Int]] = [[16_384], [1, 4095, 4097, 70_001, 13, 524_288, 524_289], [1_048_576 + 7]]

    @Test(arguments: pieceSizes)
    func everyByteArrivesInOrderAndPastThePageCache(pieces: [Int]) async throws {
        let bytes = Fixture.blob(size: (3 << 20) + 1234, seed: 31)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            let partial = try PartialFile(
                destination: destination,
                readBufferBytes: 4096,
                directWriteBufferBytes: 64 << 10
            )
            partial.storeValidator("\"v1\"")
            try Self.append(bytes[...], to: partial, pieces: pieces)
            let digests = partial.digests
            let direct = partial.writesDirectly
            try partial.commit()
            if Self.isLocalDiskFileSystem(directory) {
                #expect(direct)
                // Only the unaligned tail went through the page cache.
                let pages = try Self.residentPages(destination)
                #expect(pages.resident <= 2, "\(pages.resident) of \(pages.total) pages cached")
            }
            #expect(try Data(contentsOf: destination) == Data(bytes))
            let expected = try await Fixture.systemDigests(of: bytes, in: directory)
            #expect(digests.sha256 == expected.sha256 && digests.sha512 == expected.sha512)
        }
    }

    @Test func aResumeFromAnUnalignedLengthContinuesAtIt() async throws {
        let bytes = Fixture.blob(size: 2 << 20, seed: 32)
        let prefix = 5003
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(bytes[..<prefix], etag: "\"v1\"", for: destination)
            let partial = try PartialFile(
                destination: destination,
                readBufferBytes: 4096,
                directWriteBufferBytes: 32 << 10
            )
            #expect(partial.length == prefix)
            try Self.append(bytes[prefix...], to: partial, pieces: [16_384, 333])
            try partial.commit()
            #expect(try Data(contentsOf: destination) == Data(bytes))
        }
    }

    @Test func aTruncationDropsTheGatheredBytes() async throws {
        let first = Fixture.blob(size: 100_000, seed: 33)
        let second = Fixture.blob(size: 300_000, seed: 34)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            let partial = try PartialFile(
                destination: destination,
                readBufferBytes: 4096,
                directWriteBufferBytes: 512 << 10
            )
            try Self.append(first[...], to: partial, pieces: [16_384])  // all still gathered in the buffer
            try partial.truncate()
            try Self.append(second[...], to: partial, pieces: [16_384])
            let digests = partial.digests
            try partial.commit()
            #expect(try Data(contentsOf: destination) == Data(second))
            let expected = try await Fixture.systemDigests(of: second, in: directory)
            #expect(digests.sha256 == expected.sha256)
        }
    }

    @Test func closingWithoutCommitLeavesEveryAppendedByteForTheResume() async throws {
        let bytes = Fixture.blob(size: 300_123, seed: 35)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            do {
                let partial = try PartialFile(
                    destination: destination,
                    readBufferBytes: 4096,
                    directWriteBufferBytes: 512 << 10
                )
                partial.storeValidator("\"v1\"")
                try Self.append(bytes[...], to: partial, pieces: [16_384])
                partial.close()  // a failed attempt: the bytes gathered in the buffer must reach the partial
            }
            let partialURL = URL(fileURLWithPath: destination.path + ".partial")
            #expect(try Data(contentsOf: partialURL) == Data(bytes))
            let resumed = try PartialFile(destination: destination, readBufferBytes: 4096, directWriteBufferBytes: 4096)
            #expect(resumed.length == bytes.count)
            resumed.close()
        }
    }

    @Test func theBodyFollowsAReservedFront() async throws {
        let bytes = Fixture.blob(size: (1 << 20) + 77, seed: 36)
        let front = try PackingFront(
            recordingID: "rec_1",
            fileName: "video.webm",
            createdAt: Date(timeIntervalSince1970: 1e9)
        )
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            let partial = try PartialFile(
                destination: destination,
                readBufferBytes: 4096,
                front: front,
                directWriteBufferBytes: 64 << 10
            )
            try Self.append(bytes[...], to: partial, pieces: [16_384, 999])
            try partial.commit()
            let header = try #require(front.header(size: Int64(bytes.count)))
            #expect(try Data(contentsOf: destination) == Data(header + bytes))
        }
    }

    /// Whether `/dev/shm` is a tmpfs (a file system that is not a local disk's).
    static let shmIsTmpfs = fileSystemType("/dev/shm") == "tmpfs"

    @Test(.enabled(if: shmIsTmpfs)) func aFileSystemThatIsNotALocalDiskIsWrittenThroughThePageCache() async throws {
        let shm = URL(fileURLWithPath: "/dev/shm", isDirectory: true)
        let directory = shm.appendingPathComponent("userplane-archiver-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let bytes = Fixture.blob(size: 200_000, seed: 37)
        let destination = directory.appendingPathComponent("video.webm")
        let partial = try PartialFile(destination: destination, readBufferBytes: 4096, directWriteBufferBytes: 64 << 10)
        #expect(!partial.writesDirectly)
        try Self.append(bytes[...], to: partial, pieces: [16_384])
        try partial.commit()
        #expect(try Data(contentsOf: destination) == Data(bytes))
    }
}
