/// A weight matrix [rows, columns] left in its stored form: row r is `columns` elements of a ggml
/// type (F16, BF16 or block-quantized) at `storage.bytes` + r · `rowBytes`.
public struct StoredMatrix: Sendable {
    public var type: GGMLType
    public var rows: Int
    public var columns: Int
    public var storage: StoredBytes

    public init(type: GGMLType, rows: Int, columns: Int, storage: StoredBytes) {
        precondition(columns % type.blockElements == 0, "whole blocks per row")
        precondition(storage.bytes.count == rows * (columns / type.blockElements) * type.blockBytes, "rows of whole blocks")
        self.type = type
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    public var rowBytes: Int { columns / type.blockElements * type.blockBytes }
}
