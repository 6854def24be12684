import ArgumentParser
import UserplaneSimulator

@main
struct UserplaneSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "userplane-sim",
        abstract: "A local, faithful simulator of the Userplane public REST API and its presigned blob host."
    )

    func run() async throws {
        print(UserplaneSimulatorInfo.apiBasePath)
    }
}
