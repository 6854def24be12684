import ArchiverKit
import ArgumentParser
import Foundation

/// How to reach the Userplane API: key, base URL, pacing, TLS.
struct APIOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "File holding the API key (re-read once if the key is rotated mid-run).",
            discussion:
                "Without it the key comes from USERPLANE_API_KEY, then the config file's api_key_file. "
                + "The key is never accepted on the command line or in the config file.",
            valueName: "path"
        )
    )
    var apiKeyFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "API base URL. (env: USERPLANE_BASE_URL; config: base_url; default: \(ArchiverDefaults.baseURL))",
            valueName: "url"
        )
    )
    var baseURL: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "API requests per minute, never exceeded in any 60 s window. "
                + "(config: api_rate; default: \(ArchiverDefaults.apiRequestsPerMinute))",
            valueName: "n"
        )
    )
    var apiRate: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "API requests per UTC day, persisted across runs. "
                + "(config: api_daily_budget; default: \(ArchiverDefaults.apiDailyBudget))",
            valueName: "n"
        )
    )
    var apiDailyBudget: Int?

    @Option(
        name: .long,
        help: ArgumentHelp("PEM bundle of extra trusted CAs (for a TLS-inspecting proxy).", valueName: "path")
    )
    var caBundle: String?

    func validate() throws {
        if let apiRate, apiRate < 1 {
            throw ValidationError("--api-rate must be at least 1 request per minute.")
        }
        if let apiDailyBudget, apiDailyBudget < 1 { throw ValidationError("--api-daily-budget must be at least 1.") }
        if let baseURL {
            guard let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(),
                scheme == "https" || scheme == "http", url.host != nil
            else {
                throw ValidationError(
                    "--base-url must be an http(s) URL such as \(ArchiverDefaults.baseURL) (got '\(baseURL)')."
                )
            }
        }
        // A FIFO or a device would block libcurl for ever: only a regular file that opens is accepted.
        if let caBundle, let problem = ArchiverConfiguration.caBundleProblem(caBundle) {
            throw ValidationError("--ca-bundle: \(problem).")
        }
    }

    /// The settings given as flags, the highest-precedence layer.
    var flagLayer: ArchiverConfiguration {
        var layer = ArchiverConfiguration()
        layer.baseURL = baseURL
        layer.apiKeyFile = apiKeyFile
        layer.caBundle = caBundle
        layer.apiRate = apiRate
        layer.apiDailyBudget = apiDailyBudget
        return layer
    }
}
