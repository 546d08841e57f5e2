import Foundation
import Testing
@testable import AudioCodec

/// The psychoacoustic model, block switching and joint stereo, by their effects.
struct PerceptualEncoderTests {
    static let rate = 44100

    /// A castanet-like click: noise through a resonance near 3 kHz with a 5 ms decay.
    static func click(into samples: inout [Float], at start: Int, seed: UInt64) {
        var state = seed, y1 = 0.0, y2 = 0.0
        let radius = 0.97, theta = 2 * Double.pi * 3000 / Double(rate)
        for n in 0..<(rate / 20) where start + n < samples.count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let noise = Double(state >> 11) / Double(1 << 53) * 2 - 1
            let excitation = noise * exp(-Double(n) / (0.005 * Double(rate)))
            let y = excitation + 2 * radius * cos(theta) * y1 - radius * radius * y2
            y2 = y1
            y1 = y
            samples[start + n] += Float(0.05 * y)
        }
    }

    /// Energy of `samples[range]`, or 0 outside the signal.
    static func energy(_ samples: [Float], _ range: Range<Int>) -> Double {
        range.reduce(0.0) { $0 + ($1 >= 0 && $1 < samples.count ? Double(samples[$1]) * Double(samples[$1]) : 0) }
    }

    @Test func shortBlocksAtCastanetAttacksCutPreEcho() throws {
        // A quiet 200 Hz hum with four clicks after it: every click is an attack.
        var samples = (0..<Self.rate).map { Float(0.003 * sin(2 * Double.pi * 200 * Double($0) / Double(Self.rate))) }
        let attacks = [9000, 19000, 29500, 40100]
        for (i, attack) in attacks.enumerated() { Self.click(into: &samples, at: attack, seed: UInt64(i + 1)) }
        let audio = PCMAudio(sampleRate: Self.rate, channels: [samples])

        var preEcho = [Bool: Double]()
        for shortBlocks in [true, false] {
            var settings = EncoderSettings(bitrate: 96)
            settings.shortBlocks = shortBlocks
            let encoded = try Layer3Encoder.encode(audio, settings: settings)
            if shortBlocks {
                // Each attack gets short blocks, framed by start and stop blocks.
                #expect(encoded.blockTypeCounts[2] >= attacks.count && encoded.blockTypeCounts[2] <= 3 * attacks.count,
                        "short granules: \(encoded.blockTypeCounts)")
                #expect(encoded.blockTypeCounts[1] == encoded.blockTypeCounts[3], "start and stop pair up: \(encoded.blockTypeCounts)")
            } else {
                #expect(encoded.blockTypeCounts[0] == 2 * encoded.frameCount)
            }
            // Trimmed by the Info frame's delay: sample n of the output is sample n of the input.
            let decoded = try Layer3Decoder.decode(encoded.bytes).audio.channels[0]
            // What the decoder puts in the 5 ms before each attack, less what the input has there.
            let window = Self.rate / 200
            preEcho[shortBlocks] = attacks.reduce(0.0) { total, attack in
                let before = (attack - window)..<attack
                let error = before.map { decoded[$0] - samples[$0] }
                return total + error.reduce(0.0) { $0 + Double($1) * Double($1) }
            }
        }
        let ratioDB = 10 * log10(preEcho[false]! / preEcho[true]!)
        #expect(ratioDB > 0, "pre-echo: short blocks \(preEcho[true]!), long only \(preEcho[false]!), \(ratioDB) dB apart")
    }

    @Test func steadySignalsStayInLongBlocks() throws {
        let audio = TestSignal.pinkNoise.audio(rate: Self.rate, channels: 2, seconds: 1)
        let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 128))
        // The fade-in at the start may switch once; nothing after it does.
        #expect(encoded.blockTypeCounts[2] <= 2, "\(encoded.blockTypeCounts)")
    }

    @Test func blockTypesFrameEveryShortRun() {
        let attacks = [false, false, true, false, false, true, true, false, false]
        #expect(BlockSwitching.blockTypes(attacks: attacks) == [0, 1, 2, 3, 1, 2, 2, 3, 0])
        // Attacks two granules apart: the granule between is short, not stop-and-start at once.
        #expect(BlockSwitching.blockTypes(attacks: [false, true, false, true, false]) == [1, 2, 2, 2, 3])
    }

    /// An attack in the last sub-blocks of a granule's region needs the next
    /// granule short too; one earlier in the region needs only its own.
    @Test func lateAttacksSwitchTheNextGranuleToo() {
        // Granule 5's own region ends 144 samples after its first input sample.
        let regionEnd = 5 * 576 + 144
        func attacked(clickAt n: Int) -> [Int] {
            var samples = [Float](repeating: 0, count: 12 * 576)
            for t in n..<(n + 8) { samples[t] = 0.5 }
            let flags = BlockSwitching.attacks([samples], granules: 10)
            return flags.indices.filter { flags[$0] }
        }
        let shared = BlockSwitching.sharedSubBlocks * BlockSwitching.subBlock
        #expect(attacked(clickAt: regionEnd - shared + 20) == [5, 6])
        #expect(attacked(clickAt: regionEnd - shared - 100) == [5])
    }

    /// The masking ratio of the long band holding `hz` for `samples`, in dB.
    static func maskingRatioDB(_ samples: [Float], hz: Double, granule: Int = 8, softened: Bool = false) -> Double {
        let edges = ISO11172_3.longBandEdges[0], lineHz = Double(rate) / 1152
        let band = edges.lastIndex { Double($0) * lineHz <= hz }!
        let model = PsychoacousticModel(sampleRate: rate, longEdges: edges, shortEdges: ISO11172_3.shortBandEdges[0],
                                        softening: softened ? PsychoacousticModel.ratioExponent.constant : nil)
        var ratios: MaskingRatios?
        for g in 0...granule { ratios = model.analyze(samples, granuleStart: g * 576, shortWindows: false) }
        return 10 * log10(ratios!.long[band])
    }

    /// The short windows are extra: asking for them leaves the long ratios as they were,
    /// and without them a granule carries no short ratios.
    @Test func shortWindowsLeaveTheLongRatiosAlone() {
        var samples = [Float](repeating: 0, count: 12 * 576)
        for start in [2000, 4100, 5000] { Self.click(into: &samples, at: start, seed: UInt64(start)) }
        let edges = ISO11172_3.longBandEdges[0], shortEdges = ISO11172_3.shortBandEdges[0]
        let softening = PsychoacousticModel.ratioExponent.constant
        let withShort = PsychoacousticModel(sampleRate: Self.rate, longEdges: edges, shortEdges: shortEdges, softening: softening)
        let longOnly = PsychoacousticModel(sampleRate: Self.rate, longEdges: edges, shortEdges: shortEdges, softening: softening)
        for g in 0..<12 {
            let both = withShort.analyze(samples, granuleStart: g * 576, shortWindows: true)
            let long = longOnly.analyze(samples, granuleStart: g * 576, shortWindows: g % 3 == 0)
            #expect(both.long == long.long, "granule \(g)")
            #expect(both.short.count == 39)
            #expect(long.short.count == (g % 3 == 0 ? 39 : 0))
        }
    }

    @Test func tonesMaskLessThanNoise() {
        // Equal power: a 1 kHz sine and white noise.
        let count = 10 * 576
        let tone = (0..<count).map { Float(0.1 * sin(2 * Double.pi * 1000 * Double($0) / Double(Self.rate))) }
        var seed: UInt64 = 7
        let noise = (0..<count).map { _ -> Float in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(0.1 * 6.0.squareRoot() * (Double(seed >> 11) / Double(1 << 53) - 0.5))
        }
        let toneDB = Self.maskingRatioDB(tone, hz: 1000), noiseDB = Self.maskingRatioDB(noise, hz: 1000)
        // Tone masking noise sits 14.5 + z dB down (z ≈ 8.5 Bark at 1 kHz), noise masking tone 5.5 dB.
        #expect(toneDB < -18, "tone: \(toneDB) dB")
        #expect(noiseDB > -12 && noiseDB < 0, "noise: \(noiseDB) dB")
        #expect(noiseDB - toneDB > 10)
        // The encoder's softened allowance: at most −12 dB per partition (bands straddle
        // partitions and the noise is uneven bin to bin, hence 2 dB), and halfway to it from a strict tone.
        let softTone = Self.maskingRatioDB(tone, hz: 1000, softened: true)
        let softNoise = Self.maskingRatioDB(noise, hz: 1000, softened: true)
        #expect(softTone <= -10 && softNoise <= -10, "softened: tone \(softTone) dB, noise \(softNoise) dB")
        #expect(softTone > toneDB + 3, "softened tone \(softTone) dB, bare \(toneDB) dB")
    }

    @Test func preEchoControlHoldsTheThresholdAtAnOnset() {
        // Silence, then noise from the granule whose long window is just reached.
        var seed: UInt64 = 11
        let onset = 8 * 576
        let samples = (0..<(48 * 576)).map { n -> Float in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return n < onset ? 0 : Float(0.2 * (Double(seed >> 11) / Double(1 << 53) - 0.5))
        }
        // Granule 8's long window only reaches the noise at its edge; granule 9 is full of it.
        let atOnset = Self.maskingRatioDB(samples, hz: 2000, granule: 9)
        let steady = Self.maskingRatioDB(samples, hz: 2000, granule: 47)
        // At the onset the threshold may be at most twice the silent one before: far below
        // the noise. It then doubles granule by granule until the masking takes over.
        #expect(atOnset < steady - 30, "onset \(atOnset) dB, steady \(steady) dB")
    }

    @Test func binauralUnmaskingIsStrictestInTheBass() {
        // Johnston & Ferreira's masking level difference: −25 dB at 0 Bark, 0 dB from 15.5 Bark, rising between.
        #expect(abs(10 * log10(MidSideCoding.maskingLevelDifference(bark: 0)) + 25) < 1e-9)
        #expect(MidSideCoding.maskingLevelDifference(bark: 15.5) == 1 && MidSideCoding.maskingLevelDifference(bark: 24) == 1)
        let curve = stride(from: 0.0, through: 15.5, by: 0.5).map(MidSideCoding.maskingLevelDifference(bark:))
        #expect(zip(curve, curve.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test func menusStopThreeStepsUnderTheirDepth() {
        // Random lines, each band allowing noise 20 dB under its energy per line.
        let layout = GranuleLayout(blockType: 0, longEdges: ISO11172_3.longBandEdges[0], shortEdges: ISO11172_3.shortBandEdges[0])
        var seed: UInt64 = 11
        func random() -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Double(seed >> 11) / Double(1 << 53)
        }
        let lines = (0..<576).map { _ in Float(random() - 0.5) }
        let tolerance = layout.bands.map { band in
            band.lines.reduce(0.0) { $0 + Double(lines[$1] * lines[$1]) } / Double(band.lines.count) / 100
        }
        let input = GranuleInput(lines: lines, tolerance: tolerance, layout: layout)
        let deep = GranuleCoder.menus(for: input, depth: GranuleCoder.MenuDepth.constant)
        let shallow = GranuleCoder.menus(for: input, depth: GranuleCoder.MenuDepth.variable)
        for (b, band) in layout.bands.enumerated() {
            let limit = { (depth: Double) in tolerance[b] * Double(band.lines.count) * depth }
            // The shallow menu is the deep one cut short, where three steps in a row first fall under its depth.
            let count = shallow.steps[b].count
            #expect(count < deep.steps[b].count, "band \(b): \(count) steps of \(deep.steps[b].count)")
            #expect(Array(deep.steps[b].prefix(count)) == shallow.steps[b] && Array(deep.choices[b].prefix(count)) == shallow.choices[b])
            let under = shallow.choices[b].dropFirst().map { $0.distortion < limit(GranuleCoder.MenuDepth.variable) }
            #expect(Array(under.suffix(3)) == [true, true, true], "band \(b)")
            #expect(!zip(under, zip(under.dropFirst(), under.dropFirst(2))).dropLast().contains { $0 && $1.0 && $1.1 }, "band \(b)")
            // Both keep only steps whose noise is below the band's energy.
            let energy = band.lines.reduce(0.0) { $0 + Double(lines[$1] * lines[$1]) }
            #expect(deep.choices[b].dropFirst().allSatisfy { $0.distortion < energy })
        }
    }

    @Test func midSideNoiseStaysWithinTheAllowanceOfTheStricterChannel() {
        let layout = GranuleLayout(blockType: 0, longEdges: ISO11172_3.longBandEdges[0], shortEdges: ISO11172_3.shortBandEdges[0])
        let coding = MidSideCoding(sampleRate: 44100, layouts: [layout], longEdges: ISO11172_3.longBandEdges[0],
                                   shortEdges: ISO11172_3.shortBandEdges[0])
        var seed: UInt64 = 5
        func random() -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Double(seed >> 11) / Double(1 << 53)
        }
        let ratios = MaskingRatios(long: [Double](repeating: 1, count: 22), short: [Double](repeating: 1, count: 39))
        for _ in 0..<50 {
            // Random lines and tolerances; the mid and side models' own tolerances are given.
            let lines = (0..<4).map { _ in (0..<576).map { _ in Float(random() - 0.5) } }
            let leftRight = (0..<2).map { c in
                GranuleInput(lines: lines[c], tolerance: layout.bands.map { _ in Double.exp10(-4 * random()) }, layout: layout)
            }
            let own = (0..<2).map { _ in layout.bands.map { _ in Double.exp10(-4 * random()) } }
            let analyzed = (0..<2).map { AnalyzedGranule(lines: lines[2 + $0], ratios: ratios, layout: layout) }
            var call = 0
            let midSide = coding.granule(leftRight, midSide: analyzed) { _, _ in
                defer { call += 1 }
                return own[call]
            }
            for b in layout.bands.indices {
                let stricter = min(leftRight[0].tolerance[b], leftRight[1].tolerance[b])
                let noise = (midSide[0].tolerance[b] + midSide[1].tolerance[b]) / 2
                #expect(noise <= MidSideCoding.noiseAllowance * stricter * (1 + 1e-12))
                // Where the allowance does not bind, each keeps at least its own threshold.
                if own[0][b] + own[1][b] < stricter {
                    #expect(midSide[0].tolerance[b] >= own[0][b] && midSide[1].tolerance[b] >= own[1][b])
                }
            }
        }
    }

    @Test func perceptualEntropyCountsBitsPerLine() {
        // Energy per line 9× the tolerance: log2(1 + 3) = 2 bits per line; at the tolerance, 1 bit.
        let bits = PsychoacousticModel.perceptualEntropy(energy: [90, 4], tolerance: [1, 1], widths: [10, 4])
        #expect(abs(bits - (10 * 2 + 4 * 1)) < 1e-9)
    }

    @Test(arguments: [EncoderSettings.ChannelMode.joint, .stereo])
    func jointStereoCodesMidSideWhereItSavesBits(mode: EncoderSettings.ChannelMode) throws {
        let pink = TestSignal.pinkNoise.audio(rate: Self.rate, channels: 2, seconds: 1)
        // The same in both channels: the side is silent.
        let centred = PCMAudio(sampleRate: Self.rate, channels: [pink.channels[0], pink.channels[0]])
        let same = try Layer3Encoder.encode(centred, settings: EncoderSettings(bitrate: 128, mode: mode))
        // Hard left: mid and side each carry all of it, and the silent right channel's
        // threshold in quiet holds both their noise down, so left/right needs fewer bits.
        let silence = [Float](repeating: 0, count: pink.frameCount)
        let left = PCMAudio(sampleRate: Self.rate, channels: [pink.channels[0], silence])
        let panned = try Layer3Encoder.encode(left, settings: EncoderSettings(bitrate: 128, mode: mode))
        if mode == .joint {
            #expect(same.midSideFrames == same.frameCount)
            #expect(panned.midSideFrames == 0, "\(panned.midSideFrames) of \(panned.frameCount)")
        } else {
            #expect(same.midSideFrames == 0 && panned.midSideFrames == 0)
        }
        // Either way the decoded channels of the centred signal agree closely.
        let decoded = try Layer3Decoder.decode(same.bytes).audio.channels
        let difference = zip(decoded[0], decoded[1]).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        let power = decoded[0].reduce(0.0) { $0 + Double($1) * Double($1) }
        // Coded left/right, each channel carries its own noise, about 12 dB down.
        #expect(10 * log10(power / max(difference, 1e-30)) > (mode == .joint ? 60 : 6))
    }

    /// Side information of every audio frame of an encoded MPEG-1 file (the Info frame first, skipped).
    static func sideInfos(_ encoded: EncodedAudio) throws -> [SideInfo] {
        var infos = [SideInfo](), position = encoded.infoFrameBytes
        while let header = ParsedHeader(encoded.bytes[position...]) {
            let sideStart = position + 4 + (header.hasCRC ? 2 : 0)
            var reader = BitReader(Array(encoded.bytes[sideStart..<(sideStart + header.sideInfoBytes)]))
            infos.append(try SideInfo.read(&reader, channels: header.channelCount))
            position += header.frameBytes
        }
        return infos
    }

    /// Preflag raises the treble's scalefactors by the standard's pretab where
    /// every coded band there wants at least that much: on low sines (an empty
    /// treble under a loud bass) the encoder sets it, and ffmpeg, mpg123 and
    /// our decoder agree on what the file holds.
    @Test func preflagLiftsTheTrebleAndEveryDecoderAgrees() throws {
        let channels = [220.0, 330.0].map { f in
            (0..<Self.rate).map { Float(0.3 * sin(2 * Double.pi * f * Double($0) / Double(Self.rate))) }
        }
        let audio = PCMAudio(sampleRate: Self.rate, channels: channels)
        let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 128))
        let granules = try Self.sideInfos(encoded).flatMap { $0.granules.joined() }
        let flagged = granules.filter(\.preflag).count
        #expect(granules.count == 2 * 2 * encoded.frameCount, "every audio frame's side info read")
        #expect(flagged > granules.count / 2, "\(flagged) of \(granules.count) granules with preflag")
        let path = try writeTemporary(encoded.bytes, name: "preflag.mp3")
        let referees = try EncoderConformanceTests.referee(path, channels: 2, label: "low sines with preflag")
        let ffmpeg = EncoderConformanceTests.channel(referees.ffmpeg, 0, of: 2)
        // Ours trims the delay that ffmpeg leaves in (it trims only LAME's files).
        let ours = try Layer3Decoder.decode(encoded.bytes).audio.channels[0]
        #expect(snrDB(reference: ours, decoded: ffmpeg, delay: Layer3Encoder.delay) > 60, "our decoder and ffmpeg read the same samples")
        #expect(snrDB(reference: audio.channels[0], decoded: ffmpeg, delay: Layer3Encoder.delay) > 30)
    }
}
