import ArgumentParser

struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download recordings as plain files."
    )

    func run() async throws {
        throw CleanExit.message("'download' is not implemented yet in this build.")
    }
}
