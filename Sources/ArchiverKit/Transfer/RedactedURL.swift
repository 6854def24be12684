import Foundation

/// A URL reduced to `scheme://host[:port]/path`: safe to log, store and show.
///
/// Presigned query strings and userinfo are credentials; they never leave this type.
public struct RedactedURL: Sendable, Hashable, CustomStringConvertible {
    /// The redacted text.
    public let description: String

    /// Redacts `url`, dropping userinfo, query and fragment.
    public init(_ url: String) {
        // `encodedHost`, not `host`: the latter decodes IDNA through ICU, paging its data in (README, Memory).
        guard var components = URLComponents(string: url), components.encodedHost != nil else {
            // Unparseable: keep only what precedes any query or fragment, and drop userinfo.
            var text = String(url.prefix { $0 != "?" && $0 != "#" })
            if let at = text.firstIndex(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound <= at {
                text.removeSubrange(scheme.upperBound...at)
            }
            self.description = text
            return
        }
        components.user = nil
        components.password = nil
        components.query = nil
        components.fragment = nil
        self.description = components.string ?? ""
    }
}
