import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// Runs the built `userplane-archiver` and `archiver-bench` binaries and standard tools against real archives.
@Suite(.timeLimit(.minutes(3))) struct ArchiveProcessTests {
    private static func stageBenchFiles(in directory: URL, videoBytes: Int) throws -> URL {
        let staged = directory.appendingPathComponent("staged")
        try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
        try Data(PackingFixture.bytes(videoBytes, seed: 9)).write(to: staged.appendingPathComponent("video.webm"))
        try Data().write(to: staged.appendingPathComponent("console-log.ndjson"))
        try Data("[1]".utf8).write(to: staged.appendingPathComponent("actions.json"))
        return staged
    }

    @Test func packAndVerifyUnderEmptyEnvironmentHandleNonASCIIIds() async throws {
        try await withTemporaryDirectory { directory in
            let staged = try Self.stageBenchFiles(in: directory, videoBytes: 200_000)
            let out = directory.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let pack = try await PackingFixture.runWithEmptyEnvironment(
                ExecutableLocator.url(of: "archiver-bench"),
                ["pack", "--staged", staged.path, "--out", out.path, "--id", "réc-ü/日本"]
            )
            #expect(pack.status == 0, "\(pack.stderr)")
            let tar = out.appendingPathComponent(RecordingPathComponent.encode("réc-ü/日本") + ".tar")
            #expect(try ArchiveReader.readManifest(tar).recordingID == "réc-ü/日本")

            let verify = try await PackingFixture.runWithEmptyEnvironment(
                ExecutableLocator.url(of: "userplane-archiver"),
                ["verify", out.path]
            )
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
            #expect(verify.stdout.contains("OK    \(tar.path)"))

            // A tampered archive with a non-ASCII member name: verify must read it in the C locale and fail with 4.
            try PackingFixture.rewrite(tar) { members in
                members + [.init(name: members[0].name + "data/ünïcödé-日本.txt", isDirectory: false, bytes: [1])]
            }
            let tampered = try await PackingFixture.runWithEmptyEnvironment(
                ExecutableLocator.url(of: "userplane-archiver"),
                ["verify", tar.path, "--json"]
            )
            #expect(tampered.status == 4, "\(tampered.stdout) \(tampered.stderr)")
            let report = try JSONSerialization.jsonObject(with: Data(tampered.stdout.utf8)) as? [String: Any]
            #expect(report?["isValid"] as? Bool == false && report?["failed"] as? Int == 1)
            #expect(tampered.stdout.contains("data/ünïcödé-日本.txt"))

            let missing = try await PackingFixture.runWithEmptyEnvironment(
                ExecutableLocator.url(of: "userplane-archiver"),
                ["verify", directory.appendingPathComponent("nope").path]
            )
            #expect(missing.status == 1 && missing.stderr.contains("does not exist"))
            let empty = directory.appendingPathComponent("empty")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
            let nothing = try await PackingFixture.runWithEmptyEnvironment(
                ExecutableLocator.url(of: "userplane-archiver"),
                ["verify", empty.path]
            )
            #expect(nothing.status == 1 && nothing.stderr.contains("nothing to verify"))
        }
    }

    @Test func killedPackerLeavesNoArchive() async throws {
        try await withTemporaryDirectory { directory in
            let staged = try Self.stageBenchFiles(in: directory, videoBytes: 0)
            // A 1 GiB sparse video: packing it takes seconds, so the kill lands mid-pack.
            let video = try FileHandle(forWritingTo: staged.appendingPathComponent("video.webm"))
            try video.truncate(atOffset: 1 << 30)
            try video.close()
            let out = directory.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let bench = ExecutableLocator.url(of: "archiver-bench")
            let arguments = ["pack", "--staged", staged.path, "--out", out.path, "--id", "rec_kill"]
            // Blocking pipe reads and the wait run on their own thread, not the cooperative pool.
            let reason = try await ChildProcess.offPool { () throws -> Process.TerminationReason in
                let process = Process()
                process.executableURL = bench
                process.arguments = arguments
                let err = Pipe()
                process.standardError = err
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                // Wait for the readiness line the bench prints right before packing, then kill -9.
                // read(2) itself: Foundation's `availableData` stops the process when a signal interrupts it.
                var seen = Data()
                var chunk = [UInt8](repeating: 0, count: 4096)
                let fd = err.fileHandleForReading.fileDescriptor
                while !String(decoding: seen, as: UTF8.self).contains("packing\n") {
                    let count = read(fd, &chunk, chunk.count)
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { break }
                    seen.append(contentsOf: chunk[..<count])
                }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return process.terminationReason
            }
            #expect(reason == .uncaughtSignal, "the packer finished before it could be killed")
            let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
            #expect(!files.contains("rec_kill.tar") && !files.contains("rec_kill.tar.sha256"), "\(files)")
        }
    }

    @Test func standardToolsListExtractAndValidateTheArchive() async throws {
        let tools = ["/usr/bin/bsdtar", "/usr/bin/tar", "/usr/bin/sha256sum"]
        let python = ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"
        let hasBagit = (try? await Self.run("/usr/bin/env", [python, "-m", "bagit", "--version"]).status) == 0
        let hasTools = tools.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) } && hasBagit
        guard hasTools || ProcessInfo.processInfo.environment["CI"] != nil else {
            print("skipping: bsdtar, GNU tar, sha256sum or python3 -m bagit is missing (CI would fail here)")
            return
        }
        try await withTemporaryDirectory { directory in
            var recording = try PackingFixture.fullRecording(in: directory, id: "rec_ext ü", videoBytes: 300_000)
            recording.resources.append(
                StagedResource(kind: "extra-kind", availability: .gone, apiMessage: "Recording deleted")
            )
            let packed = try PackingFixture.pack(recording, in: directory)
            let tar = packed.tarURL.path
            let bag = RecordingPathComponent.encode("rec_ext ü")
            let bsdList = try await Self.run("/usr/bin/bsdtar", ["-tf", tar])
            #expect(bsdList.status == 0 && bsdList.stdout.contains("\(bag)/data/video.webm"), "\(bsdList)")
            let gnuList = try await Self.run("/usr/bin/tar", ["-tf", tar])
            #expect(
                gnuList.status == 0 && gnuList.stderr.isEmpty && gnuList.stdout.contains("\(bag)/bagit.txt"),
                "\(gnuList)"
            )
            let extracted = directory.appendingPathComponent("extracted")
            try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
            let extract = try await Self.run("/usr/bin/tar", ["-xf", tar, "-C", extracted.path])
            #expect(extract.status == 0, "\(extract)")
            let bagit = try await Self.run(
                "/usr/bin/env",
                [python, "-m", "bagit", "--validate", extracted.appendingPathComponent(bag).path]
            )
            #expect(bagit.status == 0 && bagit.stderr.contains("is valid"), "\(bagit)")
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

    private static func run(
        _ executable: String,
        _ arguments: [String]
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try await ChildProcess.run(URL(fileURLWithPath: executable), arguments)
        return (result.status, result.stdout, result.stderr)
    }
}
