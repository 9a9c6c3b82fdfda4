import Foundation
import Testing

/// QKVKit's folders are layers that point one way: IO ← Formats ← Tokenization ← Model ←
/// Inference ← Rendering. A file may use the types of its own layer and those below, never those
/// above; this test reads the sources and names every use that points up.
@Suite struct LayeringTests {
    static let layers = ["IO", "Formats", "Tokenization", "Model", "Inference", "Rendering"]
    static let sources = repositoryRoot.appendingPathComponent("Sources/QKVKit")

    static func swiftFiles(in layer: String) -> [URL] {
        let folder = sources.appendingPathComponent(layer)
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        return (enumerator?.allObjects as? [URL] ?? []).filter { $0.pathExtension == "swift" }
    }

    /// The text without comments and string literals, where a type name can only be a use.
    static func code(_ url: URL) throws -> String {
        var text = try String(contentsOf: url, encoding: .utf8)
        text = text.replacingOccurrences(of: #"//[^\n]*"#, with: "", options: .regularExpression)
        text = text.replacingOccurrences(of: ##""(?:[^"\\\n]|\\.)*""##, with: "\"\"", options: .regularExpression)
        return text
    }

    /// Types declared at the top level of each layer's files.
    static func declarations() throws -> [String: String] {
        var owner: [String: String] = [:]
        let declaration = try NSRegularExpression(
            pattern: #"^(?:public |private |fileprivate |internal |final |indirect )*(?:struct|enum|class|protocol|typealias) ([A-Z]\w*)"#,
            options: .anchorsMatchLines)
        for layer in layers {
            for file in swiftFiles(in: layer) {
                let text = try code(file)
                for match in declaration.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    owner[String(text[Range(match.range(at: 1), in: text)!])] = layer
                }
            }
        }
        return owner
    }

    @Test func noLayerUsesALayerAboveIt() throws {
        let owner = try Self.declarations()
        #expect(owner["StrictJSON"] == "IO" && owner["Checkpoint"] == "Model" && owner["AttentionReport"] == "Inference")
        var violations: [String] = []
        for (index, layer) in Self.layers.enumerated() {
            let above = Set(Self.layers[(index + 1)...])
            let names = owner.filter { above.contains($0.value) }
            for file in Self.swiftFiles(in: layer) {
                let text = try Self.code(file)
                let words = Set(text.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init))
                for (name, home) in names where words.contains(name) {
                    violations.append("\(layer)/\(file.lastPathComponent) uses \(name) from \(home)")
                }
            }
        }
        #expect(violations.isEmpty, "\(violations.sorted().joined(separator: "\n"))")
    }
}
