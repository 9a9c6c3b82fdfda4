/// Opens any checkpoint qkv reads.
public enum CheckpointLoader {
    /// A QKV file (plain or wrapped), a GGUF file (or any shard of a split one), a llama2.c
    /// checkpoint, a `.safetensors` file, a `model.safetensors.index.json`, or a Hugging Face
    /// model folder — recognised by content, never by name — under the canonical-name contract of
    /// `Checkpoint`.
    ///
    /// `tokenizer` is a tokenizer kept in a file of its own, for checkpoints that hold none: a
    /// llama2.c `tokenizer.bin` for a llama2.c checkpoint (read now and checked against the
    /// model's vocab_size, so `textTokenizer()` then encodes as run.c). Given with any other
    /// format it is an error (`QKVError.tokenizerNotApplicable`), never silently unused.
    public static func open(path: String, tokenizer: TokenizerFile? = nil) throws -> Checkpoint {
        try Checkpoint(try FormatDetection.open(path: path, tokenizer: tokenizer))
    }
}
