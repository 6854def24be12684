import ArgumentParser

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete local archives older than the retention policy."
    )

    func run() async throws {
        throw CleanExit.message("'prune' is not implemented yet in this build.")
    }
}
