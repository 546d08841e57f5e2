/// One metadata entry.
public struct GGUFKeyValue: Sendable, Hashable {
    public var key: String
    public var value: GGUFValue

    public init(key: String, value: GGUFValue) {
        self.key = key
        self.value = value
    }
}

/// GGUF metadata: unique keys in file order, with lookup by key.
///
/// ```swift
/// var metadata: GGUFMetadata = ["general.architecture": .string("llama")]
/// metadata["general.file_type"] = .uint32(7)   // appended
/// metadata.string("general.architecture")      // "llama"
/// ```
public struct GGUFMetadata: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [GGUFKeyValue] = []
    private var indexOfKey: [String: Int] = [:]

    public init() {}

    /// Entries in order; a key given twice is a programmer's mistake.
    public init(_ entries: some Sequence<GGUFKeyValue>) {
        for entry in entries {
            precondition(indexOfKey[entry.key] == nil, "metadata key '\(entry.key)' given twice")
            append(entry)
        }
    }

    public init(dictionaryLiteral elements: (String, GGUFValue)...) {
        self.init(elements.map { GGUFKeyValue(key: $0.0, value: $0.1) })
    }

    /// Appends an entry; returns false (and changes nothing) when the key is already there.
    @discardableResult
    mutating func appendIfNew(_ entry: GGUFKeyValue) -> Bool {
        guard indexOfKey[entry.key] == nil else { return false }
        append(entry)
        return true
    }

    private mutating func append(_ entry: GGUFKeyValue) {
        indexOfKey[entry.key] = entries.count
        entries.append(entry)
    }

    /// The value of `key`. Setting replaces in place or appends; setting nil removes.
    public subscript(key: String) -> GGUFValue? {
        get { indexOfKey[key].map { entries[$0].value } }
        set {
            if let index = indexOfKey[key] {
                if let newValue {
                    entries[index].value = newValue
                } else {
                    entries.remove(at: index)
                    indexOfKey[key] = nil
                    for position in index..<entries.count { indexOfKey[entries[position].key] = position }
                }
            } else if let newValue {
                append(GGUFKeyValue(key: key, value: newValue))
            }
        }
    }

    public var keys: [String] { entries.map(\.key) }

    public func string(_ key: String) -> String? { self[key]?.stringValue }
    public func int(_ key: String) -> Int? { self[key]?.intValue }
    public func double(_ key: String) -> Double? { self[key]?.doubleValue }
    public func bool(_ key: String) -> Bool? { self[key]?.boolValue }
    public func array(_ key: String) -> GGUFArray? { self[key]?.arrayValue }
    public func strings(_ key: String) -> [String]? { self[key]?.arrayValue?.strings }

    // MARK: Collection

    public var startIndex: Int { entries.startIndex }
    public var endIndex: Int { entries.endIndex }
    public subscript(position: Int) -> GGUFKeyValue { entries[position] }

    // MARK: Hashable: the entries decide; the index follows from them.

    public static func == (lhs: GGUFMetadata, rhs: GGUFMetadata) -> Bool { lhs.entries == rhs.entries }
    public func hash(into hasher: inout Hasher) { hasher.combine(entries) }
}
