import ArchiverKit
import Foundation
import Logging

/// Builds the paced API client the way every API-calling command does: today's persisted API usage
/// seeds the pacer's daily budget, and ``persistUsage(store:)`` adds this run's usage back.
struct APIWiring {
    /// The client.
    let client: APIClient
    /// The instant the budget day was taken from.
    let today: Date
    /// API requests already used today (UTC) by earlier runs.
    let usedToday: Int

    static func make(api: APIOptions, store: ArchiveStore, logger: Logger) async throws -> APIWiring {
        let today = Date()
        let usedToday = try await store.catalog.apiUsage(on: today)
        let pacer = APIPacer(
            configuration: APIPacer.Configuration(requestsPerWindow: api.apiRate, dailyLimit: api.apiDailyBudget),
            budget: DailyBudget(day: DailyBudget.utcDay(of: today), used: usedToday)
        )
        var clientConfiguration = APIClient.Configuration(apiKey: try api.keySource())
        clientConfiguration.baseURL = api.effectiveBaseURL
        clientConfiguration.caBundlePath = api.caBundle
        let client = APIClient(configuration: clientConfiguration, pacer: pacer, logger: logger)
        return APIWiring(client: client, today: today, usedToday: usedToday)
    }

    /// Adds the requests this run made to the persisted daily usage.
    func persistUsage(store: ArchiveStore) async throws {
        let budget = await client.pacer.statistics.budget
        let startDay = DailyBudget.utcDay(of: today)
        let delta = budget.day == startDay ? budget.used - usedToday : budget.used
        guard delta > 0 else { return }
        _ = try await store.catalog.addAPIUsage(delta, on: budget.day == startDay ? today : Date())
    }
}
