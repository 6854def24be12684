import ArchiverTestSupport
import Foundation
import Testing

@Suite struct HelpTests {
    @Test func helpListsEverySubcommand() throws {
        let process = Process()
        process.executableURL = ExecutableLocator.url(of: "userplane-archiver")
        process.arguments = ["--help"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        for name in ["archive", "download", "verify", "status", "prune", "delete-remote", "hold"] {
            #expect(output.contains(name), "help should list \(name)")
        }
    }
}
