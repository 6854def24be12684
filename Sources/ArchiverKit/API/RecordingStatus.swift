/// A recording's processing status (`recording.meta.status`), kept as the server's string.
///
/// Only `"pending"` is documented; the full set is unknown. The rule, chosen so that a new final-looking
/// value never blocks archiving forever while anything that looks in-flight is deferred:
/// - known in-flight values (`pending`, `processing`, `uploading`, `queued`, `recording`, `in_progress`,
///   `transcoding`, `encoding`, `created`, `started`, `initializing`, `waiting`) are **not** final;
/// - any other value containing `pend`, `process`, `upload`, `progress`, `queue`, `encod`, `transcod`
///   or `wait` (case-insensitive) is treated as in-flight too;
/// - every other value, including known final ones (`ready`, `completed`, `processed`, `failed`, …), is
///   final; an absent status counts as final (see ``RecordingDetail/isFinal``).
public struct RecordingStatus: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    /// The status string as sent.
    public let rawValue: String

    /// Wraps a status string.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// `pending`: the only documented value; not final.
    public static let pending = Self(rawValue: "pending")
    /// `processing`: not final.
    public static let processing = Self(rawValue: "processing")
    /// `uploading`: not final.
    public static let uploading = Self(rawValue: "uploading")
    /// `ready`: final.
    public static let ready = Self(rawValue: "ready")
    /// `completed`: final.
    public static let completed = Self(rawValue: "completed")

    private static let inFlight: Set<String> = [
        "pending", "processing", "uploading", "queued", "recording", "in_progress", "in-progress", "transcoding",
        "encoding", "created", "started", "initializing", "waiting",
    ]
    private static let inFlightFragments = [
        "pend", "process", "upload", "progress", "queue", "encod", "transcod", "wait",
    ]
    private static let knownFinal: Set<String> = [
        "ready", "completed", "complete", "processed", "done", "available", "uploaded", "finished", "failed", "error",
    ]

    /// Whether the recording is done changing, so it can be archived now.
    public var isFinal: Bool {
        let lowered = rawValue.lowercased()
        if Self.knownFinal.contains(lowered) { return true }
        if Self.inFlight.contains(lowered) { return false }
        return !Self.inFlightFragments.contains { lowered.contains($0) }
    }

    /// The raw status.
    public var description: String { rawValue }
}
