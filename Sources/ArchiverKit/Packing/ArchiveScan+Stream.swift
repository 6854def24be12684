extension ArchiveScan {
    /// Verifies a tar read once from a stream (an object being downloaded): members are parsed and hashed as they
    /// arrive, and the raw bytes are hashed in the same pass for the sidecar check, so nothing is written to disk.
    ///
    /// - Parameters:
    ///   - reader: A handle over the stream, opened with `hashesRawBytes`.
    ///   - sidecar: The sidecar's bytes; `nil` when it is missing (reported as such).
    mutating func runStreaming(reader: ArchiveReadHandle, sidecar: [UInt8]??) {
        var expectedSidecar: String?
        switch sidecar {
        case .none:
            report(.sidecarMissing, nil, "\(tarPath).sha256 is missing; the archive's integrity cannot be anchored")
        case .some(let bytes):
            expectedSidecar = parseSidecar(bytes)
        }
        scanMembers(of: reader)
        guard !isTruncated else { return }
        do throws(PackingError) {
            let (_, sha256) = try reader.finishRawDigest()
            tarSHA256 = sha256
            if let expectedSidecar, expectedSidecar != sha256 {
                report(.sidecarMismatch, nil, "the tar's SHA-256 is \(sha256), the sidecar says \(expectedSidecar)")
            }
        } catch {
            isTruncated = true
            report(.unreadable, nil, "the tar cannot be read to its end (truncated or corrupt): \(error)")
        }
    }
}
