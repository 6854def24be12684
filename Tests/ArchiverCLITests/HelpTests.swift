import ArchiverTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(10))) struct HelpTests {
    @Test func helpListsEverySubcommand() async throws {
        let result = try await ChildProcess.run(ExecutableLocator.url(of: "userplane-archiver"), ["--help"])
        #expect(result.status == 0)
        for name in ["archive", "download", "verify", "status", "prune", "delete-remote", "hold"] {
            #expect(result.stdout.contains(name), "help should list \(name)")
        }
    }
}
