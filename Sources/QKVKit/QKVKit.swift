/// QKVKit opens transformer checkpoints, counts their parameters and runs their forward pass
/// to expose post-softmax attention matrices.
public enum QKVKit {
    public static let version = "0.1.0"
}
