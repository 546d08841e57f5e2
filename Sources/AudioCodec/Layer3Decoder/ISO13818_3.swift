/// Tables of ISO/IEC 13818-3 (MPEG-2 audio at low sampling frequencies) and
/// of the MPEG-2.5 extension, for Layer III decoding. Facts of the standard.
enum ISO13818_3 {
    /// Long-block scalefactor band edges for 22.05, 24, 16 kHz (MPEG-2) and
    /// 11.025, 12, 8 kHz (MPEG-2.5), in MDCT lines (ISO/IEC 13818-3 Table B.2).
    static let longBandEdges: [[Int]] = [
        [0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576],
        [0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 114, 136, 162, 194, 232, 278, 332, 394, 464, 540, 576],
        [0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576],
        [0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576],
        [0, 6, 12, 18, 24, 30, 36, 44, 54, 66, 80, 96, 116, 140, 168, 200, 238, 284, 336, 396, 464, 522, 576],
        [0, 12, 24, 36, 48, 60, 72, 88, 108, 132, 160, 192, 232, 280, 336, 400, 476, 566, 568, 570, 572, 574, 576],
    ]

    /// Short-block scalefactor band edges, in lines of one window (Table B.2).
    static let shortBandEdges: [[Int]] = [
        [0, 4, 8, 12, 18, 24, 32, 42, 56, 74, 100, 132, 174, 192],
        [0, 4, 8, 12, 18, 26, 36, 48, 62, 80, 104, 136, 180, 192],
        [0, 4, 8, 12, 18, 26, 36, 48, 62, 80, 104, 134, 174, 192],
        [0, 4, 8, 12, 18, 26, 36, 48, 62, 80, 104, 134, 174, 192],
        [0, 4, 8, 12, 18, 26, 36, 48, 62, 80, 104, 134, 174, 192],
        [0, 8, 16, 24, 36, 52, 72, 96, 124, 160, 162, 164, 166, 192],
    ]

    /// Scalefactors per partition (clause 2.4.3.2, Table "nr_of_sfb_block"):
    /// [block number][long, short, mixed][partition 0…3].
    static let scalefactorsPerPartition: [[[Int]]] = [
        [[6, 5, 5, 5], [9, 9, 9, 9], [6, 9, 9, 9]],
        [[6, 5, 7, 3], [9, 9, 12, 6], [6, 9, 12, 6]],
        [[11, 10, 0, 0], [18, 18, 0, 0], [15, 18, 0, 0]],
        [[7, 7, 7, 0], [12, 12, 12, 0], [6, 15, 12, 0]],
        [[6, 6, 6, 3], [12, 9, 9, 6], [6, 12, 9, 6]],
        [[8, 8, 5, 0], [15, 12, 9, 0], [6, 18, 9, 0]],
    ]

    /// Bit widths of the four partitions, the block number and preflag from a
    /// 9-bit scalefac_compress (clause 2.4.3.2); `intensityRight` for the
    /// right channel of an intensity-stereo frame.
    static func scalefactorLayout(_ compress: Int, intensityRight: Bool) -> (widths: [Int], block: Int, preflag: Bool) {
        if intensityRight {
            let c = compress >> 1
            if c < 180 { return ([c / 36, (c % 36) / 6, c % 6, 0], 3, false) }
            if c < 244 { let d = c - 180; return ([(d % 64) >> 4, (d % 16) >> 2, d % 4, 0], 4, false) }
            let d = c - 244
            return ([d / 3, d % 3, 0, 0], 5, false)
        }
        if compress < 400 { return ([(compress >> 4) / 5, (compress >> 4) % 5, (compress % 16) >> 2, compress % 4], 0, false) }
        if compress < 500 { let d = compress - 400; return ([(d >> 2) / 5, (d >> 2) % 5, d % 4, 0], 1, false) }
        let d = compress - 500
        return ([d / 3, d % 3, 0, 0], 2, true)
    }
}
