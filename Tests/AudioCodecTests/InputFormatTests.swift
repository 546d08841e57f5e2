import AudioCodec
import Foundation
import Testing

/// The encoder takes what libsndfile reads: WAV, FLAC and AIFF, 8 to 32-bit
/// integer and float, mono and stereo.
struct InputFormatTests {
    static let combinations: [(AudioFileWriter.Container, AudioFileWriter.SampleFormat)] = [
        (.wav, .pcm8), (.wav, .pcm16), (.wav, .pcm24), (.wav, .pcm32), (.wav, .float32),
        (.flac, .pcm8), (.flac, .pcm16), (.flac, .pcm24),
        (.aiff, .pcm8), (.aiff, .pcm16), (.aiff, .pcm24), (.aiff, .pcm32), (.aiff, .float32),
    ]

    @Test(arguments: combinations)
    func everyFormatReadsBackAndEncodes(container: AudioFileWriter.Container, format: AudioFileWriter.SampleFormat) throws {
        let original = TestSignal.sweep.audio(rate: 48000, channels: 2, seconds: 0.1)
        let path = try temporaryFile("input.\(container.rawValue)", Data())
        try AudioFileWriter.write(original, to: path, container: container, format: format)
        let read = try AudioFileReader.read(path: path)
        #expect(read.sampleRate == 48000 && read.channels.count == 2 && read.frameCount == original.frameCount)
        // Within half a step of the format's resolution.
        let step: Float = switch format {
        case .pcm8: 1.0 / 128
        case .pcm16: 1.0 / 32768
        case .pcm24: 1.0 / 8_388_608
        case .pcm32, .float32: 1e-7
        }
        for c in 0..<2 {
            let worst = zip(read.channels[c], original.channels[c]).map { abs($0 - $1) }.max()!
            #expect(worst <= step, "\(container) \(format): worst error \(worst)")
        }
        let encoded = try Layer3Encoder.encode(read, settings: EncoderSettings(bitrate: 128))
        #expect(encoded.frameCount == (read.frameCount + Layer3Encoder.delay + 1151) / 1152)
    }

    @Test(arguments: [8000, 22050, 96000])
    func otherRatesAreRefusedWithTheList(rate: Int) {
        let audio = TestSignal.sine.audio(rate: rate, channels: 1, seconds: 0.05)
        #expect(throws: EncoderError.unsupportedSampleRate(rate)) {
            try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 128))
        }
        #expect("\(EncoderError.unsupportedSampleRate(rate))".contains("32000, 44100 or 48000 Hz"))
    }

    @Test func moreThanTwoChannelsAreRefused() {
        let audio = PCMAudio(sampleRate: 44100, channels: [[Float]](repeating: [0, 0], count: 3))
        #expect(throws: EncoderError.unsupportedChannelCount(3)) {
            try Layer3Encoder.encode(audio, settings: EncoderSettings(bitrate: 128))
        }
    }
}
