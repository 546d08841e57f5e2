/// Fixed-point rendering of numbers for tables, without Foundation.
///
/// `formatFixed(1.23456, decimals: 2)` is `"1.23"`; non-finite values render
/// as `inf`, `-inf` and `nan` so a table never breaks on them.
public func formatFixed(_ value: Double, decimals: Int) -> String {
    precondition((0...12).contains(decimals), "decimals must be 0...12")
    guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    // Beyond 2^63 fixed notation is meaningless for a table; fall back to Swift's own.
    guard scaled < 9.0e18 else { return value.description }
    let digits = String(UInt64(scaled))
    let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
    let integerPart = padded.dropLast(decimals)
    let fraction = padded.suffix(decimals)
    let sign = (value < 0 && scaled != 0) ? "-" : ""
    return decimals == 0 ? sign + integerPart : sign + integerPart + "." + fraction
}
