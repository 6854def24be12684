package import Foundation

/// Size, SHA-256 and SHA-512 of a file, computed in one streaming pass.
///
/// For tests and benchmarks that stage files the way the transfer engine would.
package enum FileDigest {
    /// Hashes `url` with a 1 MiB buffer.
    ///
    /// - Parameter url: A regular file.
    /// - Returns: The size in bytes and the lowercase hex SHA-256 and SHA-512.
    /// - Throws: ``PackingError`` `.notFound` or `.io`.
    package static func compute(_ url: URL) throws(PackingError) -> (size: Int64, sha256: String, sha512: String) {
        let fd = try DurableFile.openForReading(url.path)
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var digest = DualDigest()
        while true {
            let count = try DurableFile.readSome(fd, into: buffer, path: url.path)
            if count == 0 { break }
            digest.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        let (sha256, sha512) = digest.finalize()
        return (digest.byteCount, sha256, sha512)
    }
}
