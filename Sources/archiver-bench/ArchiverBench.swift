import ArgumentParser

@main
struct ArchiverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archiver-bench",
        abstract: "Drives ArchiverKit subsystems for the Scripts/bench-*.sh benchmarks.",
        subcommands: [TransferBench.self, PackBench.self, HashBench.self]
    )
}
