// swift-tools-version:6.0
// libFuzzer targets for qkv's readers (docs/RELIABILITY.md). Built by scripts/fuzz.sh, never by
// the main package: `swift build -c release --package-path fuzz --scratch-path .build-fuzz
// --sanitize=fuzzer --sanitize=address -Xswiftc -use-ld=lld`.
import PackageDescription

/// One executable per target, `fuzz-NAME`, with its code in Sources/fuzz-NAME/main.swift.
let fuzzTargets = [
    "qkv", "qkv-wrapped", "safetensors", "safetensors-folder", "gguf", "gguf-tokenizer", "llama2c",
    "tokenizer-json", "vocab-txt", "config-json", "strict-json",
]

let package = Package(
    name: "qkv-fuzz",
    dependencies: [
        // The package in the folder above, whatever that folder is called.
        .package(name: "qkv", path: ".."),
    ],
    targets: [
        // libFuzzer's driver entry point, zlib's deflate and crc32 for targets that build inputs.
        .target(name: "CFuzzSupport", linkerSettings: [.linkedLibrary("z")]),
        .target(name: "FuzzSupport", dependencies: ["CFuzzSupport", .product(name: "QKVKit", package: "qkv")]),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: ["FuzzSupport", .product(name: "QKVKit", package: "qkv")])
    }
)
