/// The user an API key belongs to (`GET /public/me`, `data.user`).
public struct UserProfile: Sendable, Hashable {
    /// The user's id.
    public var id: String
    /// The user's name.
    public var name: String?
    /// The user's e-mail address.
    public var email: String?

    init(data: KeyedDecodingContainer<AnyCodingKey>) throws {
        let user = data.object("user") ?? data
        guard let id = user.lenientString("id") else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "no user.id"))
        }
        self.id = id
        self.name = user.lenientString("name")
        self.email = user.lenientString("email")
    }
}
