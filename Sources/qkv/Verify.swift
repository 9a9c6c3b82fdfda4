import ArgumentParser
import QKVKit

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode every tensor, check its CRC-32 and that every value is finite.",
        discussion: "Prints one line per problem (stderr) and a summary; exits 0 only if the whole file is sound.")

    @OptionGroup var checkpoint: CheckpointArgument

    func run() throws {
        var problems: [VerificationProblem] = []
        var tensorCount = 0
        try reportingFailures(path: checkpoint.path) {
            let model = try CheckpointLoader.open(path: checkpoint.path)
            tensorCount = model.tensors.count
            problems = model.verifyAll()
        }
        guard problems.isEmpty else {
            // Problems are failures: stderr, one line each, and nothing on stdout.
            for problem in problems { printError("qkv: error: \(problem)") }
            fail("\(checkpoint.path): \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(tensorCount) tensors")
        }
        printLine("ok: \(checkpoint.path): \(tensorCount) tensors, checksums match, all values finite")
    }
}
