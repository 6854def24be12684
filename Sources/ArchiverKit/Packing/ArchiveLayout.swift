import Foundation

/// Names inside an archive: the payload file names and the fixed tag files (product.md §5).
public enum ArchiveLayout {
    /// The payload file holding the API's recording JSON.
    public static let recordingFileName = "recording.json"
    /// The archive manifest tag file.
    public static let manifestFileName = "archive-manifest.json"
    /// Where archive runs store the archive of `recordingID` in `workspaceID`, relative to the archive root (or
    /// the S3 prefix): `<workspace>/<YYYY>/<MM>/<recording>.tar`, with `YYYY/MM` from `createdAt` in UTC and both
    /// ids encoded as path components (product.md §2, §5).
    static func relativePath(workspaceID: String, recordingID: String, createdAt: Date) -> String {
        let parts = UTCTime.fields(createdAt)
        return [
            RecordingPathComponent.encode(workspaceID), UTCTime.digits(parts.year, 4), UTCTime.digits(parts.month, 2),
            RecordingPathComponent.encode(recordingID) + ".tar",
        ].joined(separator: "/")
    }

    /// The stable order of known resource kinds in the tar; unknown kinds follow, sorted.
    static let kindOrder = ["video", "thumbnail", "console-log", "network-log", "actions"]

    /// The extension table for media-typed resources (parameters such as `; codecs=` are ignored).
    static let extensions: [String: String] = [
        "video/webm": "webm",
        "video/mp4": "mp4",
        "image/png": "png",
        "image/jpeg": "jpg",
        "image/webp": "webp",
    ]

    /// The file name under `data/` for a resource kind.
    ///
    /// `console-log.ndjson`, `network-log.json` and `actions.json` are fixed; `video` and `thumbnail` take their
    /// extension from the media type (`video/webm` → `video.webm`, `image/jpeg` → `thumbnail.jpg`), falling
    /// back to `bin` for an unknown type. Unknown kinds become `<encoded kind>.bin`.
    ///
    /// - Parameters:
    ///   - kind: The resource kind.
    ///   - mediaType: The API's type or the blob's `Content-Type`.
    /// - Returns: A single safe path component.
    public static func fileName(kind: String, mediaType: String?) -> String {
        switch kind {
        case "console-log": return "console-log.ndjson"
        case "network-log": return "network-log.json"
        case "actions": return "actions.json"
        default:
            let base = RecordingPathComponent.encode(kind)
            let essence = mediaType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            let ext = essence.flatMap { extensions[$0] } ?? "bin"
            return "\(base).\(ext)"
        }
    }
}
