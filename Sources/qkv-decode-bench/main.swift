// Times QKVKit's decoding of every tensor of a QKV file (inflate, un-shuffle, CRC-32 check, widen
// to Float32), one JSON line per tensor, for benchmarks/run.sh to compare with Python's zlib.
// Usage: qkv-decode-bench FILE [RUNS]
import Foundation
import QKVKit

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: qkv-decode-bench FILE [RUNS]\n".utf8))
    exit(64)
}
let runs = arguments.count >= 3 ? max(1, Int(arguments[2]) ?? 9) : 9
do {
    let checkpoint = try QKVFile(path: arguments[1])
    _ = try checkpoint.fileContents()  // map (or inflate a wrapper) outside the timing
    for info in checkpoint.tensors {
        var times: [Double] = []
        for _ in 0..<runs {
            let start = Benchmark.monotonicNanoseconds()
            let tensor = try checkpoint.decode(info, verify: true, threads: ThreadCount.automatic)
            times.append(Double(Benchmark.monotonicNanoseconds() - start) / 1e9)
            withExtendedLifetime(tensor) {}
        }
        times.sort()
        let median = times[times.count / 2]
        let line: JSONValue = .object([
            ("tensor", .string(info.name)), ("encoding", .string(info.encoding.rawValue)), ("dtype", .string(info.dtype.rawValue)),
            ("stored_bytes", .int(Int(info.storedBytes))), ("decoded_bytes", .int(info.decodedBytes)), ("runs", .int(runs)),
            ("median_s", .double(median)), ("decoded_mb_per_s", .double(Double(info.decodedBytes) / median / 1e6)),
        ])
        print(line.rendered())
    }
} catch {
    FileHandle.standardError.write(Data("qkv-decode-bench: \(arguments[1]): \(error)\n".utf8))
    exit(1)
}
