import RealModule

extension ISO11172_3 {
    /// The IMDCT windows of clause 2.4.3.4.10.2, shared by the encoder's MDCT
    /// and the decoder's IMDCT: block types 0 (normal), 1 (start), 3 (stop)
    /// over 36 samples; index 2 holds the normal window, since a short block
    /// uses `shortWindow` three times instead.
    static let blockWindows: [[Float]] = {
        func sine(_ n: Int, _ length: Double) -> Float { Float(Double.sin(Double.pi / length * (Double(n) + 0.5))) }
        let normal = (0..<36).map { sine($0, 36) }
        let start = (0..<36).map { i -> Float in i < 18 ? sine(i, 36) : (i < 24 ? 1 : (i < 30 ? sine(i - 18, 12) : 0)) }
        let stop = (0..<36).map { i -> Float in i < 6 ? 0 : (i < 12 ? sine(i - 6, 12) : (i < 18 ? 1 : sine(i, 36))) }
        return [normal, start, normal, stop]
    }()

    /// The window of each of a short block's three 12-sample transforms.
    static let shortWindow: [Float] = (0..<12).map { Float(Double.sin(Double.pi / 12 * (Double($0) + 0.5))) }

    /// For a short block with band edges `shortEdges`, the line of
    /// the transform's output (subband·18 + 3·k + window, the decoder's order
    /// after reordering) that each bitstream position holds: band by band,
    /// window by window, then frequency (clause 2.4.3.4.8).
    static func shortBitstreamOrder(shortEdges: [Int], firstBand: Int = 0) -> [Int] {
        var order = [Int]()
        for b in firstBand..<13 {
            for w in 0..<3 {
                for f in shortEdges[b]..<shortEdges[b + 1] { order.append(3 * f + w) }
            }
        }
        return order
    }
}
