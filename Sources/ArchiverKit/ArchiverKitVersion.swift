/// Identity of this build of the archiver, written into manifests, reports and the User-Agent.
public enum ArchiverKitVersion {
    /// The tool name recorded in archive manifests and run reports.
    public static let toolName = "userplane-archiver"
    /// The semantic version of this build.
    public static let version = "0.1.0"
    /// The `User-Agent` sent on API requests.
    public static var userAgent: String { "\(toolName)/\(version)" }
}
