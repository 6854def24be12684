import Testing
import UserplaneSimulator

@Suite(.timeLimit(.minutes(3))) struct PaginationTests {
    @Test func walksEveryRecordingOnceNewestFirstWithLastPageFlags() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            var seen: [String] = []
            var page = 1
            while true {
                let reply = try await client.api("/public/workspace/\(simulator.workspaceID)/recordings?page=\(page)")
                #expect(reply.status == 200)
                let pagination = SimulatorClient.pagination(reply)
                #expect(pagination["perPage"] as? Int == 10)
                #expect(pagination["total"] as? Int == 26)
                #expect(pagination["totalPages"] as? Int == 3)
                seen += SimulatorClient.ids(reply)
                guard pagination["hasMore"] as? Bool == true else { break }
                page += 1
            }
            #expect(page == 3)
            #expect(seen.count == 26)
            #expect(Set(seen) == Set(simulator.recordings.map(\.recordingID)))
            let created = simulator.recordings.reduce(into: [String: String]()) { $0[$1.recordingID] = $1.createdAt }
            let dates = seen.compactMap { created[$0] }
            #expect(dates == dates.sorted(by: >))
            #expect(dates.allSatisfy { $0.count == 24 && $0.hasSuffix("Z") && $0.contains(".") })
        }
    }

    @Test func pagePastTheEndIsEmptyWithoutMore() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let reply = try await SimulatorClient(simulator: simulator)
                .api("/public/workspace/\(simulator.workspaceID)/recordings?page=9&per_page=20")
            #expect(reply.status == 200)
            #expect(SimulatorClient.ids(reply).isEmpty)
            #expect(SimulatorClient.pagination(reply)["hasMore"] as? Bool == false)
            #expect(SimulatorClient.pagination(reply)["page"] as? Int == 9)
        }
    }

    @Test func emptyWorkspaceHasZeroPages() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let reply = try await SimulatorClient(simulator: simulator)
                .api("/public/workspace/\(simulator.emptyWorkspaceID)/recordings")
            #expect(reply.status == 200)
            let pagination = SimulatorClient.pagination(reply)
            #expect(pagination["total"] as? Int == 0)
            #expect(pagination["totalPages"] as? Int == 0)
            #expect(pagination["hasMore"] as? Bool == false)
        }
    }

    @Test(arguments: [
        "per_page=0", "per_page=21", "page=0", "page=-1", "page=abc", "page=9007199254740992", "sort_by=title",
        "created_by=x",
    ])
    func outOfRangeParametersAnswer400(query: String) async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let reply = try await SimulatorClient(simulator: simulator)
                .api("/public/workspace/\(simulator.workspaceID)/recordings?\(query)")
            #expect(reply.status == 400)
            #expect(reply.error == "BAD_REQUEST")
            #expect(reply.json.keys.sorted() == ["error", "message"])
        }
    }

    @Test func perPageTwentyIsTheMaximumAccepted() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let reply = try await SimulatorClient(simulator: simulator)
                .api("/public/workspace/\(simulator.workspaceID)/recordings?per_page=20")
            #expect(reply.status == 200)
            #expect(SimulatorClient.ids(reply).count == 20)
        }
    }

    @Test func bracketFiltersAndAscendingSortApply() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let creator = simulator.recordings[0].creatorMemberId
            let project = simulator.recordings[1].projectId
            let reply = try await SimulatorClient(simulator: simulator).api(
                "/public/workspace/\(simulator.workspaceID)/recordings?per_page=20&created_by%5B0%5D=\(creator)"
                    + "&project_id[0]=\(project)&project_id[1]=prj_none&sort_direction=asc"
            )
            #expect(reply.status == 200)
            let expected = simulator.recordings.filter { $0.creatorMemberId == creator && $0.projectId == project }
                .sorted { $0.createdAt < $1.createdAt }.map(\.recordingID)
            #expect(!expected.isEmpty)
            #expect(SimulatorClient.ids(reply) == expected)
        }
    }

    @Test func workspacesListCarriesTotalAndOptionalMembership() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let plain = try await client.api("/public/workspaces")
            #expect(plain.data["total"] as? Int == 2)
            let workspaces = plain.data["workspaces"] as? [[String: Any]] ?? []
            #expect(
                workspaces.map { $0["workspaceId"] as? String } == [simulator.workspaceID, simulator.emptyWorkspaceID]
            )
            #expect(workspaces.allSatisfy { $0["workspaceMembership"] == nil })
            let with = try await client.api("/public/workspaces?include_workspace_membership=true&per_page=1")
            let first = (with.data["workspaces"] as? [[String: Any]])?.first
            #expect((first?["workspaceMembership"] as? [String: Any])?["workspaceRole"] as? String == "owner")
            #expect(SimulatorClient.pagination(with)["hasMore"] as? Bool == true)
        }
    }
}
