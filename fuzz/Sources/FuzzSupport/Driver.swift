import Foundation

/// What every target's `LLVMFuzzerTestOneInput` calls: the input as bytes to `body`. SwiftPM
/// builds the targets with `--sanitize=fuzzer`, which links libFuzzer's own `main` (it parses the
/// libFuzzer flags: `-max_total_time=30 -dict=… CORPUS…`, or files to run once) and compiles the
/// target files as a library. Work stays on one thread (`QKV_THREADS=1`).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int, _ body: ([UInt8]) -> Void) -> CInt {
    setUpOnce()
    let bytes = if let data, size > 0 { [UInt8](UnsafeBufferPointer(start: data, count: size)) } else { [UInt8]() }
    body(bytes)
    return 0
}

nonisolated(unsafe) private var isSetUp = false

private func setUpOnce() {
    guard !isSetUp else { return }
    isSetUp = true
    setenv("QKV_THREADS", "1", 1)
    _ = Workspace.shared
    atexit { Workspace.shared.remove() }
}
