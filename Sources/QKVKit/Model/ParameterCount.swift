/// Parameter counts grouped as embeddings, one group per layer, and everything else.
public struct ParameterGroup: Sendable, Equatable {
    public var name: String
    public var layer: Int?
    public var parameters: Int
    public var storedBytes: UInt64
    public var decodedBytes: UInt64
    /// The stored element types of its tensors (`Q4_K`, `f32`), most parameters first.
    public var types: [String] = []
    private var parametersPerType: [String: Int] = [:]

    init(name: String, layer: Int?) {
        self.name = name
        self.layer = layer
        parameters = 0
        storedBytes = 0
        decodedBytes = 0
    }

    mutating func add(_ tensor: TensorInfo) {
        parameters += tensor.elementCount
        storedBytes += tensor.storedBytes
        decodedBytes += UInt64(tensor.decodedBytes)
        parametersPerType[tensor.dtype.displayName, default: 0] += tensor.elementCount
        types = parametersPerType.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
    }

    /// Stored bits per parameter (4.5 for Q4_0, 32 for f32), nil without parameters.
    public var bitsPerWeight: Double? { parameters > 0 ? Double(storedBytes) * 8 / Double(parameters) : nil }

    public static func == (lhs: ParameterGroup, rhs: ParameterGroup) -> Bool {
        (lhs.name, lhs.layer, lhs.parameters, lhs.storedBytes, lhs.decodedBytes, lhs.types)
            == (rhs.name, rhs.layer, rhs.parameters, rhs.storedBytes, rhs.decodedBytes, rhs.types)
    }
}

public struct ParameterCount: Sendable, Equatable {
    /// `embeddings`, `layer 0` … `layer N-1` in order, then `other`; every group is listed, even when empty,
    /// so scripts can index them without checking (for a layer count the file's tensors do not back,
    /// as in a vocabulary-only GGUF, only the layers that hold tensors).
    public var groups: [ParameterGroup]
    /// Integer and boolean tensors (such as BERT's `position_ids`) and stored copies of tied weights:
    /// in the file, but not parameters.
    public var buffers: [TensorInfo]
    public var totalParameters: Int { groups.reduce(0) { $0 + $1.parameters } }
    public var embeddingParameters: Int { groups.first { $0.name == "embeddings" }?.parameters ?? 0 }
    public var nonEmbeddingParameters: Int { totalParameters - embeddingParameters }

    public init(tensors: [TensorInfo], layerCount: Int = 0) {
        var embeddings = ParameterGroup(name: "embeddings", layer: nil)
        var other = ParameterGroup(name: "other", layer: nil)
        var layers: [Int: ParameterGroup] = [:]
        var buffers: [TensorInfo] = []
        for tensor in tensors {
            guard tensor.isParameter else {
                buffers.append(tensor)
                continue
            }
            switch tensor.group {
            case .embeddings: embeddings.add(tensor)
            case let .layer(index): layers[index, default: ParameterGroup(name: "layer \(index)", layer: index)].add(tensor)
            case .other: other.add(tensor)
            }
        }
        // Every layer up to the last one the config or a tensor names, empty ones too, as long as
        // there are no more layers than tensors (every layer of a model that opens holds one).
        // Beyond that the count is not backed by the file (a vocabulary-only GGUF's block_count, a
        // lone tensor named layers.2000000000.w) and only the layers that hold tensors are listed,
        // so that a small file cannot make this list, and inspect's table, huge.
        let lastLayer = max(layerCount - 1, layers.keys.max() ?? -1)
        let layerGroups: [ParameterGroup]
        if lastLayer < tensors.count {
            layerGroups = lastLayer < 0 ? [] : (0...lastLayer).map { index in
                layers[index] ?? ParameterGroup(name: "layer \(index)", layer: index)
            }
        } else {
            layerGroups = layers.keys.sorted().compactMap { layers[$0] }
        }
        groups = [embeddings] + layerGroups + [other]
        self.buffers = buffers
    }
}
