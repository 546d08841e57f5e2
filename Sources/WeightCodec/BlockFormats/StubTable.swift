public enum BlockFormats {
    public static func format(for type: GGMLType) -> (any BlockFormat)? { nil }
}
