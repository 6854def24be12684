/// One of the five per-recording resources (`GET …/recordings/{id}/<suffix>`).
public struct ResourceKind: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    private enum Wrapped: Hashable, Sendable, CaseIterable {
        case video
        case thumbnail
        case consoleLog
        case networkLog
        case actions
    }
    private let wrapped: Wrapped

    /// The video (`/video`).
    public static let video = Self(wrapped: .video)
    /// The thumbnail image (`/thumbnail`).
    public static let thumbnail = Self(wrapped: .thumbnail)
    /// The browser console log (`/console-log`).
    public static let consoleLog = Self(wrapped: .consoleLog)
    /// The network request log (`/network-log`).
    public static let networkLog = Self(wrapped: .networkLog)
    /// The client actions (`/action`).
    public static let actions = Self(wrapped: .actions)

    /// All kinds, in archive order.
    public static let allCases: [Self] = Wrapped.allCases.map(Self.init(wrapped:))

    /// The API path suffix: `video`, `thumbnail`, `console-log`, `network-log`, `action`.
    public var pathSuffix: String {
        switch wrapped {
        case .video: "video"
        case .thumbnail: "thumbnail"
        case .consoleLog: "console-log"
        case .networkLog: "network-log"
        case .actions: "action"
        }
    }

    /// The file base name in an archive's `data/`: `video`, `thumbnail`, `console-log`, `network-log`,
    /// `actions`.
    public var archiveBaseName: String {
        switch wrapped {
        case .video: "video"
        case .thumbnail: "thumbnail"
        case .consoleLog: "console-log"
        case .networkLog: "network-log"
        case .actions: "actions"
        }
    }

    /// Parses a user-facing name (`--resources video,console-log,…`): the archive base name or the path
    /// suffix.
    ///
    /// - Parameter name: A name such as `console-log` or `actions`.
    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.archiveBaseName == name || $0.pathSuffix == name }) else {
            return nil
        }
        self = kind
    }

    private init(wrapped: Wrapped) { self.wrapped = wrapped }

    /// The archive base name.
    public var description: String { archiveBaseName }
}
