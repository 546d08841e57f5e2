import RateDistortion

/// What the encoder threw away, by scalefactor band and time: the ghost's
/// energy (quantization noise, zeroed bands, what the lowpass removed) per
/// long-block band per frame, in dB below the loudest band of the input, so
/// one picture shows where the loss sits against where the music is.
public struct GhostSpectrogram: Sendable {
    /// At most this many columns: longer inputs pool neighbouring frames (energies summed).
    public static let maxColumns = 600
    /// The colour scale's depth below the loudest input band.
    public static let depthDB = 90.0

    /// Seconds at each column's edges.
    public var columnEdges: [Double]
    /// The long-block bands' edges in kHz.
    public var bandEdgesKHz: [Double]
    /// Per column and band: the ghost's energy, and the input's, in dB re the loudest input cell.
    public var ghostDB: [[Double]]
    public var inputDB: [[Double]]

    public init(analysis: EncodingAnalysis, sampleRate: Int) {
        let frames = analysis.frames
        let bands = analysis.longBands.count
        let pool = max(1, (frames.count + Self.maxColumns - 1) / Self.maxColumns)
        let frameSeconds = Double(ISO11172_3.frameLength) / Double(sampleRate)
        var ghost = [[Double]](), input = [[Double]]()
        var edges = [0.0]
        for start in stride(from: 0, to: frames.count, by: pool) {
            let group = frames[start..<min(frames.count, start + pool)]
            ghost.append((0..<bands).map { b in group.reduce(0.0) { $0 + Double($1.ghostEnergy[b]) } })
            input.append((0..<bands).map { b in group.reduce(0.0) { $0 + Double($1.bandEnergy[b]) } })
            edges.append(Double(start + group.count) * frameSeconds)
        }
        let loudest = input.flatMap { $0 }.max() ?? 0
        func relative(_ energy: Double) -> Double { loudest > 0 ? decibels(energy / loudest) : -.infinity }
        columnEdges = edges
        bandEdgesKHz = [analysis.longBands.first?.lowHz ?? 0].map { $0 / 1000 } + analysis.longBands.map { $0.highHz / 1000 }
        ghostDB = ghost.map { $0.map(relative) }
        inputDB = input.map { $0.map(relative) }
    }

    public func plot(title: String) -> SVGHeatmap {
        SVGHeatmap(title: title, xLabel: "time (s)", yLabel: "scalefactor band edge (kHz)",
                   valueLabel: "ghost energy (dB re loudest input band)", columnEdges: columnEdges,
                   rowEdges: bandEdgesKHz, values: ghostDB, range: -Self.depthDB...0)
    }
}
