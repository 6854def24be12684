import ArgumentParser

struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Archive a workspace's recordings into verifiable tar packages."
    )

    func run() async throws {
        throw CleanExit.message("'archive' is not implemented yet in this build.")
    }
}
