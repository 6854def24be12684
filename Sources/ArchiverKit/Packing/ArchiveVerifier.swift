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
        /// The largest tag file (outside `data/`) that is kept in memory to be parsed; a larger one fails the archive.
        ///
        /// The tag files of this tool are a few KiB. Up to seven are kept, so this bounds what a hostile archive can
        /// make verify hold (16 MiB each, with their parse trees, once peaked at 580 MB). Default: 1 MiB.
        public var maximumTagFileBytes: Int = 1 << 20

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
    /// `.tar.sha256` sidecar without its tar is reported as ``ArchiveVerification/Code/archiveMissing``. Symlinks
    /// are never followed. A directory that is an archive root (it holds `.userplane-archiver/state.sqlite`) is
    /// also compared with its catalog: every catalogued archive the walk did not verify (missing, or behind a
    /// symlink or mount point) is reported as ``ArchiveVerification/Code/notChecked``, so a silent gap cannot
    /// pass as "all OK".
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
            var found: Set<String> = []
            let walk = Self.archiveFiles(under: url)
            for file in walk.unfollowed {
                found.insert(URL(fileURLWithPath: file).standardizedFileURL.path)
                let problem = ArchiveVerification.Problem(
                    code: .notChecked,
                    message:
                        "is a symbolic link or not a regular file, so verify did not check it; "
                        + "verify the file where it really is"
                )
                results.append(ArchiveVerification(path: file, problems: [problem]))
            }
            for file in walk.files {
                found.insert(URL(fileURLWithPath: file).standardizedFileURL.path)
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
            results += Self.catalogGaps(root: url, found: found)
        }
        return results
    }

    /// Archives the catalog of `root` records that the walk did not find (none when `root` is no archive root).
    static func catalogGaps(root: URL, found: Set<String>) -> [ArchiveVerification] {
        let cataloged: [String]
        do {
            guard let paths = try ArchiveStore.catalogedArchivePaths(archiveRoot: root) else { return [] }
            cataloged = paths
        } catch {
            let problem = ArchiveVerification.Problem(
                code: .notChecked,
                message:
                    "cannot read the catalog to confirm that every archive was found (\(error)); "
                    + "the archives listed above were checked, others may not have been"
            )
            let statePath = ArchiveStore.databaseURL(archiveRoot: root).path
            return [ArchiveVerification(path: statePath, problems: [problem])]
        }
        return cataloged.compactMap { relativePath in
            let tar = root.appendingPathComponent(relativePath).standardizedFileURL.path
            guard !found.contains(tar) else { return nil }
            let problem = ArchiveVerification.Problem(
                code: .notChecked,
                message:
                    "the catalog records this archive but verify did not check it: it is missing, not a regular "
                    + "file, or behind a symlink or mount point that verify does not follow; restore it, or verify "
                    + "the file where it really is"
            )
            return ArchiveVerification(path: tar, problems: [problem])
        }
    }

    /// `*.tar` files and orphan `*.tar.sha256` sidecars under `directory`, sorted, and the entries that are never
    /// followed or read: every symbolic link (a folder replaced by a link hides the archives behind it) and every
    /// `*.tar` that is not a regular file (FIFOs, devices, ...).
    static func archiveFiles(under directory: URL) -> (files: [String], unfollowed: [String]) {
        var tars: Set<String> = []
        var unfollowed: [String] = []
        var sidecars: [String] = []
        let keys: [URLResourceKey] = [.isDirectoryKey, .isRegularFileKey, .isSymbolicLinkKey]
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: keys) else {
            return ([], [])
        }
        for case let url as URL in walker {
            let name = url.lastPathComponent
            let values = try? url.resourceValues(forKeys: Set(keys))
            if values?.isSymbolicLink == true || PrivateFile.isSymbolicLink(url.path) {
                walker.skipDescendants()
                unfollowed.append(url.path)
                continue
            }
            if values?.isDirectory == true {
                if name == ".userplane-archiver" { walker.skipDescendants() }
                continue
            }
            guard values?.isRegularFile == true else {
                if name.hasSuffix(".tar") { unfollowed.append(url.path) }
                continue
            }
            if name.hasSuffix(".tar") {
                tars.insert(url.path)
            } else if name.hasSuffix(".tar.sha256") {
                sidecars.append(url.path)
            }
        }
        let present = tars.union(unfollowed)
        let orphans = sidecars.filter { !present.contains(String($0.dropLast(".sha256".count))) }
        return ((Array(tars) + orphans).sorted(), unfollowed.sorted())
    }

    /// Verifies one archive: sidecar, readability, member safety, both BagIt manifests, both tag manifests,
    /// `Payload-Oxum` and `archive-manifest.json`.
    ///
    /// Blocking: call off the cooperative pool.
    ///
    /// - Parameter tarURL: The `.tar` file.
    /// - Returns: The verdict; problems are reported, never thrown.
    public func verify(tarURL: URL) -> ArchiveVerification {
        verify(ArchiveScan(tarPath: tarURL.path, maximumTagFileBytes: configuration.maximumTagFileBytes))
    }

    /// Verifies one archive below an archive root, opened in its folder's descriptor so that nothing is read
    /// through a link planted in place of a folder; see ``verify(tarURL:)``.
    func verify(_ file: RootedFile) -> ArchiveVerification {
        withExtendedLifetime(file) {
            verify(
                ArchiveScan(
                    tarPath: file.path,
                    maximumTagFileBytes: configuration.maximumTagFileBytes,
                    directory: file.directory,
                    name: file.name
                )
            )
        }
    }

    /// ``verify(_:)`` that also returns the `archive-manifest.json` this very read decoded (`nil` when it has none
    /// that decodes), so that a caller never reads the file a second time: `rebuild-catalog` catalogues exactly
    /// the manifest it verified.
    func verifyKeepingManifest(_ file: RootedFile) -> (verification: ArchiveVerification, manifest: ArchiveManifest?) {
        withExtendedLifetime(file) {
            var scan = ArchiveScan(
                tarPath: file.path,
                maximumTagFileBytes: configuration.maximumTagFileBytes,
                directory: file.directory,
                name: file.name
            )
            let verification = verify(&scan)
            return (verification, scan.manifest)
        }
    }

    private func verify(_ scan: ArchiveScan) -> ArchiveVerification {
        var scan = scan
        return verify(&scan)
    }

    private func verify(_ scan: inout ArchiveScan) -> ArchiveVerification {
        let tarPath = scan.tarPath
        scan.run(bufferBytes: configuration.bufferBytes)
        if !scan.isTruncated { scan.checkContents() }
        return ArchiveVerification(
            path: tarPath,
            recordingID: scan.manifest?.recordingID,
            sha256: scan.tarSHA256,
            memberCount: scan.members.count,
            payloadBytes: scan.members.filter { $0.key.hasPrefix("data/") }.reduce(0) { $0 + $1.value.size },
            problems: scan.problems
        )
    }
}
