// Target strict-json: StrictJSON.parse on the input, as every JSON reader calls it (duplicate keys
// rejected and kept; default limits and small ones), then every accessor on every value parsed.
import FuzzSupport
import QKVKit

func walk(_ value: StrictJSON.Value, depth: Int = 0) {
    _ = value.kindName
    _ = value.rendered(limit: 60)
    _ = value.integer
    _ = value.nonNegativeInteger
    _ = value.double
    _ = value.string
    switch value {
    case let .array(items):
        for item in items { walk(item, depth: depth + 1) }
    case let .object(members):
        for member in members {
            _ = value[member.key]
            walk(member.value, depth: depth + 1)
        }
    default:
        break
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzInput(data, size) { bytes in
        for (limits, duplicates) in [
            (StrictJSON.Limits(), StrictJSON.DuplicateKeys.reject),
            (StrictJSON.Limits(), .keep),
            (StrictJSON.Limits(maximumDepth: 8, maximumValues: 64), .reject),
        ] {
            do {
                walk(try StrictJSON.parse(bytes, what: "fuzz input", baseOffset: 100, limits: limits, duplicateKeys: duplicates))
            } catch {
                Pipeline.describe(error)
            }
        }
    }
}
