import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// The archive root end to end: private modes whatever the umask, planted links never followed, nothing
/// created before the preflight succeeds, and empty or impossible arguments refused as usage errors.
@Suite(.timeLimit(.minutes(5))) struct FileSystemSafetyCLITests {
    static func archiver(
        _ arguments: [String],
        key: String? = nil,
        in directory: URL
    ) async throws
        -> RetentionCLITests.Output
    {
        try await RetentionCLITests.archiver(arguments, key: key, in: directory)
    }

    static func smallWorkspace() -> SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 3
        configuration.includesHostileRecording = false
        configuration.content.maximumVideoBytes = 16 << 10
        configuration.content.unfinishedFraction = 0
        return configuration
    }

    static func mode(_ path: String) -> mode_t {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & 0o7777 : 0
    }

    /// Under the usual umask 022 everything the archiver creates is 0640 (files) or 0750 (directories).
    @Test func everythingUnderTheRootIsPrivate() async throws {
        try await withUserplaneSimulator(Self.smallWorkspace()) { sim in
            try await withTemporaryDirectory { scratch in
                let root = scratch.appendingPathComponent("archive")
                let previous = umask(0o022)
                defer { umask(previous) }
                let run = try await Self.archiver(
                    ["archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url", sim.apiBaseURL],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
                #expect(Self.mode(root.path) == 0o750)
                let enumerator = FileManager.default.enumerator(atPath: root.path)
                var files = 0
                while let relative = enumerator?.nextObject() as? String {
                    let path = root.appendingPathComponent(relative).path
                    var status = stat()
                    #expect(lstat(path, &status) == 0)
                    let isDirectory = status.st_mode & S_IFMT == S_IFDIR
                    if !isDirectory { files += 1 }
                    #expect(
                        Self.mode(path) == (isDirectory ? 0o750 : 0o640),
                        "\(relative) has mode \(String(Self.mode(path), radix: 8))"
                    )
                }
                #expect(files >= 6, "tars, sidecars, state, lock and a run report were checked")
            }
        }
    }

    static var daemonGroup: gid_t? { getgrnam("daemon").map { $0.pointee.gr_gid } }
    static var canChangeGroups: Bool { geteuid() == 0 && daemonGroup != nil }

    /// `--group daemon`: every file and directory created under the root (the root itself included) belongs to
    /// that group, directories carry the setgid bit, and modes stay 0640 / 0750; an unknown group is refused.
    @Test(.enabled(if: canChangeGroups, "needs root and a 'daemon' group to give files another group"))
    func groupOptionGivesEverythingTheGroup() async throws {
        try await withUserplaneSimulator(Self.smallWorkspace()) { sim in
            try await withTemporaryDirectory { scratch in
                let root = scratch.appendingPathComponent("archive")
                let group = try #require(Self.daemonGroup)
                let unknown = try await Self.archiver(
                    ["archive", "--workspace", sim.workspaceID, "--archive", root.path, "--group", "no-such-group-x"],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(unknown.status == 64 && unknown.stderr.contains("no-such-group-x"), "\(unknown.stderr)")
                #expect(!FileManager.default.fileExists(atPath: root.path))
                let run = try await Self.archiver(
                    [
                        "archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url",
                        sim.apiBaseURL, "--group", "daemon",
                    ],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
                var paths = [root.path]
                let enumerator = FileManager.default.enumerator(atPath: root.path)
                while let relative = enumerator?.nextObject() as? String {
                    paths.append(root.appendingPathComponent(relative).path)
                }
                #expect(paths.count >= 10)
                for path in paths {
                    var status = stat()
                    #expect(lstat(path, &status) == 0)
                    let isDirectory = status.st_mode & S_IFMT == S_IFDIR
                    #expect(status.st_gid == group, "\(path) has group \(status.st_gid)")
                    #expect(
                        status.st_mode & 0o7777 == (isDirectory ? 0o2750 : 0o640),
                        "\(path) has mode \(String(status.st_mode & 0o7777, radix: 8))"
                    )
                }
            }
        }
    }

    /// A `staging` directory replaced by a link to elsewhere is refused; nothing outside the root is deleted.
    @Test func symlinkedStagingIsRefusedNotSwept() async throws {
        try await withUserplaneSimulator(Self.smallWorkspace()) { sim in
            try await withTemporaryDirectory { scratch in
                let root = scratch.appendingPathComponent("archive")
                let outside = scratch.appendingPathComponent("precious", isDirectory: true)
                try FileManager.default.createDirectory(
                    at: outside.appendingPathComponent("job-999"),
                    withIntermediateDirectories: true
                )
                try Data("keep".utf8).write(to: outside.appendingPathComponent("job-999/evidence.txt"))
                try Data("keep".utf8).write(to: outside.appendingPathComponent("notes.txt"))
                try FileManager.default.createDirectory(
                    at: root.appendingPathComponent(".userplane-archiver"),
                    withIntermediateDirectories: true
                )
                try FileManager.default.createSymbolicLink(
                    at: root.appendingPathComponent(".userplane-archiver/staging"),
                    withDestinationURL: outside
                )
                let run = try await Self.archiver(
                    ["archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url", sim.apiBaseURL],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
                #expect(run.stderr.contains("symbolic link"), "\(run.stderr)")
                #expect(FileManager.default.fileExists(atPath: outside.appendingPathComponent("notes.txt").path))
                #expect(
                    FileManager.default.fileExists(atPath: outside.appendingPathComponent("job-999/evidence.txt").path)
                )
            }
        }
    }

    /// A bad key or an unreachable host leaves no trace: no root, no parents, no state, no lock.
    @Test func failingPreflightCreatesNothing() async throws {
        try await withUserplaneSimulator(Self.smallWorkspace()) { sim in
            try await withTemporaryDirectory { scratch in
                let existing = scratch.appendingPathComponent("archive")
                try FileManager.default.createDirectory(at: existing, withIntermediateDirectories: true)
                let deep = scratch.appendingPathComponent("a/b/archive")
                for (root, baseURL, key) in [
                    (existing, sim.apiBaseURL, "uspl_not_a_valid_key_000000000000"),
                    (deep, sim.apiBaseURL, "uspl_not_a_valid_key_000000000000"),
                    (deep, "http://127.0.0.1:1/api/v1", sim.apiKey),
                ] {
                    let run = try await Self.archiver(
                        ["archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url", baseURL],
                        key: key,
                        in: scratch
                    )
                    #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
                }
                #expect(try FileManager.default.contentsOfDirectory(atPath: existing.path).isEmpty)
                #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("a").path))

                // With a good key the root is created, but only its last component.
                let missingParent = try await Self.archiver(
                    ["archive", "--workspace", sim.workspaceID, "--archive", deep.path, "--base-url", sim.apiBaseURL],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(missingParent.status == 1, "\(missingParent.stderr)")
                #expect(missingParent.stderr.contains("parent directory does not exist"), "\(missingParent.stderr)")
                #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("a").path))
            }
        }
    }

    @Test(arguments: [
        ["archive", "--workspace", "ws_1", "--archive", ""],
        ["download", "--workspace", "ws_1", "--out", ""],
        ["archive", "--workspace", "ws_1", "--archive", "ARCHIVE", "--since", "2026-02-30"],
        ["archive", "--workspace", "ws_1", "--archive", "ARCHIVE", "--until", "2026-04-31T00:00:00Z"],
        ["archive", "--workspace", "ws_1", "--archive", "ARCHIVE", "--since", "2026-01-01T24:00:00Z"],
    ])
    func emptyOrImpossibleArgumentsAreUsageErrors(_ arguments: [String]) async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("archive")
            let resolved = arguments.map { $0 == "ARCHIVE" ? root.path : $0 }
            let run = try await Self.archiver(resolved, key: "uspl_x", in: scratch)
            #expect(run.status == 64, "\(run.stdout)\n\(run.stderr)")
            let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
                .filter { !$0.hasSuffix(".out") && !$0.hasSuffix(".err") }
            #expect(left.isEmpty, "created \(left)")
        }
    }
}
