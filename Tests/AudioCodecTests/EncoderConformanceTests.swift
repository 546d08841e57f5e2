import AudioCodec
import Foundation
import Testing

/// Every file the encoder writes must decode cleanly in ffmpeg and mpg123,
/// pass mp3val, keep the exact CBR size, line up with the input after the
/// documented delay, and gain SNR with every step up in bitrate until the
/// encoder has nothing audible left to spend on.
@Suite(.enabled(if: Referee.shouldRun("ffmpeg", "mpg123", "mp3val")))
struct EncoderConformanceTests {
    static let bitrates = [32, 64, 128, 192, 320]

    struct Decoded {
        var ffmpeg: [Float]
        var mpg123: [Float]
    }

    /// Decodes with both referees and checks what they and mp3val say.
    static func referee(_ path: String, channels: Int, label: String) throws -> Decoded {
        let ff = try Referee.run("ffmpeg", ["-nostdin", "-v", "error", "-i", path, "-f", "f32le", "-"])
        #expect(ff.status == 0, "ffmpeg failed on \(label)")
        #expect(ff.stderr.isEmpty, "ffmpeg on \(label): \(ff.stderr)")
        let mp = try Referee.run("mpg123", ["-q", "-e", "f32", "-s", path])
        #expect(mp.status == 0, "mpg123 failed on \(label)")
        #expect(mp.stderr.isEmpty, "mpg123 on \(label): \(mp.stderr)")
        let check = try Referee.run("mp3val", [path])
        // mp3val notes a file without ID3/APE tags as a warning; that is the only one allowed.
        let problems = String(decoding: check.stdout, as: UTF8.self).split(separator: "\n")
            .filter { ($0.contains("WARNING") || $0.contains("ERROR")) && !$0.contains("No supported tags in the file") }
        #expect(problems.isEmpty, "mp3val on \(label): \(problems)")
        return Decoded(ffmpeg: floats(ff.stdout), mpg123: floats(mp.stdout))
    }

    static func channel(_ interleaved: [Float], _ c: Int, of channels: Int) -> [Float] {
        stride(from: c, to: interleaved.count, by: channels).map { interleaved[$0] }
    }

    @Test(arguments: [32000, 44100, 48000], [1, 2])
    func everyDecoderAcceptsEveryFile(rate: Int, channels: Int) throws {
        for signal in TestSignal.allCases {
            let audio = signal.audio(rate: rate, channels: channels)
            var snrs = [Double]()
            for bitrate in Self.bitrates {
                let label = "\(signal) at \(rate) Hz, \(channels) ch, \(bitrate) kbit/s"
                let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: bitrate))
                // CBR: the frames add up to the bitrate exactly (padding spreads the fraction).
                let exact = Double(encoded.frameCount) * 144_000 * Double(bitrate) / Double(rate)
                #expect(abs(Double(encoded.bytes.count) - exact) < 1, "size of \(label)")
                let path = try writeTemporary(encoded.bytes, name: "\(signal)-\(bitrate).mp3")
                let decoded = try Self.referee(path, channels: channels, label: label)

                // Every frame decodes to 1152 samples; past the delay the input fits, with less than a frame left over.
                let length = decoded.ffmpeg.count / channels
                #expect(length == encoded.frameCount * 1152, "ffmpeg length of \(label)")
                #expect(decoded.mpg123.count == decoded.ffmpeg.count, "mpg123 length of \(label)")
                let tail = length - Layer3Encoder.delay - audio.frameCount
                #expect(tail >= 0 && tail < 1152, "padding of \(label): \(tail)")

                let left = Self.channel(decoded.ffmpeg, 0, of: channels)
                if signal == .silence {
                    #expect(left.allSatisfy { $0 == 0 }, "silence decodes to silence")
                    #expect(encoded.mainDataBits == 0, "silence spends no main data")
                } else {
                    snrs.append(snrDB(reference: audio.channels[0], decoded: left, delay: Layer3Encoder.delay))
                }
            }
            if signal != .silence {
                // More bits never make it worse: a step may stand still where the
                // lowpass or the masking allowance, not the bits, limits the SNR
                // (±0.5 dB), or above 60 dB, where spare bits only deepen what is
                // already inaudible (±10 dB); over the whole range the bits buy SNR
                // (for broadband signals the lowpass keeps it low).
                let steps = zip(snrs, snrs.dropFirst())
                #expect(steps.allSatisfy { $1 >= $0 - ($0 >= 60 ? 10 : 0.5) } && snrs.last! > snrs.first!,
                        "SNR of \(signal) at \(rate) Hz, \(channels) ch by bitrate: \(snrs)")
            }
        }
    }

    /// Every MPEG-1 Layer III bitrate, mono and stereo, on pink noise.
    @Test(arguments: [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], [1, 2])
    func everyBitrateDecodes(bitrate: Int, channels: Int) throws {
        let audio = TestSignal.pinkNoise.audio(rate: 44100, channels: channels, seconds: 0.4)
        let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: bitrate))
        let exact = Double(encoded.frameCount) * 144_000 * Double(bitrate) / 44100
        #expect(abs(Double(encoded.bytes.count) - exact) < 1)
        let path = try writeTemporary(encoded.bytes, name: "pink-\(bitrate).mp3")
        let decoded = try Self.referee(path, channels: channels, label: "pink noise, \(channels) ch, \(bitrate) kbit/s")
        #expect(decoded.ffmpeg.count == encoded.frameCount * 1152 * channels)
    }

    @Test func aQuietSineKeepsSixtyDecibelsAt128k() throws {
        let audio = TestSignal.sine.audio(rate: 44100, channels: 1, seconds: 1)
        let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 128))
        let path = try writeTemporary(encoded.bytes, name: "sine.mp3")
        let decoded = try Self.referee(path, channels: 1, label: "1 kHz sine")
        let snr = snrDB(reference: audio.channels[0], decoded: decoded.ffmpeg, delay: Layer3Encoder.delay)
        #expect(snr >= 60, "SNR \(snr) dB")
    }

    @Test func theDocumentedDelayIsWhereTheInputLinesUp() throws {
        let audio = TestSignal.sweep.audio(rate: 44100, channels: 1, seconds: 0.5)
        let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 320))
        let path = try writeTemporary(encoded.bytes, name: "sweep.mp3")
        let decoded = try Self.referee(path, channels: 1, label: "sweep")
        let snrs = (-2...2).map { snrDB(reference: audio.channels[0], decoded: decoded.ffmpeg, delay: Layer3Encoder.delay + $0) }
        #expect(snrs.indices.max { snrs[$0] < snrs[$1] } == 2, "SNR around the delay: \(snrs)")
        #expect(snrs[2] > 30)
    }

    @Test func crcProtectedFramesDecode() throws {
        let audio = TestSignal.pinkNoise.audio(rate: 48000, channels: 2)
        let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 160, crc: true))
        #expect(encoded.bytes[1] == 0xFA, "protection bit cleared")
        let path = try writeTemporary(encoded.bytes, name: "crc.mp3")
        _ = try Self.referee(path, channels: 2, label: "CRC-protected pink noise")
        // mpg123 checks the CRC when asked to; a flipped bit in the protected side info must be caught.
        var damaged = encoded.bytes
        damaged[8] ^= 0x10
        let damagedPath = try writeTemporary(damaged, name: "crc-damaged.mp3")
        let check = try Referee.run("ffmpeg", ["-nostdin", "-v", "error", "-err_detect", "crccheck", "-i", damagedPath, "-f", "null", "-"])
        #expect(!check.stderr.isEmpty, "ffmpeg with CRC checking should complain about the damaged frame")
    }
}
