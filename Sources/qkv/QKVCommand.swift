import ArgumentParser
import QKVKit

@main
struct QKVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qkv",
        abstract: "Inspect transformer checkpoints and dump their attention.",
        version: QKVKit.version
    )
}
