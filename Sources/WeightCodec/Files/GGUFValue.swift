/// The type ids of GGUF metadata values (`enum gguf_type` in llama.cpp's
/// `gguf.h`; gguf-py `GGUFValueType`).
public enum GGUFValueType: UInt32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6
    case bool = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Bytes of one value when fixed; nil for strings and arrays.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The fewest bytes a value can take: a string is at least its 8-byte
    /// length, an array its 4-byte type and 8-byte count.
    var minimumSize: Int {
        switch self {
        case .string: 8
        case .array: 12
        default: fixedSize!
        }
    }

    /// gguf-py's name, lowercased ("uint8", "float32", "array").
    public var description: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .float32: "float32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "uint64"
        case .int64: "int64"
        case .float64: "float64"
        }
    }
}

/// One GGUF metadata value.
public enum GGUFValue: Sendable, Hashable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array(GGUFArray)
    case uint64(UInt64), int64(Int64), float64(Double)

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// Any integer value that fits in Int.
    public var intValue: Int? {
        switch self {
        case let .uint8(v): Int(v)
        case let .int8(v): Int(v)
        case let .uint16(v): Int(v)
        case let .int16(v): Int(v)
        case let .uint32(v): Int(v)
        case let .int32(v): Int(v)
        case let .uint64(v): Int(exactly: v)
        case let .int64(v): Int(v)
        default: nil
        }
    }

    /// A float value, or any integer value, as a Double.
    public var doubleValue: Double? {
        switch self {
        case let .float32(v): Double(v)
        case let .float64(v): v
        default: intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case let .string(v) = self { v } else { nil }
    }

    public var boolValue: Bool? {
        if case let .bool(v) = self { v } else { nil }
    }

    public var arrayValue: GGUFArray? {
        if case let .array(v) = self { v } else { nil }
    }

    /// The type and value, as `inspect` prints them ("uint32 32", "array of 3 string").
    public var description: String {
        switch self {
        case let .uint8(v): "uint8 \(v)"
        case let .int8(v): "int8 \(v)"
        case let .uint16(v): "uint16 \(v)"
        case let .int16(v): "int16 \(v)"
        case let .uint32(v): "uint32 \(v)"
        case let .int32(v): "int32 \(v)"
        case let .float32(v): "float32 \(v)"
        case let .bool(v): "bool \(v)"
        case let .string(v): "string \"\(v)\""
        case let .array(v): "array of \(v.count) \(v.elementType)"
        case let .uint64(v): "uint64 \(v)"
        case let .int64(v): "int64 \(v)"
        case let .float64(v): "float64 \(v)"
        }
    }
}

/// A GGUF array: one element type and its values, all of that type. Arrays
/// of arrays may hold inner arrays of different element types.
public struct GGUFArray: Sendable, Hashable {
    public let elementType: GGUFValueType
    public let values: [GGUFValue]

    public init(elementType: GGUFValueType, values: [GGUFValue]) {
        precondition(values.allSatisfy { $0.type == elementType }, "every value of a GGUF array must be \(elementType)")
        self.elementType = elementType
        self.values = values
    }

    /// For the reader, which has already checked each value's type.
    init(checkedElementType elementType: GGUFValueType, values: [GGUFValue]) {
        self.elementType = elementType
        self.values = values
    }

    public init(strings: [String]) { self.init(checkedElementType: .string, values: strings.map(GGUFValue.string)) }
    public init(int32: [Int32]) { self.init(checkedElementType: .int32, values: int32.map(GGUFValue.int32)) }
    public init(uint32: [UInt32]) { self.init(checkedElementType: .uint32, values: uint32.map(GGUFValue.uint32)) }
    public init(float32: [Float]) { self.init(checkedElementType: .float32, values: float32.map(GGUFValue.float32)) }
    public init(arrays: [GGUFArray]) { self.init(checkedElementType: .array, values: arrays.map(GGUFValue.array)) }

    public var count: Int { values.count }

    /// The values as strings, when the element type is string.
    public var strings: [String]? {
        elementType == .string ? values.map { $0.stringValue! } : nil
    }

    /// The values as Ints, when every one is an integer that fits.
    public var ints: [Int]? {
        var result: [Int] = []
        result.reserveCapacity(values.count)
        for value in values {
            guard let int = value.intValue else { return nil }
            result.append(int)
        }
        return result
    }

    /// The values as Doubles, when every one is a number.
    public var doubles: [Double]? {
        var result: [Double] = []
        result.reserveCapacity(values.count)
        for value in values {
            guard let double = value.doubleValue else { return nil }
            result.append(double)
        }
        return result
    }
}
