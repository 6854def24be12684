/// Placeholder: the simulator is built in the foundation issue.
public enum UserplaneSimulatorInfo {
    /// The API base path every route lives under.
    public static let apiBasePath = "/api/v1"
}
