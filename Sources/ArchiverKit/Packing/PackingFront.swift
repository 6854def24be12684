import Foundation

/// The bytes a staged video reserves in front of its body, so that packing can turn the staged file itself into
/// the tar instead of copying it (see ``ArchivePackager``).
///
/// In the data-first member order the video's data starts after exactly three headers: `<bag>/`, `<bag>/data/`
/// and `<bag>/data/<video file>`. Their length does not depend on the video's size below 8 GiB (above, a pax
/// header carries the size), so the download reserves that many bytes before the body: a ``placeholder`` (the
/// headers for size 0) while downloading, the headers for the real size once complete. Nothing about the
/// reservation is stored: its length is recomputed from the names.
struct PackingFront: Sendable, Hashable {
    /// The bag directory: ``RecordingPathComponent/encode(_:)`` of the recording id.
    let bagName: String
    /// The video's name under `data/`.
    let fileName: String
    /// Every member's mtime: the recording's `createdAt` in whole seconds.
    let mtime: Int
    /// The headers for a size of 0: what the front holds while the body is downloaded, which marks a reserved
    /// partial as one.
    let placeholder: [UInt8]

    /// The number of bytes reserved before the body.
    var reservedBytes: Int { placeholder.count }

    /// The front for the video `fileName` of the recording `recordingID`, created at `createdAt`.
    ///
    /// - Throws: ``PackingError`` when libarchive refuses the headers.
    init(recordingID: String, fileName: String, createdAt: Date) throws(PackingError) {
        try self.init(
            bagName: RecordingPathComponent.encode(recordingID),
            fileName: fileName,
            mtime: Int(createdAt.timeIntervalSince1970.rounded(.down))
        )
    }

    /// The front for the video `fileName` in the bag `bagName`, every member's mtime `mtime` (as a ``PackPlan``
    /// has them).
    ///
    /// - Throws: ``PackingError`` when libarchive refuses the headers.
    init(bagName: String, fileName: String, mtime: Int) throws(PackingError) {
        self.bagName = bagName
        self.fileName = fileName
        self.mtime = mtime
        placeholder = try ArchiveWriteHandle.leadingBytes(
            bagName: bagName,
            fileName: fileName,
            size: 0,
            metadata: .init(mtime: mtime)
        )
    }

    /// The headers for a body of `size` bytes, or `nil` when they do not fit the reservation exactly (a body of
    /// 8 GiB or more): the staged file then keeps its placeholder and packing copies it.
    func header(size: Int64) -> [UInt8]? {
        guard
            let bytes = try? ArchiveWriteHandle.leadingBytes(
                bagName: bagName,
                fileName: fileName,
                size: size,
                metadata: .init(mtime: mtime)
            ),
            bytes.count == reservedBytes
        else { return nil }
        return bytes
    }
}
