/// Parameter counts grouped as embeddings, one group per layer, and everything else.
public struct ParameterGroup: Sendable, Equatable {
    public var name: String
    public var layer: Int?
    public var parameters: Int
    public var storedBytes: UInt64
    public var decodedBytes: UInt64
}

public struct ParameterCount: Sendable, Equatable {
    /// `embeddings`, `layer 0` … `layer N-1` in order, then `other`; every group is listed, even when empty,
    /// so scripts can index them without checking.
    public var groups: [ParameterGroup]
    /// Integer and boolean tensors (such as BERT's `position_ids`) and stored copies of tied weights:
    /// in the file, but not parameters.
    public var buffers: [TensorInfo]
    public var totalParameters: Int { groups.reduce(0) { $0 + $1.parameters } }
    public var embeddingParameters: Int { groups.first { $0.name == "embeddings" }?.parameters ?? 0 }
    public var nonEmbeddingParameters: Int { totalParameters - embeddingParameters }

    public init(tensors: [TensorInfo], layerCount: Int = 0) {
        var embeddings = ParameterGroup(name: "embeddings", layer: nil, parameters: 0, storedBytes: 0, decodedBytes: 0)
        var other = ParameterGroup(name: "other", layer: nil, parameters: 0, storedBytes: 0, decodedBytes: 0)
        var layers: [Int: ParameterGroup] = [:]
        var buffers: [TensorInfo] = []
        for tensor in tensors {
            guard tensor.isParameter else {
                buffers.append(tensor)
                continue
            }
            func add(_ group: inout ParameterGroup) {
                group.parameters += tensor.elementCount
                group.storedBytes += tensor.storedBytes
                group.decodedBytes += UInt64(tensor.decodedBytes)
            }
            switch tensor.group {
            case .embeddings: add(&embeddings)
            case let .layer(index):
                var group = layers[index] ?? ParameterGroup(name: "layer \(index)", layer: index, parameters: 0, storedBytes: 0, decodedBytes: 0)
                add(&group)
                layers[index] = group
            case .other: add(&other)
            }
        }
        let lastLayer = max(layerCount - 1, layers.keys.max() ?? -1)
        let layerGroups = lastLayer < 0 ? [] : (0...lastLayer).map { index in
            layers[index] ?? ParameterGroup(name: "layer \(index)", layer: index, parameters: 0, storedBytes: 0, decodedBytes: 0)
        }
        groups = [embeddings] + layerGroups + [other]
        self.buffers = buffers
    }
}
