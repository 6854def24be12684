import ArgumentParser

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify archives against their sidecar digests and manifests."
    )

    func run() async throws {
        throw CleanExit.message("'verify' is not implemented yet in this build.")
    }
}
