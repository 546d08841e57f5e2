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

/// A number as a person typed it: `4` for 4.0, `2.5` for 2.5.
public func formatNumber(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : x.description
}

/// Scientific rendering for values of any magnitude: `formatScientific(12345.6)`
/// is `"1.23e4"`, with `digits` significant digits; zero is `"0"`.
public func formatScientific(_ value: Double, digits: Int = 3) -> String {
    precondition((1...12).contains(digits), "digits must be 1...12")
    guard value.isFinite else { return formatFixed(value, decimals: 0) }
    guard value != 0 else { return "0" }
    var exponent = Int(abs(value).log10Floor)
    var mantissa = value / power10(exponent)
    // Rounding may carry the mantissa to 10.
    if abs(Double(formatFixed(mantissa, decimals: digits - 1))!) >= 10 {
        exponent += 1
        mantissa = value / power10(exponent)
    }
    return formatFixed(mantissa, decimals: digits - 1) + "e\(exponent)"
}

private func power10(_ exponent: Int) -> Double {
    var result = 1.0
    for _ in 0..<abs(exponent) { result *= 10 }
    return exponent < 0 ? 1 / result : result
}

private extension Double {
    var log10Floor: Double {
        var exponent = 0.0, x = self
        while x >= 10 { x /= 10; exponent += 1 }
        while x < 1 { x *= 10; exponent -= 1 }
        return exponent
    }
}
