public import Foundation

/// Verifies archives written by ``ArchivePackager`` using only their own contents and sidecar.
///
/// Reads each tar sequentially on two threads: one feeds the raw bytes to the sidecar SHA-256, while on the other
/// libarchive parses the tar and every member's SHA-256 and SHA-512 are recomputed. Memory stays flat for multi-GiB members; only
/// tag files (up to ``Configuration/maximumTagFileBytes``) are kept in memory.
public struct ArchiveVerifier: Sendable {
    /// Verifier settings.
    public struct Configuration: Sendable {
        /// Size of the buffer the tar is read through.
        ///
        /// Default: 1 MiB.
        public var bufferBytes: Int = 1 << 20
        /// The largest tag file (outside `data/`) that is kept in memory to be parsed.
        ///
        /// Default: 16 MiB.
        public var maximumTagFileBytes: Int = 16 << 20

        /// Creates the default configuration.
        public init() {}
    }

    /// The settings in use.
    public var configuration: Configuration

    /// Creates a verifier.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Verifies every archive under `paths`: `.tar` files, directory trees and archive roots.
    ///
    /// Directories are walked recursively in sorted order, skipping `.userplane-archiver/` and `*.partial`; a
    /// `.tar.sha256` sidecar without its tar is reported as ``ArchiveVerification/Code/archiveMissing``.
    /// Blocking: call off the cooperative pool.
    ///
    /// - Parameter paths: Files or directories.
    /// - Returns: One verdict per archive found, in walk order.
    /// - Throws: ``PackingError/Code/notFound`` when a path does not exist.
    public func verify(paths: [URL]) throws(PackingError) -> [ArchiveVerification] {
        var results: [ArchiveVerification] = []
        for url in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw PackingError(code: .notFound, message: "\(url.path) does not exist")
            }
            if !isDirectory.boolValue {
                results.append(verify(tarURL: url))
                continue
            }
            for file in Self.archiveFiles(under: url) {
                if file.hasSuffix(".tar") {
                    results.append(verify(tarURL: URL(fileURLWithPath: file)))
                } else {
                    let tar = String(file.dropLast(".sha256".count))
                    let problem = ArchiveVerification.Problem(
                        code: .archiveMissing,
                        message: "sidecar \(file) exists but its archive does not"
                    )
                    results.append(ArchiveVerification(path: tar, problems: [problem]))
                }
            }
        }
        return results
    }

    /// `*.tar` files and orphan `*.tar.sha256` sidecars under `directory`, sorted.
    static func archiveFiles(under directory: URL) -> [String] {
        var tars: Set<String> = []
        var sidecars: [String] = []
        let keys: [URLResourceKey] = [.isDirectoryKey, .isRegularFileKey]
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: keys) else {
            return []
        }
        for case let url as URL in walker {
            let name = url.lastPathComponent
            let values = try? url.resourceValues(forKeys: Set(keys))
            if values?.isDirectory == true {
                if name == ".userplane-archiver" { walker.skipDescendants() }
                continue
            }
            guard values?.isRegularFile == true else { continue }
            if name.hasSuffix(".tar") {
                tars.insert(url.path)
            } else if name.hasSuffix(".tar.sha256") {
                sidecars.append(url.path)
            }
        }
        let orphans = sidecars.filter { !tars.contains(String($0.dropLast(".sha256".count))) }
        return (Array(tars) + orphans).sorted()
    }

    /// Verifies one archive: sidecar, readability, member safety, both BagIt manifests, both tag manifests,
    /// `Payload-Oxum` and `archive-manifest.json`.
    ///
    /// Blocking: call off the cooperative pool.
    ///
    /// - Parameter tarURL: The `.tar` file.
    /// - Returns: The verdict; problems are reported, never thrown.
    public func verify(tarURL: URL) -> ArchiveVerification {
        var scan = ArchiveScan(tarPath: tarURL.path, maximumTagFileBytes: configuration.maximumTagFileBytes)
        scan.run(bufferBytes: configuration.bufferBytes)
        if !scan.isTruncated { scan.checkContents() }
        return ArchiveVerification(
            path: tarURL.path,
            recordingId: scan.manifest?.recordingId,
            sha256: scan.tarSHA256,
            memberCount: scan.members.count,
            payloadBytes: scan.members.filter { $0.key.hasPrefix("data/") }.reduce(0) { $0 + $1.value.size },
            problems: scan.problems
        )
    }
}
