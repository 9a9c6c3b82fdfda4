import Foundation
import Testing
@testable import QKVKit

/// Our fixtures (written by QKVKit) and foreign ones (written by scripts/qkvref.py), each against
/// float64 goldens from scripts/qkvref.py. Tolerance: 1e-5 absolute on every score.
@Suite struct GoldenAttentionTests {
    static let ours: [String] = {
        let manifest = (try? loadJSON(fixturePath("fixtures.json"))) as? [String: Any] ?? [:]
        return manifest.keys.sorted()
    }()

    static let foreign: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixturePath("foreign"))) ?? []
        return names.filter { $0.hasSuffix(".qkv") }.map { String($0.dropLast(4)) }.sorted()
    }()

    @Test func fixturesArePresent() {
        #expect(Self.ours.count >= 10)
        #expect(Self.foreign.count >= 12)
    }

    @Test(arguments: ours)
    func ourFixtureMatchesReference(name: String) throws {
        try check(file: fixturePath("\(name).qkv"), golden: fixturePath("golden/\(name)"))
    }

    @Test(arguments: foreign)
    func foreignFileMatchesReference(name: String) throws {
        try check(file: fixturePath("foreign/\(name).qkv"), golden: fixturePath("foreign/\(name)"))
    }

    func check(file: String, golden: String) throws {
        let checkpoint = try CheckpointLoader.open(path: file)
        let expected = try GoldenAttention(path: golden + ".attention.json")
        let report = try AttentionRunner.run(
            AttentionRequest(input: .tokens(expected.ids.map(String.init).joined(separator: ","))), checkpoint: checkpoint)
        #expect(report.tokens.map(\.id) == expected.ids)
        #expect(report.tokens.map(\.text) == expected.texts)
        #expect(report.layers.count == expected.scores.count)
        #expect(maximumDifference(report, expected) < 1e-5)

        let counts = try loadJSON(golden + ".inspect.json") as! [String: Any]
        let inspect = InspectReport(checkpoint)
        #expect(inspect.counts.totalParameters == (counts["total_parameters"] as! NSNumber).intValue)
        let groups = (counts["groups"] as! [[String: Any]]).map { ($0["name"] as! String, ($0["parameters"] as! NSNumber).intValue) }
        #expect(inspect.counts.groups.map(\.name) == groups.map(\.0))
        #expect(inspect.counts.groups.map(\.parameters) == groups.map(\.1))
    }

    @Test func seedDemoPrintsTheTextbookMatrix() throws {
        let checkpoint = try CheckpointLoader.open(path: fixturePath("seed.qkv"))
        let report = try AttentionRunner.run(AttentionRequest(input: .text("x1 x2 x3")), checkpoint: checkpoint)
        #expect(report.table(decimals: 2) == """
            layer 0 head 0    x1    x2    x3
            x1              0.90  0.03  0.08
            x2              0.02  0.96  0.01
            x3              0.08  0.01  0.91
            """)
    }

    @Test func everyRowSumsToOne() throws {
        let checkpoint = try CheckpointLoader.open(path: fixturePath("gqa_causal_pos.qkv"))
        let report = try AttentionRunner.run(AttentionRequest(input: .tokens("1 2 3 4 5 6")), checkpoint: checkpoint)
        for layer in report.layers {
            for head in layer.heads {
                for query in 0..<layer.tokenCount {
                    let row = head[(query * layer.tokenCount)..<((query + 1) * layer.tokenCount)]
                    #expect(abs(row.reduce(0, +) - 1) < 1e-5)
                    // Causal: nothing above the diagonal.
                    #expect(row.dropFirst(query + 1).allSatisfy { $0 == 0 })
                }
            }
        }
    }
}
