/// The five per-recording resource endpoints.
enum ResourceKind: String, CaseIterable, Sendable, Codable {
    case video
    case thumbnail
    case consoleLog = "console-log"
    case networkLog = "network-log"
    case action

    /// The path suffix of the resource endpoint.
    var endpoint: String { rawValue }

    /// Human noun used in envelope and availability messages.
    var noun: String {
        switch self {
        case .video: "video"
        case .thumbnail: "thumbnail"
        case .consoleLog: "console log"
        case .networkLog: "network log"
        case .action: "actions"
        }
    }

    /// Capitalized noun.
    var title: String { noun.prefix(1).uppercased() + noun.dropFirst() }
}

/// Whether a resource can be downloaded.
enum ResourceAvailability: String, Sendable, Codable {
    /// `url` is a presigned URL.
    case available
    /// `url: null`, `captureEnabled: false`.
    case notCaptured
    /// `url: null`, `captureEnabled: true` (still processing, or lost).
    case unavailable
}

/// One resource of a recording: what the resource endpoint reports and how its bytes are made.
struct ResourceSpec: Sendable {
    var availability: ResourceAvailability
    var mediaType: String
    /// File name in blob URLs, such as `video.webm`.
    var fileName: String
    var body: ResourceBody
    var durationMs: Int?
}
