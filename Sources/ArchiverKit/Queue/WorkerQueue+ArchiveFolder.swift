import Foundation

extension WorkerQueue {
    /// Creates, or checks, the folder `archive` will pack `job`'s tar in, before any of its resources is downloaded.
    ///
    /// The folder is `<ws>/<YYYY>/<MM>` under the destination's packing root: a year or month folder replaced by a
    /// symbolic link is refused at once, without following it and without downloading anything. `download` has no
    /// such folder.
    ///
    /// - Parameters:
    ///   - job: The job.
    ///   - createdAt: The recording's creation time, which names the folder (the API's, else the queued one).
    /// Called again just before packing, since the folder may have been replaced while downloading.
    ///
    /// - Returns: The tar's path below the root, its destination, and where it is packed.
    /// - Throws: ``PrivateFile/UnsafePath`` naming the link (or the file in the way) and what to do.
    @discardableResult
    func prepareArchiveFolder(
        for job: Job,
        createdAt: Date
    ) throws -> (relativePath: String, destination: any ArchiveDestination, tarURL: URL) {
        let relativePath = configuration.archiveRelativePath(recordingID: job.recordingID, createdAt: createdAt)
        let destination = configuration.destination ?? LocalDirectoryDestination(root: configuration.root)
        let tarURL = destination.packingURL(relativePath: relativePath)
        guard configuration.kind == .archive else { return (relativePath, destination, tarURL) }
        try PrivateFile.makeDirectories(tarURL.deletingLastPathComponent(), under: destination.packingRoot)
        return (relativePath, destination, tarURL)
    }
}
