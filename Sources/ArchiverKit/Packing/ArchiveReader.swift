public import Foundation

/// Reads facts out of an archive without extracting it.
public enum ArchiveReader {
    /// The largest `archive-manifest.json` accepted: ``ArchiveVerifier/Configuration/maximumTagFileBytes``.
    static let maximumManifestBytes = ArchiveVerifier.Configuration().maximumTagFileBytes

    /// Reads `<bag>/archive-manifest.json` from a tar, streaming only up to that member.
    ///
    /// The data of the members before it is skipped with a seek, not read: in the data-first order of current
    /// archives (see ``ArchivePackager``) the manifest follows the payload, and an archive of gigabytes costs a few
    /// reads. Archives of earlier versions hold the manifest fourth; both orders are accepted.
    ///
    /// Blocking: call off the cooperative pool. This does not verify the archive; use ``ArchiveVerifier``.
    ///
    /// - Parameter tarURL: The `.tar` file.
    /// - Returns: The decoded manifest.
    /// - Throws: ``PackingError`` `.notFound` when the file is missing, `.archive` when it is not a readable tar,
    ///   `.manifest` when it holds no valid manifest.
    public static func readManifest(_ tarURL: URL) throws(PackingError) -> ArchiveManifest {
        var bytesRead: Int64 = 0
        return try readManifest(tarURL, bytesRead: &bytesRead)
    }

    /// ``readManifest(_:)``, also telling how many bytes of the file were read (skipped data is not counted).
    static func readManifest(_ tarURL: URL, bytesRead: inout Int64) throws(PackingError) -> ArchiveManifest {
        let reader = try ArchiveReadHandle(path: tarURL.path, bufferBytes: 64 * 1024, hashesRawBytes: false)
        defer { bytesRead = reader.bytesRead }
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
