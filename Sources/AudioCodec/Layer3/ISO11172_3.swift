/// Tables of ISO/IEC 11172-3 (MPEG-1 Audio), Layer III. Facts of the
/// standard, typed in with their clause named; the Huffman code tables and
/// the analysis window live in their own files.
enum ISO11172_3 {
    /// Samples per channel in one frame (two granules).
    static let frameLength = 1152
    /// MDCT lines per granule and channel.
    static let granuleLength = 576

    /// Layer III bitrates in kbit/s by bitrate_index 1…14 (clause 2.4.2.3);
    /// index 0 is "free format", 15 is forbidden.
    static let bitrates = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]

    /// Sampling frequencies in Hz by sampling_frequency code 0…2 (clause 2.4.2.3).
    static let sampleRates = [44100, 48000, 32000]

    /// Long-block scalefactor band boundaries, in MDCT lines, by sampling
    /// frequency code (Table 3-B.8): band b covers lines [edges[b], edges[b+1]).
    /// Bands 0…20 carry scalefactors; band 21 ("sfb21") does not.
    static let longBandEdges: [[Int]] = [
        [0, 4, 8, 12, 16, 20, 24, 30, 36, 44, 52, 62, 74, 90, 110, 134, 162, 196, 238, 288, 342, 418, 576],
        [0, 4, 8, 12, 16, 20, 24, 30, 36, 42, 50, 60, 72, 88, 106, 128, 156, 190, 230, 276, 330, 384, 576],
        [0, 4, 8, 12, 16, 20, 24, 30, 36, 44, 54, 66, 82, 102, 126, 156, 194, 240, 296, 364, 448, 550, 576],
    ]

    /// Short-block scalefactor band boundaries, in lines of one short window
    /// (192 lines), by sampling frequency code (Table 3-B.8).
    static let shortBandEdges: [[Int]] = [
        [0, 4, 8, 12, 16, 22, 30, 40, 52, 66, 84, 106, 136, 192],
        [0, 4, 8, 12, 16, 22, 28, 38, 50, 64, 80, 100, 126, 192],
        [0, 4, 8, 12, 16, 22, 30, 42, 58, 78, 104, 138, 180, 192],
    ]

    /// Bit widths (slen1, slen2) of the scalefactors of long bands 0…10 and
    /// 11…20 by scalefac_compress 0…15 (clause 2.4.2.7).
    static let scalefactorBitWidths: [(low: Int, high: Int)] = [
        (0, 0), (0, 1), (0, 2), (0, 3), (3, 0), (1, 1), (1, 2), (1, 3),
        (2, 1), (2, 2), (2, 3), (3, 1), (3, 2), (3, 3), (4, 2), (4, 3),
    ]

    /// Preemphasis added to long-band scalefactors when preflag is set (Table 3-B.6).
    static let pretab = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 2]

    /// Scalefactor bands grouped for scfsi (scalefactor selection information), clause 2.4.2.7.
    static let scfsiBands: [Range<Int>] = [0..<6, 6..<11, 11..<16, 16..<21]

    /// Coefficients c_i of the alias-reduction butterflies (Table 3-B.9).
    static let aliasCoefficients: [Double] = [-0.6, -0.535, -0.33, -0.185, -0.095, -0.041, -0.0142, -0.0037]

    /// The butterflies' (cs, ca) = (1, c)/√(1 + c²): the decoder's rotation, and
    /// transposed, the encoder's.
    static let aliasButterflies: [(cs: Float, ca: Float)] = aliasCoefficients.map { c in
        let norm: Double = (1 + c * c).squareRoot()
        return (cs: Float(1 / norm), ca: Float(c / norm))
    }

    /// Rounding offset of the Layer III quantizer: ix = nint(y − 0.0946) on y = (|xr|/step)^¾
    /// (Annex C, clause C.1.5.4.4.1), i.e. a mid-tread quantizer with ρ = 0.4054.
    static let roundingOffset = 0.5 - 0.0946

    /// Largest quantized magnitude: an escape of 15 plus 13 linbits.
    static let maxQuantized = 15 + (1 << 13) - 1

    /// Longest part2_3_length (12 bits).
    static let maxPart23Bits = 4095

    /// Largest main_data_begin (9 bits), in bytes.
    static let maxMainDataBegin = 511
}
