/// The expected content of one resource of one recording, computed from the same generator that serves it.
public struct ExpectedResource: Sendable, Codable, Equatable {
    /// The raw recording id.
    public var recordingID: String
    /// The resource endpoint name: `video`, `thumbnail`, `console-log`, `network-log`, `action`.
    public var resource: String
    /// Whether `url` is non-null.
    public var isAvailable: Bool
    /// `captureEnabled` as served.
    public var captureEnabled: Bool
    /// `type` as served.
    public var mediaType: String
    /// The blob file name, such as `video.webm`.
    public var fileName: String
    /// Blob length in bytes (also the served `size`).
    public var size: Int
    /// Lowercase hex SHA-256 of the blob.
    public var sha256: String
    /// Lowercase hex SHA-512 of the blob.
    public var sha512: String

    private enum CodingKeys: String, CodingKey {
        case resource, isAvailable, captureEnabled, mediaType, fileName, size, sha256, sha512
        case recordingID = "recordingId"
    }
}
