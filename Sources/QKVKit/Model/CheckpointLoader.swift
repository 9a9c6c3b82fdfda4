/// Opens any checkpoint qkv reads.
public enum CheckpointLoader {
    /// A QKV file (plain or wrapped), a GGUF file (or any shard of a split one), a `.safetensors`
    /// file, a `model.safetensors.index.json`, or a Hugging Face model folder — recognised by
    /// content, never by name — under the canonical-name contract of `Checkpoint`.
    public static func open(path: String) throws -> Checkpoint {
        try Checkpoint(try FormatDetection.open(path: path))
    }
}
