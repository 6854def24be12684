import ArgumentParser
import Foundation

/// How to reach the Userplane API: key, base URL, pacing, TLS.
struct APIOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "File holding the API key (re-read once if the key is rotated mid-run).",
            discussion:
                "Without it the key comes from USERPLANE_API_KEY. The key is never accepted on the command line.",
            valueName: "path"
        )
    )
    var apiKeyFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "API base URL. (env: USERPLANE_BASE_URL; default: https://api.userplane.io/api/v1)",
            valueName: "url"
        )
    )
    var baseURL: String?

    @Option(
        name: .long,
        help: ArgumentHelp("API requests per minute, never exceeded in any 60 s window.", valueName: "n")
    )
    var apiRate: Int = 120

    @Option(name: .long, help: ArgumentHelp("API requests per UTC day, persisted across runs.", valueName: "n"))
    var apiDailyBudget: Int = 10_000

    @Option(
        name: .long,
        help: ArgumentHelp("PEM bundle of extra trusted CAs (for a TLS-inspecting proxy).", valueName: "path")
    )
    var caBundle: String?

    func validate() throws {
        guard apiRate >= 1 else { throw ValidationError("--api-rate must be at least 1 request per minute.") }
        guard apiDailyBudget >= 1 else { throw ValidationError("--api-daily-budget must be at least 1.") }
        if let baseURL {
            guard let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(),
                scheme == "https" || scheme == "http", url.host != nil
            else {
                throw ValidationError(
                    "--base-url must be an http(s) URL such as https://api.userplane.io/api/v1 (got '\(baseURL)')."
                )
            }
        }
        if let caBundle, !FileManager.default.isReadableFile(atPath: caBundle) {
            throw ValidationError("--ca-bundle '\(caBundle)' is not a readable file.")
        }
    }

    /// The base URL: flag, then `USERPLANE_BASE_URL`, then the production default.
    var effectiveBaseURL: String {
        if let baseURL { return baseURL }
        if let fromEnvironment = ProcessInfo.processInfo.environment["USERPLANE_BASE_URL"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return "https://api.userplane.io/api/v1"
    }
}
