import ArgumentParser

struct PackBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Pack staged files with the archive packer."
    )

    func run() async throws {
        throw CleanExit.message("'pack' is not implemented yet in this build.")
    }
}
