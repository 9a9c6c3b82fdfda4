import ArgumentParser
import QKVKit

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode every tensor, check its checksum (QKV) and that every value is finite.",
        discussion: "Prints one line per problem (stderr) and a summary; exits 0 only if the whole file is sound.")

    @OptionGroup var checkpoint: CheckpointArgument
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        var problems: [VerificationProblem] = []
        var tensorCount = 0
        var hasChecksums = false
        try reportingFailures(path: checkpoint.path) {
            let model = try CheckpointLoader.open(path: checkpoint.path)
            hasChecksums = model.format.hasChecksums
            let progress = Progress(label: "verifying")
            let verification = model.verifyAll(threads: threads.count) { done, total in progress.update(done, of: total) }
            progress.finish()
            tensorCount = verification.tensorCount
            problems = verification.problems
        }
        guard problems.isEmpty else {
            // Problems are failures: stderr, one line each, and nothing on stdout.
            for problem in problems { printError("qkv: error: \(problem)") }
            fail("\(checkpoint.path): \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(tensorCount) tensors")
        }
        let checked = hasChecksums ? "checksums match, all values finite" : "all values finite (the format has no checksums)"
        printLine("ok: \(checkpoint.path): \(tensorCount) tensors, \(checked)")
    }
}
