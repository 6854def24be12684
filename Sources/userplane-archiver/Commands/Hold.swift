import ArgumentParser

struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Manage legal holds."
    )

    func run() async throws {
        throw CleanExit.message("'hold' is not implemented yet in this build.")
    }
}
