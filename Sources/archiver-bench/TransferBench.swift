import ArgumentParser

struct TransferBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Download URLs with the transfer engine and report bytes and digests."
    )

    func run() async throws {
        throw CleanExit.message("'transfer' is not implemented yet in this build.")
    }
}
