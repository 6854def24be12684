import ArgumentParser

struct DeleteRemoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-remote",
        abstract: "Delete recordings from Userplane once their archive re-verifies."
    )

    func run() async throws {
        throw CleanExit.message("'delete-remote' is not implemented yet in this build.")
    }
}
