package import Foundation
package import Logging

/// Builds the paced API client the way every API-calling command does: today's persisted API usage
/// seeds the pacer's daily budget, and ``persistUsage(store:)`` adds this run's usage back.
package struct APIWiring: Sendable {
    /// The client.
    package let client: APIClient
    /// The instant the budget day was taken from.
    package let today: Date
    /// API requests already used today (UTC) by earlier runs.
    package let usedToday: Int

    /// Wires a client from resolved settings (flags > environment > file > defaults).
    package static func make(
        settings: ArchiverConfiguration,
        keySource: APIClient.APIKeySource,
        store: any StateStore,
        logger: Logger,
        shared: (any SharedPacing)? = nil
    ) async throws -> APIWiring {
        let today = Date()
        let usedToday = try await store.catalog.apiUsage(on: today)
        return build(
            settings: settings,
            keySource: keySource,
            logger: logger,
            today: today,
            usedToday: usedToday,
            shared: shared
        )
    }

    /// Wires a client whose daily budget starts at zero, without a store: for a root that has no state yet, whose
    /// preflight runs before anything is created on disk (the run persists the pacer's usage as usual).
    package static func makeUnpersisted(
        settings: ArchiverConfiguration,
        keySource: APIClient.APIKeySource,
        logger: Logger
    ) -> APIWiring {
        build(settings: settings, keySource: keySource, logger: logger, today: Date(), usedToday: 0)
    }

    private static func build(
        settings: ArchiverConfiguration,
        keySource: APIClient.APIKeySource,
        logger: Logger,
        today: Date,
        usedToday: Int,
        shared: (any SharedPacing)? = nil
    ) -> APIWiring {
        let pacer = APIPacer(
            configuration: APIPacer.Configuration(
                requestsPerWindow: settings.apiRate ?? ArchiverDefaults.apiRequestsPerMinute,
                dailyLimit: settings.apiDailyBudget ?? ArchiverDefaults.apiDailyBudget
            ),
            budget: DailyBudget(day: DailyBudget.utcDay(of: today), used: usedToday),
            shared: shared
        )
        var clientConfiguration = APIClient.Configuration(apiKey: keySource)
        clientConfiguration.baseURL = settings.baseURL ?? ArchiverDefaults.baseURL
        clientConfiguration.caBundlePath = settings.caBundle
        let client = APIClient(configuration: clientConfiguration, pacer: pacer, logger: logger)
        return APIWiring(client: client, today: today, usedToday: usedToday)
    }

    /// Adds the requests this run made to the persisted daily usage.
    package func persistUsage(store: any StateStore) async throws {
        let budget = await client.pacer.statistics.budget
        let startDay = DailyBudget.utcDay(of: today)
        let delta = budget.day == startDay ? budget.used - usedToday : budget.used
        guard delta > 0 else { return }
        _ = try await store.catalog.addAPIUsage(delta, on: budget.day == startDay ? today : Date())
    }
}
