import ArgumentParser

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Summarise the queue and the catalog of an archive root."
    )

    func run() async throws {
        throw CleanExit.message("'status' is not implemented yet in this build.")
    }
}
