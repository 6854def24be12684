import ArchiverKit
import Foundation
import Testing
import UserplaneSimulator

/// Reads an archive root back (real tars through ArchiverKit's libarchive reader and verifier) and
/// compares it with what the simulator serves.
struct ArchiveRootInspection {
    let root: URL

    /// Every file under the root (the state directory included), as paths relative to the root.
    func allFiles() -> [String] {
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            return []
        }
        var files: [String] = []
        for case let url as URL in enumerator {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1)))
            }
        }
        return files.sorted()
    }

    /// Archives (`*.tar`) outside the state directory.
    func tarFiles() -> [String] {
        allFiles().filter { $0.hasSuffix(".tar") && !$0.hasPrefix(".userplane-archiver/") }
    }

    /// Files whose name contains `.partial` anywhere under the root, staging included.
    func partialFiles() -> [String] {
        allFiles().filter { $0.contains(".partial") }
    }

    /// The run reports written so far.
    func runReports() throws -> [RunReport] {
        let directory = root.appendingPathComponent(".userplane-archiver/runs", isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try names.filter { $0.hasSuffix(".json") }.sorted().map {
            try decoder.decode(RunReport.self, from: Data(contentsOf: directory.appendingPathComponent($0)))
        }
    }

    /// The text of every run report.
    func runReportTexts() -> [String] {
        let directory = root.appendingPathComponent(".userplane-archiver/runs", isDirectory: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.map {
            (try? String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8)) ?? ""
        }
    }

    /// The report of the run whose id is `runID`.
    func report(runID: String) throws -> RunReport {
        try #require(try runReports().first { $0.runID == runID })
    }

    /// Checks that exactly the `archivable` recordings are archived, one tar + sidecar each, at the
    /// layout's path, that every archive verifies, and that every member's size and digests equal the
    /// simulator's.
    func expectExactArchives(
        of archivable: [String],
        workspaceID: String,
        expected: [ExpectedResource],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let tars = tarFiles()
        #expect(
            tars.count == archivable.count,
            "one tar per archivable recording: \(tars)",
            sourceLocation: sourceLocation
        )
        var seen: [String: String] = [:]
        let verifier = ArchiveVerifier()
        for tar in tars {
            let url = root.appendingPathComponent(tar)
            let verification = verifier.verify(tarURL: url)
            #expect(verification.isValid, "\(tar) verifies: \(verification)", sourceLocation: sourceLocation)
            #expect(
                FileManager.default.fileExists(atPath: url.path + ".sha256"),
                "\(tar) has a sidecar",
                sourceLocation: sourceLocation
            )
            let manifest = try ArchiveReader.readManifest(url)
            #expect(seen[manifest.recordingID] == nil, "duplicate archive of \(manifest.recordingID)")
            seen[manifest.recordingID] = tar
            #expect(manifest.workspaceID == workspaceID, sourceLocation: sourceLocation)
            #expect(
                url.lastPathComponent == RecordingPathComponent.encode(manifest.recordingID) + ".tar",
                "archive file name is the encoded recording id",
                sourceLocation: sourceLocation
            )
            #expect(
                tar.hasPrefix(RecordingPathComponent.encode(workspaceID) + "/"),
                "\(tar) stays inside the workspace directory",
                sourceLocation: sourceLocation
            )
            for resource in expected where resource.recordingID == manifest.recordingID {
                let name = resource.resource == "action" ? "actions" : resource.resource
                let entry = try #require(manifest.resources[name], "manifest of \(tar) lists \(name)")
                if resource.isAvailable {
                    #expect(entry.availability == .archived, "\(tar) \(name)", sourceLocation: sourceLocation)
                    #expect(entry.size == Int64(resource.size), "\(tar) \(name) size", sourceLocation: sourceLocation)
                    #expect(entry.sha256 == resource.sha256, "\(tar) \(name) sha256", sourceLocation: sourceLocation)
                    #expect(entry.sha512 == resource.sha512, "\(tar) \(name) sha512", sourceLocation: sourceLocation)
                } else {
                    let availability: StagedResource.Availability =
                        resource.captureEnabled ? .unavailable : .notCaptured
                    #expect(entry.availability == availability, "\(tar) \(name)", sourceLocation: sourceLocation)
                }
            }
        }
        #expect(
            Set(seen.keys) == Set(archivable),
            "archived ids differ: missing \(Set(archivable).subtracting(seen.keys)), extra \(Set(seen.keys).subtracting(archivable))",
            sourceLocation: sourceLocation
        )
    }
}

extension RunningSimulator {
    /// Recordings of the member workspace that an archive run must end up archiving: final, not
    /// deleted, not vanished.
    func archivableRecordingIDs() -> [String] {
        let vanished = Set(faults().vanishedRecordingIDs)
        return recordings.filter {
            $0.workspaceID == workspaceID && !$0.isDeleted && $0.status == "ready" && !vanished.contains($0.recordingID)
        }.map(\.recordingID)
    }

    /// Total blob bytes of every available resource of `recordingIDs`.
    func expectedBlobBytes(of recordingIDs: [String], in expected: [ExpectedResource]) -> Int {
        let ids = Set(recordingIDs)
        return expected.filter { ids.contains($0.recordingID) && $0.isAvailable }.reduce(0) { $0 + $1.size }
    }
}
