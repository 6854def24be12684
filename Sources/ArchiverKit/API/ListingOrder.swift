/// The order a listing asks the API for (`sort_by=created_at`, `sort_direction=asc|desc`).
public struct ListingOrder: Sendable, Hashable, CustomStringConvertible {
    private enum Wrapped: String, Sendable, Hashable {
        case asc, desc
    }
    private let wrapped: Wrapped

    /// Oldest first (`sort_direction=asc`).
    public static var oldestFirst: Self { Self(wrapped: .asc) }
    /// Newest first (`sort_direction=desc`): what scheduled runs use, so a listing can stop at the
    /// high-water mark of the previous run.
    public static var newestFirst: Self { Self(wrapped: .desc) }

    /// The `sort_direction` value.
    public var sortDirection: String { wrapped.rawValue }

    /// `asc` or `desc`.
    public var description: String { wrapped.rawValue }
}
