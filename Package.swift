// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "qkv",
    products: [
        .library(name: "QKVKit", targets: ["QKVKit"]),
        .executable(name: "qkv", targets: ["qkv"]),
        .executable(name: "qkv-matmul-bench", targets: ["qkv-matmul-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // Float32 GEMM micro-kernels (AVX2+FMA chosen at run time, portable C elsewhere).
        .target(name: "CKernels"),
        .target(name: "QKVKit", dependencies: ["CZlib", "CKernels"]),
        .executableTarget(
            name: "qkv",
            dependencies: [
                "QKVKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "qkv-fixtures", dependencies: ["QKVKit"]),
        .executableTarget(name: "qkv-matmul-bench", dependencies: ["QKVKit"]),
        .executableTarget(name: "qkv-decode-bench", dependencies: ["QKVKit"]),
        .testTarget(name: "QKVKitTests", dependencies: ["QKVKit"]),
    ]
)
