/// A table of results with typed columns, rendered for people (aligned text,
/// Markdown) and for programs (CSV, JSON). Numbers keep full precision in CSV
/// and JSON so they parse back to the same values; text and Markdown round
/// them to each column's decimals.
public struct ReportTable: Sendable, Hashable {
    public struct Column: Sendable, Hashable {
        /// Human header, e.g. "SNR".
        public var title: String
        /// Unit shown beside the header, e.g. "dB"; empty for none.
        public var unit: String
        /// Machine name for CSV and JSON, e.g. "snr_db".
        public var key: String
        /// Decimals in text and Markdown.
        public var decimals: Int
        /// Significant digits in scientific notation instead (1.23e-7), for
        /// values whose magnitude no fixed number of decimals fits.
        public var significantDigits: Int?

        public init(_ title: String, unit: String = "", key: String, decimals: Int = 2, significantDigits: Int? = nil) {
            self.title = title
            self.unit = unit
            self.key = key
            self.decimals = decimals
            self.significantDigits = significantDigits
        }

        var header: String { unit.isEmpty ? title : "\(title) (\(unit))" }
    }

    public enum Cell: Sendable, Hashable {
        case text(String)
        case number(Double)
        case integer(Int)
        /// No value for this row: "-" for people, empty in CSV, null in JSON.
        case missing
    }

    public var columns: [Column]
    public private(set) var rows: [[Cell]] = []

    public init(columns: [Column]) { self.columns = columns }

    public mutating func append(_ row: [Cell]) {
        precondition(row.count == columns.count, "a row needs one cell per column")
        rows.append(row)
    }

    private func display(_ cell: Cell, in column: Column) -> String {
        switch cell {
        case let .text(s): return s
        case let .number(x):
            return column.significantDigits.map { formatScientific(x, digits: $0) } ?? formatFixed(x, decimals: column.decimals)
        case let .integer(n): return String(n)
        case .missing: return "-"
        }
    }

    private func exact(_ cell: Cell) -> String {
        switch cell {
        case let .text(s): return s
        case let .number(x): return x.description
        case let .integer(n): return String(n)
        case .missing: return ""
        }
    }

    /// Aligned columns: text left, numbers right, a rule under the header.
    public func text() -> String {
        let cells = rows.map { row in zip(row, columns).map { display($0, in: $1) } }
        let widths = columns.indices.map { c in
            max(columns[c].header.count, cells.map { $0[c].count }.max() ?? 0)
        }
        func pad(_ s: String, _ c: Int, numeric: Bool) -> String {
            let fill = String(repeating: " ", count: widths[c] - s.count)
            return numeric ? fill + s : s + fill
        }
        let numeric = columns.indices.map { c in
            rows.allSatisfy { if case .text = $0[c] { return false } else { return true } } && !rows.isEmpty
        }
        var lines = [columns.indices.map { pad(columns[$0].header, $0, numeric: numeric[$0]) }.joined(separator: "  ")]
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in cells {
            lines.append(row.indices.map { pad(row[$0], $0, numeric: numeric[$0]) }.joined(separator: "  "))
        }
        return lines.map { trimTrailingSpaces($0) }.joined(separator: "\n") + "\n"
    }

    public func markdown() -> String {
        let numeric = columns.indices.map { c in
            rows.allSatisfy { if case .text = $0[c] { return false } else { return true } } && !rows.isEmpty
        }
        var lines = ["| " + columns.map(\.header).joined(separator: " | ") + " |"]
        lines.append("|" + numeric.map { $0 ? "---:|" : "---|" }.joined())
        for row in rows {
            let cells = zip(row, columns).map { display($0, in: $1).replacingAll("|", with: "\\|") }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// RFC 4180 CSV with machine keys as the header and exact numbers.
    public func csv() -> String {
        func quote(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
                ? "\"" + s.replacingAll("\"", with: "\"\"") + "\"" : s
        }
        var lines = [columns.map { quote($0.key) }.joined(separator: ",")]
        for row in rows { lines.append(row.map { quote(exact($0)) }.joined(separator: ",")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One JSON object per row, keyed by the columns' machine keys.
    public func json() -> JSONValue { .array(jsonMembers().map { .object($0) }) }

    /// Each row's members as `json()` keys them, for a report to add its own before closing the object.
    public func jsonMembers() -> [[(String, JSONValue)]] {
        rows.map { row in
            zip(columns, row).map { column, cell in
                switch cell {
                case let .text(s): return (column.key, .string(s))
                case let .number(x): return (column.key, .number(x))
                case let .integer(n): return (column.key, .number(Double(n)))
                case .missing: return (column.key, .null)
                }
            }
        }
    }
}

extension String {
    /// Every occurrence of `target` replaced (the standard library alone has no such call).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}

private func trimTrailingSpaces(_ s: String) -> String {
    var s = s
    while s.last == " " { s.removeLast() }
    return s
}
