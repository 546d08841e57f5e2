import Foundation
import Testing
@testable import AudioCodec

/// The Xing/Info frame, variable bitrate and average bitrate.
struct RateControlTests {
    /// Two seconds that ask for very different bits: loud pink noise, then a quiet sine.
    static func loudThenQuiet(channels: Int) -> PCMAudio {
        let noise = TestSignal.pinkNoise.audio(rate: 44100, channels: channels, seconds: 1)
        let sine = TestSignal.sine.audio(rate: 44100, channels: channels, seconds: 1)
        return PCMAudio(sampleRate: 44100, channels: (0..<channels).map { noise.channels[$0] + sine.channels[$0].map { $0 * 0.1 } })
    }

    /// The tag of a stream we wrote, read back, and the byte where its LAME extension starts.
    static func tag(of encoded: EncodedAudio, channels: Int) throws -> (InfoTag.Reading, extensionStart: Int) {
        let tagStart = 4 + (channels == 1 ? 17 : 32)
        let reading = try #require(InfoTag.read(Array(encoded.bytes[0..<encoded.infoFrameBytes]), tagStart: tagStart))
        return (reading, tagStart + 120)
    }

    @Test(arguments: [1, 2])
    func theInfoFrameCountsFramesAndTrimsToTheInput(channels: Int) throws {
        let audio = TestSignal.sweep.audio(rate: 44100, channels: channels, seconds: 0.7)
        let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 128))
        let (reading, lame) = try Self.tag(of: encoded, channels: channels)
        #expect(Array(encoded.bytes[(lame - 120)..<(lame - 116)]) == Array("Info".utf8))
        #expect(reading.frameCount == encoded.frameCount)
        let gapless = try #require(reading.gapless)
        #expect(gapless.delay + Layer3Decoder.decoderDelay == Layer3Encoder.delay)
        #expect(gapless.delay + audio.frameCount + gapless.padding == encoded.frameCount * 1152)
        // The byte count, and both checksums: the tag's over itself, the music's over the audio frames.
        let bytes = encoded.bytes
        func word(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        #expect(word(lame - 108) == bytes.count && word(lame + 28) == bytes.count)
        let musicCRC = Int(crc16ARC(Array(bytes[encoded.infoFrameBytes...])))
        #expect(Int(bytes[lame + 32]) << 8 | Int(bytes[lame + 33]) == musicCRC)
        #expect(Int(bytes[lame + 34]) << 8 | Int(bytes[lame + 35]) == Int(crc16ARC(Array(bytes[0..<(lame + 34)]))))
        // Our decoder trims to the input, sample for sample in line.
        let decoded = try Layer3Decoder.decode(bytes)
        #expect(decoded.audio.frameCount == audio.frameCount)
        #expect(snrDB(reference: audio.channels[0], decoded: decoded.audio.channels[0], delay: 0) > 20)
    }

    @Test func theSeekTableRisesWithTheFrames() {
        let sizes = [417] + [Int](repeating: 104, count: 50) + [Int](repeating: 1044, count: 50)
        let table = InfoTag.seekTable(frameSizes: sizes)
        #expect(table.count == 100)
        #expect(zip(table, table.dropFirst()).allSatisfy { $0 <= $1 })
        // Half the frames are small: halfway through the duration is a tenth of the way through the bytes.
        let halfway = 256 * (417 + 50 * 104) / sizes.reduce(0, +)
        #expect(Int(table[50]) == halfway)
        #expect(table[0] == UInt8(256 * 417 / sizes.reduce(0, +)))
    }

    /// The checksum is the one LAME's own tags carry: recompute it on a file LAME wrote.
    @Test(.enabled(if: Referee.shouldRun("lame")))
    func theTagChecksumMatchesLAMEs() throws {
        let audio = TestSignal.pinkNoise.audio(rate: 44100, channels: 2, seconds: 0.5)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lame-tag-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let wave = folder.appendingPathComponent("in.wav").path, mp3 = folder.appendingPathComponent("out.mp3").path
        try AudioFileWriter.write(audio, to: wave)
        let run = try Referee.run("lame", ["--quiet", "-V", "2", wave, mp3])
        #expect(run.status == 0)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: mp3)))
        let lame = 4 + 32 + 120
        #expect(Array(bytes[(lame - 120)..<(lame - 116)]) == Array("Xing".utf8))
        #expect(Int(bytes[lame + 34]) << 8 | Int(bytes[lame + 35]) == Int(crc16ARC(Array(bytes[0..<(lame + 34)]))))
        let frameBytes = 144_000 * 128 / 44100
        #expect(Int(bytes[lame + 32]) << 8 | Int(bytes[lame + 33]) == Int(crc16ARC(Array(bytes[frameBytes...]))))
    }

    @Test func variableBitrateFollowsTheSignalAndTheQuality() throws {
        let audio = Self.loudThenQuiet(channels: 2)
        var sizes = [Int]()
        for quality in [0, 4, 9] {
            let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(rate: .variable(quality: quality)))
            sizes.append(encoded.bytes.count)
            #expect(encoded.bitrateCounts.count > 1, "V\(quality) uses one bitrate: \(encoded.bitrateCounts)")
            let (reading, lame) = try Self.tag(of: encoded, channels: 2)
            #expect(Array(encoded.bytes[(lame - 120)..<(lame - 116)]) == Array("Xing".utf8))
            #expect(reading.frameCount == encoded.frameCount)
            #expect(encoded.bitrateCounts.values.reduce(0, +) == encoded.frameCount)
            let decoded = try Layer3Decoder.decode(encoded.bytes)
            #expect(decoded.audio.frameCount == audio.frameCount)
        }
        #expect(sizes[0] > sizes[1] && sizes[1] > sizes[2], "bytes by quality 0, 4, 9: \(sizes)")
    }

    /// A variable frame is coded to its margin before its bitrate is chosen, so
    /// the coded bands' noise sits at the margin over their masking thresholds:
    /// not under it (bits wasted) and not far over it (the frame under-paid).
    /// Frames at 320 kbit/s are left out, since the format's ceiling can stop them short.
    @Test(arguments: [2, 5])
    func variableFramesMeetTheirMargin(quality: Int) throws {
        let audio = Self.loudThenQuiet(channels: 2)
        var settings = EncoderSettings(rate: .variable(quality: quality))
        settings.analysis = true
        settings.analysisPerBand = true
        let analysis = try #require(try Layer3Encoder.encode(audio, settings: settings).analysis)
        let free = Set(analysis.frames.filter { $0.kbps < 320 }.map(\.index))
        let coded = analysis.bands
            .filter { free.contains($0.frame) && $0.zeroed == nil && $0.window == nil && $0.outcome.noisePower > 0 }
            .map(\.nmrDB).sorted()
        try #require(coded.count > 1000)
        let margin = FrameRateControl.variableMarginDB[quality]
        let median = coded[coded.count / 2], p90 = coded[coded.count * 9 / 10]
        // A band's menu steps are 3 dB apart: its noise lands up to 3 dB under the margin.
        #expect(median > margin - 3 && median <= margin, "V\(quality): median NMR \(median) dB, margin \(margin)")
        #expect(p90 <= margin + 1, "V\(quality): 90th percentile NMR \(p90) dB, margin \(margin)")
    }

    @Test func averageBitrateLandsOnItsTarget() throws {
        let noise = TestSignal.pinkNoise.audio(rate: 44100, channels: 2, seconds: 8)
        for target in [96, 160] {
            let encoded = try Layer3Encoder.encode(noise, settings: EncoderSettings(rate: .average(target)))
            let seconds = Double(encoded.frameCount * 1152) / 44100
            let kbps = Double(encoded.bytes.count - encoded.infoFrameBytes) * 8 / seconds / 1000
            #expect(abs(kbps - Double(target)) < 0.08 * Double(target), "ABR \(target): \(kbps) kbit/s")
        }
    }

    /// The constant-bitrate budget of a frame after 18 frames of perceptual entropy 1000.
    static func budget(entropy: Double, reservoir: Int, framesLeft: Int = 100) throws -> (bits: Int, slot: Int) {
        var control = try FrameRateControl(.constant(128), sampleRate: 44100)
        let slot = 3168
        for _ in 0..<18 {
            _ = control.budget(available: slot, slotBits: slot, demand: 0, perceptualEntropy: 1000, framesLeft: 100)
        }
        return (control.budget(available: slot + reservoir, slotBits: slot, demand: 0, perceptualEntropy: entropy,
                               framesLeft: framesLeft), slot)
    }

    @Test func constantBitrateFollowsLAMEsReservoirRule() throws {
        // At the mean entropy, or under 1.1 times it, a frame saves 15 % of its slot…
        for entropy in [1000.0, 500, 1100] {
            let (bits, slot) = try Self.budget(entropy: entropy, reservoir: 1000)
            #expect(bits == Int(0.85 * Double(slot)), "entropy \(entropy): \(bits)")
        }
        // …unless the reservoir is 90 % full.
        let (full, slot) = try Self.budget(entropy: 1000, reservoir: 3700)
        #expect(full == slot + max(0, 3700 - (8 * 511 - slot / 8)))
        // Over 1.1 times the mean it draws in proportion, at most 60 % of the reservoir.
        // Entropy 1200 is 1.19 times the mean (18 × 1000 + 1200)/19.
        let mean = (18 * 1000 + 1200) / 19.0
        let (drawing, _) = try Self.budget(entropy: 1200, reservoir: 3000)
        #expect(drawing == Int(Double(slot) + min(0.6 * 3000, Double(slot) * (1200 / mean - 1))))
        let (capped, _) = try Self.budget(entropy: 5000, reservoir: 3000)
        #expect(capped == slot + 1800)
        // The stream's last 19 frames spend the reservoir, a share each.
        let (last, _) = try Self.budget(entropy: 1000, reservoir: 1900, framesLeft: 19)
        #expect(last == slot + 100)
        let (final, _) = try Self.budget(entropy: 1000, reservoir: 1900, framesLeft: 1)
        #expect(final == slot + 1900)
    }

    @Test func constantBitrateSavesForTheBurstsAndSpendsOnThem() throws {
        // Four seconds of a steady quiet chord, with a loud burst of noise every second.
        let rate = 44100
        let chord = TestSignal.sine.audio(rate: rate, channels: 1, seconds: 4).channels[0].map { $0 * 0.3 }
        let noise = TestSignal.whiteNoise.audio(rate: rate, channels: 1, seconds: 4).channels[0]
        let burst = 4410
        let samples = chord.indices.map { n in n % rate < burst ? chord[n] + noise[n] : chord[n] }
        var settings = EncoderSettings(bitrate: 128, mode: .mono)
        settings.analysis = true
        let frames = try Layer3Encoder.encode(PCMAudio(sampleRate: rate, channels: [samples]), settings: settings).analysis!.frames
        // A frame's slot at 128 kbit/s, less the header and mono side information (21 bytes).
        let slot = 8 * (128_000 * 1152 / 8 / rate - 21)
        // Frame f holds input samples from f·1152 − delay.
        func start(_ frame: EncodingAnalysis.Frame) -> Int { frame.index * 1152 - Layer3Encoder.delay }
        let burstFrames = frames.filter { frame in (1..<4).contains { start(frame) < $0 * rate + burst && start(frame) + 1152 > $0 * rate } }
        let steady = frames.filter { frame in (1..<4).contains { start(frame) > $0 * rate - rate / 2 && start(frame) < $0 * rate - 3 * 1152 } }
        // The steady frames before each burst draw nothing from the reservoir (once it is
        // full they spend their slot; before, they save part of it)…
        let steadyMean = steady.reduce(0) { $0 + $1.bits } / steady.count
        #expect(steadyMean <= slot, "\(steady.map(\.bits)) against a slot of \(slot)")
        // …and each burst spends more than its own slot.
        #expect(burstFrames.contains { $0.bits > slot * 12 / 10 }, "\(burstFrames.map(\.bits)) against a slot of \(slot)")
    }

    @Test func nonsenseRatesAreRefused() {
        let audio = TestSignal.sine.audio(rate: 44100, channels: 1)
        #expect(throws: EncoderError.unsupportedQuality(10)) { try Layer3Encoder.encode(audio, settings: EncoderSettings(rate: .variable(quality: 10))) }
        #expect(throws: EncoderError.averageBitrateOutOfRange(8)) { try Layer3Encoder.encode(audio, settings: EncoderSettings(rate: .average(8))) }
        #expect(throws: EncoderError.unsupportedBitrate(100)) { try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 100)) }
    }

    /// Every referee takes a variable-bitrate file; ffprobe reads its duration
    /// from the Xing frame count instead of estimating, and mpg123 trims it to the input.
    @Test(.enabled(if: Referee.shouldRun("ffmpeg", "ffprobe", "mpg123", "mp3val")))
    func refereesTakeVariableBitrate() throws {
        let audio = Self.loudThenQuiet(channels: 2)
        let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(rate: .variable(quality: 2)))
        let path = try writeTemporary(encoded.bytes, name: "vbr2.mp3")
        let decoded = try EncoderConformanceTests.referee(path, channels: 2, label: "VBR 2")
        #expect(decoded.mpg123.count == 2 * audio.frameCount)
        #expect(decoded.ffmpeg.count == 2 * encoded.frameCount * 1152)
        let probe = try Referee.run("ffprobe", ["-v", "warning", "-show_entries", "format=duration", "-of", "csv=p=0", path])
        #expect(probe.status == 0 && !probe.stderr.contains("Estimating"), "ffprobe: \(probe.stderr)")
        let duration = Double(String(decoding: probe.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(abs((duration ?? 0) - Double(encoded.frameCount * 1152) / 44100) < 0.001, "ffprobe duration \(String(describing: duration))")
    }
}
