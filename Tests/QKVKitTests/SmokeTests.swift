import Testing
@testable import QKVKit

@Test func versionIsSet() {
    #expect(!QKVKit.version.isEmpty)
}
