import Foundation
import Testing
@testable import QKVKit

/// Tokenizer files that fuzzing (scripts/fuzz.sh, docs/RELIABILITY.md) found mishandled, each
/// with the exact error it must give. Under `swift test --sanitize=address` they also check that
/// nothing leaks.
@Suite struct HostileTokenizerTests {
    /// A fresh folder holding `files` (name, bytes).
    func folder(_ files: [(String, [UInt8])]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qkv-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, bytes) in files { try Data(bytes).write(to: url.appendingPathComponent(name)) }
        return url
    }

    func loadError(_ body: () throws -> Void) -> TokenizerError? {
        do {
            try body()
            return nil
        } catch let error as TokenizerError {
            return error
        } catch {
            Issue.record("unexpected \(type(of: error)): \(error)")
            return nil
        }
    }

    /// Found by fuzzing (tokenizer-json, vocab-txt): an empty file was read with Foundation's
    /// `Data(contentsOf:)`, which leaks a 4 KiB buffer on empty files.
    @Test func emptyFiles() throws {
        let url = try folder([("tokenizer.json", []), ("vocab.txt", []), ("tokenizer_config.json", [])])
        #expect(loadError { _ = try TokenizerLoader.load(tokenizerJSON: url.appendingPathComponent("tokenizer.json")) }
            == .malformedJSON(file: "tokenizer.json", offset: 0, reason: "expected a value, found the end of the document"))
        #expect(loadError { _ = try TokenizerLoader.load(wordPieceVocabulary: url.appendingPathComponent("vocab.txt"), config: nil) }
            == .tokenNotInVocabulary(file: "vocab.txt", field: "unk_token", token: "[UNK]"))
        let vocabulary = try folder([("vocab.txt", Array("[UNK]\n[CLS]\n[SEP]\n".utf8)), ("tokenizer_config.json", [])])
        #expect(loadError {
            _ = try TokenizerLoader.load(wordPieceVocabulary: vocabulary.appendingPathComponent("vocab.txt"),
                                         config: vocabulary.appendingPathComponent("tokenizer_config.json"))
        } == .malformedJSON(file: "tokenizer_config.json", offset: 0, reason: "expected a value, found the end of the document"))
    }
}
