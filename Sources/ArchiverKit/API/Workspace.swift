/// A workspace (`GET /public/workspace/{workspaceId}`, `data.workspace`).
public struct Workspace: Sendable, Hashable {
    /// The workspace's id.
    public var workspaceID: String
    /// The workspace's name.
    public var workspaceName: String?

    init(data: KeyedDecodingContainer<AnyCodingKey>) throws {
        let workspace = data.object("workspace") ?? data
        guard let id = workspace.lenientString("workspaceId") else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "no workspace.workspaceId"))
        }
        self.workspaceID = id
        self.workspaceName = workspace.lenientString("workspaceName")
    }
}
