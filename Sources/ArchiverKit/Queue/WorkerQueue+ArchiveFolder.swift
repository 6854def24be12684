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
    /// - Throws: ``PrivateFile/UnsafePath`` naming the link (or the file in the way) and what to do.
    func prepareArchiveFolder(for job: Job, createdAt: Date) throws {
        guard configuration.kind == .archive else { return }
        let relativePath = configuration.archiveRelativePath(recordingID: job.recordingID, createdAt: createdAt)
        let destination = configuration.destination ?? LocalDirectoryDestination(root: configuration.root)
        let tarURL = destination.packingURL(relativePath: relativePath)
        try PrivateFile.makeDirectories(tarURL.deletingLastPathComponent(), under: destination.packingRoot)
    }
}
