/// Element types a checkpoint may store. Float and block-quantized types hold parameters; the
/// integer and boolean types appear as buffers (for example BERT's `position_ids`).
public enum DType: String, Sendable, CaseIterable, Codable {
    case f32, f16, bf16, f64
    case i64, i32, i16, i8, u64, u32, u16, u8, bool
    // ggml's block-quantized types (GGUF): values come in blocks, see `GGMLType`.
    case q4_0, q4_1, q5_0, q5_1, q8_0, q8_1, q2_K, q3_K, q4_K, q5_K, q6_K, q8_K
    case iq2_XXS, iq2_XS, iq3_XXS, iq1_S, iq4_NL, iq3_S, iq2_S, iq4_XS, iq1_M, tq1_0, tq2_0, mxfp4, nvfp4, q1_0
    /// llama2.c v2 (runq.c): a tensor's int8 values, then one f32 scale per group of the file's
    /// group size. Not ggml's Q8_0 (whose blocks interleave an f16 scale with 32 values).
    case llama2cQ8 = "llama2c_q8"

    /// Bytes per element of an element type; block-quantized types (and llama2.c's int8 groups)
    /// have no per-element size (use `GGMLType.byteCount`), and report 0.
    public var byteSize: Int {
        switch self {
        case .f64, .i64, .u64: 8
        case .f32, .i32, .u32: 4
        case .f16, .bf16, .i16, .u16: 2
        case .i8, .u8, .bool: 1
        default: 0
        }
    }

    /// The ggml block type behind a block-quantized dtype.
    public var ggmlType: GGMLType? {
        guard isBlockQuantized else { return nil }
        return GGMLType.allCases.first { String(describing: $0) == rawValue }
    }

    public var isBlockQuantized: Bool { byteSize == 0 }

    /// The dtype of a ggml type (F32, F16, BF16, F64 and the integers map to element types).
    public init(ggml type: GGMLType) {
        switch type {
        case .f32: self = .f32
        case .f16: self = .f16
        case .bf16: self = .bf16
        case .f64: self = .f64
        case .i8: self = .i8
        case .i16: self = .i16
        case .i32: self = .i32
        case .i64: self = .i64
        default: self = DType(rawValue: String(describing: type))!
        }
    }

    /// The name users know: `f32`, `bf16`, `Q4_K`, `IQ4_XS`.
    public var displayName: String { isBlockQuantized ? rawValue.uppercased() : rawValue }

    /// Float types that hold parameters (integer and boolean tensors are buffers).
    public var isFloatingPoint: Bool { isBlockQuantized || self == .f32 || self == .f16 || self == .bf16 || self == .f64 }

    /// Float types a forward pass can take as weights.
    public var isWeightType: Bool { self == .f32 || self == .f16 || self == .bf16 }

    /// The QKV v1 dtype code, for the three types QKV stores.
    public var qkvCode: UInt8? {
        switch self {
        case .f32: 0
        case .f16: 1
        case .bf16: 2
        default: nil
        }
    }

    public init?(qkvCode: UInt8) {
        switch qkvCode {
        case 0: self = .f32
        case 1: self = .f16
        case 2: self = .bf16
        default: return nil
        }
    }

    /// The safetensors spelling (`F32`, `BF16`, `I64`, ...).
    public var safetensorsName: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .f64: "F64"
        case .i64: "I64"
        case .i32: "I32"
        case .i16: "I16"
        case .i8: "I8"
        case .u64: "U64"
        case .u32: "U32"
        case .u16: "U16"
        case .u8: "U8"
        case .bool: "BOOL"
        default: rawValue.uppercased()
        }
    }

    public init?(safetensorsName: String) {
        // safetensors stores element types only.
        guard let match = DType.allCases.first(where: { !$0.isBlockQuantized && $0.safetensorsName == safetensorsName }) else {
            return nil
        }
        self = match
    }
}

/// Decodes `count` little-endian elements of a float type into Float32.
/// Shape: source holds count * dtype.byteSize bytes, destination count floats.
public func decodeFloats(
    _ source: UnsafeRawPointer, dtype: DType, count: Int, into destination: UnsafeMutablePointer<Float>
) {
    switch dtype {
    case .f32:
        for i in 0..<count {
            destination[i] = Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
        }
    case .f16:
        for i in 0..<count {
            destination[i] = floatFromHalfBits(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    case .bf16:
        // bf16 is the top half of an f32: widening is a shift.
        for i in 0..<count {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            destination[i] = Float(bitPattern: UInt32(bits) << 16)
        }
    default:
        preconditionFailure("decodeFloats called with non-float dtype \(dtype)")
    }
}

/// IEEE binary16 to binary32, exact for every input (subnormals, infinities, NaN).
@inline(__always)
public func floatFromHalfBits(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = UInt32(bits >> 10) & 0x1F
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: value = mantissa * 2^-24.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 0x1F {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

/// Float32 to the nearest binary16 (round to nearest even), for the writer.
public func halfBitsFromFloat(_ value: Float) -> UInt16 {
    Float16(value).bitPattern
}

/// Float32 to the nearest bfloat16 (round to nearest even), for the writer.
public func bfloat16BitsFromFloat(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(bits >> 16) | 0x40 }
    let rounding = 0x7FFF + ((bits >> 16) & 1)
    return UInt16((bits &+ rounding) >> 16)
}
