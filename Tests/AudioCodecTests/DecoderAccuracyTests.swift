import AudioCodec
import Foundation
import Testing

/// The decoder against mpg123's float output, with the ISO 11172-4 "full
/// accuracy" limits: RMS difference below 2^-15/√12, peak at most 2^-14.
@Suite(.enabled(if: Referee.shouldRun("lame", "mpg123")))
struct DecoderAccuracyTests {
    static let rmsLimit = 1 / (32768 * 12.0.squareRoot())
    static let peakLimit = 1.0 / 16384

    static func compare(_ mp3: String, label: String) throws -> (ours: DecodedStream, rms: Double, peak: Double) {
        let ours = try Layer3Decoder.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: mp3))))
        let reference = try Referee.run("mpg123", ["-q", "-e", "f32", "-s", mp3])
        #expect(reference.status == 0, "mpg123 on \(label)")
        let theirs = floats(reference.stdout)
        let channels = ours.audio.channels.count
        #expect(theirs.count == ours.audio.frameCount * channels, "length of \(label): ours \(ours.audio.frameCount), mpg123 \(theirs.count / channels)")
        var sum = 0.0, peak = 0.0
        let n = min(theirs.count / channels, ours.audio.frameCount)
        for i in 0..<n {
            for c in 0..<channels {
                let d = Double(ours.audio.channels[c][i]) - Double(theirs[i * channels + c])
                sum += d * d
                peak = max(peak, abs(d))
            }
        }
        let rms = (sum / Double(max(1, n * channels))).squareRoot()
        #expect(rms < rmsLimit, "RMS difference \(rms) on \(label)")
        #expect(peak <= peakLimit, "peak difference \(peak) on \(label)")
        #expect(ours.damagedFrames == 0, "damaged frames in \(label)")
        return (ours, rms, peak)
    }

    static func lameFile(_ signal: TestSignal, rate: Int, channels: Int, options: [String], seconds: Double = 0.5) throws -> String {
        let wave = try writeTemporary([], name: "in.wav")
        try AudioFileWriter.write(signal.audio(rate: rate, channels: channels, seconds: seconds), to: wave)
        let mp3 = wave.replacingOccurrences(of: ".wav", with: ".mp3")
        let run = try Referee.run("lame", ["--quiet"] + options + [wave, mp3])
        #expect(run.status == 0, "lame \(options): \(run.stderr)")
        return mp3
    }

    /// CBR and VBR, joint and plain stereo, mono, at every MPEG-1 rate; the
    /// impulses make lame switch to short blocks.
    @Test(arguments: [32000, 44100, 48000], [["-b", "128"], ["-V", "2"], ["-b", "192", "-m", "s"], ["-b", "64", "-m", "m"]])
    func lameFilesDecodeToFullAccuracy(rate: Int, options: [String]) throws {
        for signal in [TestSignal.sweep, .pinkNoise, .impulses] {
            let channels = options.contains("m") ? 1 : 2
            let mp3 = try Self.lameFile(signal, rate: rate, channels: channels, options: options)
            let result = try Self.compare(mp3, label: "\(signal), \(rate) Hz, lame \(options.joined(separator: " "))")
            // lame writes a LAME tag: the decoded length is the input's exactly.
            #expect(result.ours.gapless != nil)
            #expect(result.ours.audio.frameCount == Int(0.5 * Double(rate)), "gapless length for \(signal) \(options)")
        }
    }

    @Test(arguments: [32000, 44100, 48000])
    func ourFilesDecodeToFullAccuracyAndLineUp(rate: Int) throws {
        let audio = TestSignal.sweep.audio(rate: rate, channels: 2, seconds: 0.5)
        let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 256))
        let mp3 = try writeTemporary(encoded.bytes, name: "ours.mp3")
        let result = try Self.compare(mp3, label: "our sweep at \(rate) Hz")
        // The Info frame's delay and padding trim the output to the input, sample for sample.
        #expect(result.ours.audio.frameCount == audio.frameCount)
        let snr = snrDB(reference: audio.channels[0], decoded: result.ours.audio.channels[0], delay: 0)
        #expect(snr > 30, "round trip SNR \(snr) dB after trimming")
    }

    /// MPEG-2 (22.05, 24, 16 kHz) and MPEG-2.5 (11.025, 12, 8 kHz), as lame writes them.
    @Test(arguments: [22050, 24000, 16000, 11025, 12000, 8000], [["-b", "64"], ["-V", "2"], ["-b", "32", "-m", "m"]])
    func lowSamplingFrequenciesDecodeToFullAccuracy(rate: Int, options: [String]) throws {
        for signal in [TestSignal.sweep, .impulses] {
            let channels = options.contains("m") ? 1 : 2
            let mp3 = try Self.lameFile(signal, rate: rate, channels: channels, options: options)
            _ = try Self.compare(mp3, label: "\(signal), \(rate) Hz, lame \(options.joined(separator: " "))")
        }
    }
}

struct DamagedStreamTests {
    /// Audio frames only: without the Info frame every frame is 128 kbit/s and nothing is trimmed.
    static let stream: [UInt8] = {
        let audio = TestSignal.pinkNoise.audio(rate: 44100, channels: 2, seconds: 0.5)
        let encoded = try! Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 128))
        return Array(encoded.bytes[encoded.infoFrameBytes...])
    }()

    @Test func junkAndATagBeforeTheFirstFrameAreSkipped() throws {
        let clean = try Layer3Decoder.decode(Self.stream)
        // An ID3v2.4 tag of 20 bytes, then junk that looks almost like a header.
        let tag: [UInt8] = Array("ID3".utf8) + [4, 0, 0, 0, 0, 0, 20] + [UInt8](repeating: 0x41, count: 20)
        let junked = try Layer3Decoder.decode(tag + [0xFF, 0xFB, 0x00, 0x13, 0x37] + Self.stream)
        #expect(junked.frameCount == clean.frameCount)
        #expect(junked.audio.channels == clean.audio.channels)
    }

    /// Trailing tags hold bytes that look like frame headers; none is decoded.
    @Test func id3v1AndAPETagsAtTheEndAreSkipped() throws {
        let clean = try Layer3Decoder.decode(Self.stream)
        let fakeHeader: [UInt8] = [0xFF, 0xFB, 0x90, 0x64]
        var ape = Array("APETAGEX".utf8) + [0xD0, 0x07, 0, 0]  // version 2000
        let items = fakeHeader + [UInt8](repeating: 0x20, count: 28)
        ape += [UInt8(items.count + 32), 0, 0, 0] + [1, 0, 0, 0] + [0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        let id3v1 = Array("TAG".utf8) + fakeHeader + [UInt8](repeating: 0x20, count: 121)
        for tail in [id3v1, items + ape, items + ape + id3v1] {
            let tagged = try Layer3Decoder.decode(Self.stream + tail)
            #expect(tagged.frameCount == clean.frameCount)
            #expect(tagged.audio.channels == clean.audio.channels)
        }
    }

    @Test func aTruncatedStreamDecodesWhatItHolds() throws {
        let clean = try Layer3Decoder.decode(Self.stream)
        let cut = try Layer3Decoder.decode(Array(Self.stream.prefix(Self.stream.count / 2)))
        #expect(cut.frameCount > 0 && cut.frameCount < clean.frameCount)
    }

    @Test func aCutStreamKeepsItsEndAndSaysHowShortItIs() throws {
        let audio = TestSignal.pinkNoise.audio(rate: 44100, channels: 2, seconds: 0.5)
        let whole = try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 128)).bytes
        let intact = try Layer3Decoder.decode(whole)
        #expect(intact.missingFrames == 0 && intact.audio.frameCount == audio.frameCount)
        let cut = try Layer3Decoder.decode(Array(whole.prefix(whole.count / 2)))
        let tag = try #require(cut.gapless)
        #expect(cut.missingFrames == intact.frameCount - cut.frameCount && cut.missingFrames > 0)
        // Only the delay is trimmed: the encoder's padding is not at this end.
        #expect(cut.audio.frameCount == cut.frameCount * 1152 - tag.delay - Layer3Decoder.decoderDelay)
    }

    @Test func damagedFramesAreConcealedAndCounted() throws {
        let clean = try Layer3Decoder.decode(Self.stream)
        let starts = frameStarts(Self.stream)
        // Overwrite 600 bytes from inside a frame a third of the way in: lost
        // headers, lost frames and a broken reservoir.
        let k = starts.count / 3, first = starts[k] + 100
        var damaged = Self.stream
        for i in first..<(first + 600) { damaged[i] = UInt8(truncatingIfNeeded: i &* 37) }
        let result = try Layer3Decoder.decode(damaged)
        let hit = starts.filter { $0 < first + 600 }.count - starts.filter { $0 + 418 <= first }.count
        // The frame whose data was hit first may decode its garbage undetected
        // (no CRC); the first after the gap has lost the reservoir it points into.
        #expect(result.damagedFrames >= hit - 1 && result.damagedFrames <= hit + 2, "\(result.damagedFrames) damaged, \(hit) hit")
        #expect(result.frameCount == clean.frameCount, "the lost frames are counted")
        for c in 0..<2 {
            // Silence stands in for what was lost, so the rest stays in time:
            // once the reservoir and the filterbank have refilled (three
            // frames after the damage) the samples are the clean ones.
            #expect(result.audio.channels[c].count == clean.audio.channels[c].count)
            let resumed = 1152 * (starts.firstIndex { $0 >= first + 600 }! + 3)
            #expect(Array(result.audio.channels[c][resumed...]) == Array(clean.audio.channels[c][resumed...]))
            #expect(Array(result.audio.channels[c][..<(1152 * k)]) == Array(clean.audio.channels[c][..<(1152 * k)]))
        }
    }

    /// Start offsets of the frames of a stream without tags.
    private func frameStarts(_ bytes: [UInt8]) -> [Int] {
        var starts = [Int]()
        var position = 0
        while position + 4 <= bytes.count {
            starts.append(position)
            position += 144_000 * 128 / 44100 + Int((bytes[position + 2] >> 1) & 1)
        }
        return starts
    }

    @Test func aMainDataBeginPastTheReservoirLosesOneFrame() throws {
        var damaged = Self.stream
        // The first frame cannot reach back 511 bytes: nothing precedes it.
        damaged[4] = 0xFF
        damaged[5] |= 0x80
        let result = try Layer3Decoder.decode(damaged)
        #expect(result.damagedFrames == 1)
        #expect(result.frameCount == frameStarts(Self.stream).count)
        #expect(result.audio.channels.allSatisfy { $0[0..<1152].allSatisfy { $0 == 0 } }, "the lost frame is silence")
    }

    @Test func aGranuleLongerThanItsDataLosesItsFrame() throws {
        var damaged = Self.stream
        let frame = frameStarts(Self.stream)[5]
        // part2_3_length of granule 0, channel 0 (side info bits 20…31) set to 4095.
        damaged[frame + 4 + 2] |= 0x0F
        damaged[frame + 4 + 3] = 0xFF
        let clean = try Layer3Decoder.decode(Self.stream)
        let result = try Layer3Decoder.decode(damaged)
        #expect(result.damagedFrames == 1)
        // Frames before the damage decode exactly as before.
        #expect(Array(result.audio.channels[0][0..<(5 * 1152)]) == Array(clean.audio.channels[0][0..<(5 * 1152)]))
    }

    @Test(arguments: [[UInt8](), [0x00, 0x01, 0x02], [UInt8](repeating: 0xFF, count: 5000)])
    func noFramesIsAClearError(bytes: [UInt8]) {
        #expect(throws: DecoderError.noFrames) { try Layer3Decoder.decode(bytes) }
    }
}

/// lame writes no intensity stereo, so these streams are ours with the
/// header's mode changed to joint stereo: the right channel's zero bands
/// above its last non-zero band become intensity-coded (is_pos = its
/// scalefactors), and with mid/side on, the bands below are mid and side.
/// mpg123 reads the same bits; the two must agree to full accuracy.
@Suite(.enabled(if: Referee.shouldRun("mpg123")))
struct JointStereoDecodingTests {
    @Test(arguments: [1, 2, 3])
    func jointStereoModesMatchMpg123(modeExtension: UInt8) throws {
        var left = TestSignal.sine.audio(rate: 44100, channels: 2, seconds: 0.5)
        // Give the left channel content everywhere, so intensity bands carry something.
        left.channels[0] = zip(left.channels[0], TestSignal.pinkNoise.samples(count: left.frameCount, rate: 44100, channel: 0)).map { $0 + $1 }
        var bytes = try Layer3Encoder.encode(left, settings: EncoderSettings(bitrate: 160, mode: .stereo)).bytes
        var position = 0
        while position + 4 <= bytes.count {
            // Mode '01' (joint stereo) and the mode extension; the rest of the byte stays.
            bytes[position + 3] = (bytes[position + 3] & 0x0F) | 0x40 | (modeExtension << 4)
            position += 144_000 * 160 / 44100 + Int((bytes[position + 2] >> 1) & 1)
        }
        let path = try writeTemporary(bytes, name: "joint-\(modeExtension).mp3")
        _ = try DecoderAccuracyTests.compare(path, label: "joint stereo, mode extension \(modeExtension)")
    }
}

/// Mid/side at MPEG-2/2.5 rates: lame's plain-stereo files with the header
/// turned to joint stereo with mid/side on, which changes no bit of the
/// granule data; mpg123 reads the same bits.
@Suite(.enabled(if: Referee.shouldRun("lame", "mpg123")))
struct LowRateMidSideDecodingTests {
    @Test(arguments: [22050, 24000, 16000, 11025, 12000, 8000])
    func midSideMatchesMpg123(rate: Int) throws {
        let path = try DecoderAccuracyTests.lameFile(.sweep, rate: rate, channels: 2, options: ["-b", "64", "-m", "s"])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var position = 0
        let slots = 72_000 * 64 / rate
        while position + 4 <= bytes.count, bytes[position] == 0xFF {
            bytes[position + 3] = (bytes[position + 3] & 0x0F) | 0x40 | 0x20
            position += slots + Int((bytes[position + 2] >> 1) & 1)
        }
        let joint = try writeTemporary(bytes, name: "lsf-ms.mp3")
        _ = try DecoderAccuracyTests.compare(joint, label: "MPEG-2 mid/side at \(rate) Hz")
    }
}
