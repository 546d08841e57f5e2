import Foundation
import RateDistortion
import Testing
@testable import AudioCodec

/// Hand-built Layer III streams for what no encoder at hand writes: mixed
/// blocks, and intensity stereo at MPEG-1 and MPEG-2 rates (lame writes
/// neither). Every frame carries its own main data (main_data_begin 0); the
/// quantized values are seeded random, every pair coded with table 15; the
/// right channel is non-zero only below a cutoff that changes from frame to
/// frame, so the bands above it are intensity-coded, with holes that make the
/// bound differ between short windows; its scalefactors, the
/// intensity positions, are random in 0…7 (7 is the illegal position in both
/// rules: MPEG-1's, and MPEG-2's largest value of a 3-bit scalefactor).
struct SyntheticStream {
    enum Block: CaseIterable { case long, short, mixed }

    var lsf: Bool
    var block: Block
    var modeExtension: Int
    var frames = 20

    var sampleRate: Int { lsf ? 22050 : 44100 }
    private var bitrateKbps: Int { lsf ? 160 : 320 }
    private var bandEdges: [Int] { lsf ? ISO13818_3.longBandEdges[0] : ISO11172_3.longBandEdges[0] }
    private var shortEdges: [Int] { lsf ? ISO13818_3.shortBandEdges[0] : ISO11172_3.shortBandEdges[0] }

    func bytes() -> [UInt8] {
        var random = SeededGenerator(seed: UInt64(modeExtension * 10 + (lsf ? 1 : 0)))
        let frameBytes = (lsf ? 72_000 : 144_000) * bitrateKbps / sampleRate
        var stream = [UInt8]()
        for frame in 0..<frames {
            var side = SideInfo(channels: 2, granules: lsf ? 1 : 2)
            var main = BitWriter()
            for gr in side.granules.indices {
                for channel in 0..<2 {
                    // The right channel's cutoff walks from silence to half the left's range;
                    // below it, holes (every third run of four lines, and lines 24…35,
                    // the top of a mixed block's long part) leave some short windows
                    // and long bands empty under non-zero ones.
                    let cutoff = channel == 0 ? 200 : 2 * ((frame * 7 + gr * 3) % 50)
                    let values = (0..<576).map { i -> Int32 in
                        let hole = channel == 1 && ((i / 4) % 3 == 0 || (24..<36).contains(i))
                        return i < cutoff && !hole ? Int32.random(in: -15...15, using: &random) : 0
                    }
                    let start = main.count
                    var g = granuleSideInfo(values: values)
                    if channel == 1 {
                        g.scalefacCompress = writePositions(&main, using: &random)
                    }
                    writeHuffman(values, &main)
                    g.part23Length = main.count - start
                    side.granules[gr][channel] = g
                }
            }
            var frameWriter = BitWriter()
            writeHeader(&frameWriter)
            side.write(to: &frameWriter, lsf: lsf)
            frameWriter.append(main)
            var bytes = frameWriter.bytes
            precondition(bytes.count <= frameBytes, "synthetic frame overflows")
            bytes += [UInt8](repeating: 0, count: frameBytes - bytes.count)
            stream += bytes
        }
        return stream
    }

    private func granuleSideInfo(values: [Int32]) -> GranuleSideInfo {
        var g = GranuleSideInfo()
        g.bigValues = ((values.lastIndex { $0 != 0 } ?? -1) + 2) / 2
        g.globalGain = 170
        g.tableSelect = [15, 15, 15]
        if block == .long {
            g.region0Count = 7
            g.region1Count = 7
        } else {
            g.windowSwitching = true
            g.blockType = 2
            g.mixedBlock = block == .mixed
            g.subblockGain = [0, 1, 2]
        }
        return g
    }

    /// The right channel's scalefactors, random positions in 0…7 at 3 bits
    /// each; returns the scalefac_compress that says so.
    private func writePositions(_ writer: inout BitWriter, using random: inout SeededGenerator) -> Int {
        let count: Int
        let compress: Int
        if lsf {
            // ISO/IEC 13818-3 2.4.3.2, intensity right channel: (scalefac_compress >> 1) = 36·3 + 6·3 + 3
            // gives three partitions of 3 bits; the low bit is intensity_scale.
            count = [.long: 21, .short: 36, .mixed: 33][block]!
            compress = (129 << 1) | (modeExtension & 2 == 0 ? 1 : 0)
        } else {
            // scalefac_compress 13 is slen1 = slen2 = 3.
            count = [.long: 21, .short: 36, .mixed: 35][block]!
            compress = 13
        }
        for _ in 0..<count { writer.write(Int.random(in: 0...7, using: &random), bits: 3) }
        return compress
    }

    /// Pairs in table 15 in as many regions as the block has; no count1 part.
    private func writeHuffman(_ values: [Int32], _ writer: inout BitWriter) {
        let pairs = ((values.lastIndex { $0 != 0 } ?? -1) + 2) / 2
        for p in 0..<pairs {
            HuffmanCoder.writePair(values[2 * p], values[2 * p + 1], table: 15, to: &writer)
        }
    }

    private func writeHeader(_ writer: inout BitWriter) {
        writer.write(0xFFF, bits: 12)
        writer.write(lsf ? 0 : 1, bits: 1)  // ID: MPEG-1, or MPEG-2
        writer.write(1, bits: 2)  // layer III
        writer.write(1, bits: 1)  // no CRC
        writer.write(14, bits: 4)  // 160 kbps (MPEG-2), 320 kbps (MPEG-1)
        writer.write(0, bits: 2)  // 22.05 or 44.1 kHz
        writer.write(0, bits: 2)  // no padding, private bit
        writer.write(1, bits: 2)  // joint stereo
        writer.write(modeExtension, bits: 2)
        writer.write(0, bits: 4)  // copyright, original, emphasis
    }
}

@Suite(.enabled(if: Referee.shouldRun("mpg123")))
struct SyntheticStreamTests {
    /// MPEG-1: long, short and mixed blocks under plain, intensity, mid/side and both.
    @Test(arguments: SyntheticStream.Block.allCases, [0, 1, 2, 3])
    func mpeg1BlocksAndJointStereoMatchMpg123(block: SyntheticStream.Block, modeExtension: Int) throws {
        let stream = SyntheticStream(lsf: false, block: block, modeExtension: modeExtension)
        try compare(stream, label: "MPEG-1 \(block) blocks, mode extension \(modeExtension)")
    }

    /// MPEG-2 intensity stereo, with intensity_scale 1 (intensity only) and 0
    /// (with mid/side), long and short blocks.
    @Test(arguments: [SyntheticStream.Block.long, .short], [1, 3])
    func mpeg2IntensityStereoMatchesMpg123(block: SyntheticStream.Block, modeExtension: Int) throws {
        let stream = SyntheticStream(lsf: true, block: block, modeExtension: modeExtension)
        try compare(stream, label: "MPEG-2 \(block) blocks, mode extension \(modeExtension)")
    }

    private func compare(_ stream: SyntheticStream, label: String) throws {
        let path = try writeTemporary(stream.bytes(), name: "synthetic.mp3")
        let result = try DecoderAccuracyTests.compare(path, label: label)
        #expect(result.ours.frameCount == stream.frames)
        // The streams are loud enough that agreement is not agreement on silence.
        let energy = result.ours.audio.channels.map { $0.reduce(0) { $0 + Double($1 * $1) } }
        #expect(energy.allSatisfy { $0 > 1 }, "\(label): channel energies \(energy)")
    }

    /// The MPEG-2 intensity gains of clause 2.4.3.2: odd positions attenuate
    /// the left by io^((p+1)/2), even ones the right by io^(p/2).
    @Test func mpeg2IntensityGainsFollowTheStandard() {
        let quarter = Float(pow(2, -0.25)), half = Float(pow(2, -0.5))
        let cases: [(Int, Int, Float, Float)] = [
            (0, 0, 1, 1), (1, 0, quarter, 1), (2, 0, 1, quarter), (5, 0, quarter * quarter * quarter, 1),
            (0, 1, 1, 1), (3, 1, half * half, 1), (6, 1, 1, half * half * half),
        ]
        for (position, scale, left, right) in cases {
            let gains = StereoProcessing.intensityGains(position: position, lsfScale: scale)
            #expect(abs(gains.left - left) < 1e-6 && abs(gains.right - right) < 1e-6, "position \(position), scale \(scale)")
        }
        let mpeg1 = StereoProcessing.intensityGains(position: 3, lsfScale: nil)
        #expect(abs(mpeg1.left - 0.5) < 1e-6 && abs(mpeg1.right - 0.5) < 1e-6)
    }
}
