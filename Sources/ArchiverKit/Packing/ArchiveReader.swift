public import Foundation

/// Reads facts out of an archive without extracting it.
public enum ArchiveReader {
    /// The largest `archive-manifest.json` accepted: ``ArchiveVerifier/Configuration/maximumTagFileBytes``.
    static let maximumManifestBytes = ArchiveVerifier.Configuration().maximumTagFileBytes

    /// Reads `<bag>/archive-manifest.json` from a tar, streaming only up to that member (the fourth).
    ///
    /// Blocking: call off the cooperative pool. This does not verify the archive; use ``ArchiveVerifier``.
    ///
    /// - Parameter tarURL: The `.tar` file.
    /// - Returns: The decoded manifest.
    /// - Throws: ``PackingError`` `.notFound` when the file is missing, `.archive` when it is not a readable tar,
    ///   `.manifest` when it holds no valid manifest.
    public static func readManifest(_ tarURL: URL) throws(PackingError) -> ArchiveManifest {
        let reader = try ArchiveReadHandle(path: tarURL.path, bufferBytes: 64 * 1024)
        while let entry = try reader.nextEntry() {
            let parts = entry.name.split(separator: "/", omittingEmptySubsequences: false)
            guard entry.kind == .file, parts.count == 2, parts[1] == ArchiveLayout.manifestFileName else { continue }
            guard entry.size <= Int64(maximumManifestBytes) else {
                throw PackingError(
                    code: .manifest,
                    message: "\(tarURL.path): archive-manifest.json declares \(entry.size) bytes, more than the "
                        + "\(maximumManifestBytes) accepted; it is not a manifest of this tool"
                )
            }
            var bytes: [UInt8] = []
            try reader.readData(limit: Int64(maximumManifestBytes)) { bytes.append(contentsOf: $0) }
            return try ArchiveManifest.decode(bytes)
        }
        throw PackingError(code: .manifest, message: "\(tarURL.path) contains no archive-manifest.json")
    }
}
