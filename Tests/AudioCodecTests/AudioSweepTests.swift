@testable import AudioCodec
import Foundation
import Testing

/// `AudioSweep` on two seconds of a tone in white noise, mono, 44.1 kHz.
struct AudioSweepTests {
    static let audio: PCMAudio = {
        let rate = 44100, count = 2 * rate
        let tone = TestSignal.sine.samples(count: count, rate: rate, channel: 0)
        let noise = TestSignal.whiteNoise.samples(count: count, rate: rate, channel: 0)
        return PCMAudio(sampleRate: rate, channels: [zip(tone, noise).map { $0 + 0.1 * $1 }])
    }()

    static let sweep = Result { try AudioSweep.run(audio, name: "tone+noise", bitrates: [32, 64, 128, 320]) }

    @Test func ratesSNRTailsAndDiscardsOrder() throws {
        let sweep = try Self.sweep.get()
        #expect(sweep.rows.map(\.kbps) == [32, 64, 128, 320])
        #expect(sweep.channels == 1 && sweep.codedSamples == Self.audio.frameCount)
        for (low, high) in zip(sweep.rows, sweep.rows.dropFirst()) {
            #expect(sweep.bitsPerSample(low) < sweep.bitsPerSample(high))
            #expect(low.snrDB < high.snrDB, "SNR \(low.snrDB) dB at \(low.kbps) ≥ \(high.snrDB) dB at \(high.kbps)")
            #expect(low.meanNMRDB > high.meanNMRDB, "NMR \(low.meanNMRDB) dB at \(low.kbps) ≤ \(high.meanNMRDB) dB at \(high.kbps)")
        }
        // White noise reaches Nyquist: the lower the lowpass, the more bands it removes whole (non-strictly:
        // a lowpass inside the last band, from 16 kHz up, removes none).
        let first = sweep.rows.first!, last = sweep.rows.last!
        #expect(first.lowpassHz < last.lowpassHz)
        #expect(first.lowpassShare > 0, "a 32 kbit/s lowpass removes the bands above it")
        for (low, high) in zip(sweep.rows, sweep.rows.dropFirst()) {
            #expect(low.lowpassShare >= high.lowpassShare, "lowpassed at \(low.kbps) < at \(high.kbps)")
        }
        for row in sweep.rows {
            #expect(row.zeroedMasked + row.zeroedLowpass <= row.bandsWithEnergy)
            #expect(row.worstFrameNMRDB >= row.meanNMRDB)
            #expect(row.worstFrameNMRDB >= row.worstFramesNMRDB)
            // The bounds: what the encoder spent never beats reverse water-filling at its own distortion.
            #expect(sweep.boundRate(row) > 0 && sweep.boundRate(row) < sweep.bitsPerSample(row), "\(row.kbps)")
            #expect((0...1).contains(row.boundZeroedShare) && (0...1).contains(row.zeroedEnergyShare))
            let curve = sweep.signalBoundCurve()
            let above = try #require(curve.first { $0.rate >= sweep.bitsPerSample(row) })
            #expect(above.snrDB >= row.snrDB, "\(row.kbps) kbit/s: SNR \(row.snrDB) dB beyond the bound's \(above.snrDB)")
            // White noise is alike in every frame: the worst 1 % sit within a few dB of the whole file's SNR.
            #expect(row.worstFramesSNRDB <= row.snrDB + 1 && row.worstFramesSNRDB > row.snrDB - 10,
                    "\(row.kbps) kbit/s: worst 1 % of frames \(row.worstFramesSNRDB) dB, whole file \(row.snrDB) dB")
        }
        for (low, high) in zip(sweep.rows, sweep.rows.dropFirst()) {
            #expect(low.zeroedEnergyShare >= high.zeroedEnergyShare, "energy zeroed at \(low.kbps) < at \(high.kbps)")
            #expect(low.zeroedLineShare >= high.zeroedLineShare)
        }
    }

    /// The sweep's figures are those of `lossy encode`'s own path: the same
    /// bytes, the same analysis, and the SNR of the ghost.
    @Test func aRowIsWhatTheEncoderAndTheGhostSay() throws {
        let row = try #require(try Self.sweep.get().rows.first { $0.kbps == 128 })
        var settings = EncoderSettings(bitrate: 128)
        settings.analysis = true
        let encoded = try Layer3Encoder.encode(Self.audio, settings: settings)
        let analysis = try #require(encoded.analysis)
        #expect(row.fileBytes == encoded.bytes.count)
        #expect(row.meanNMRDB == analysis.nmr.meanDB)
        #expect(row.worstFrameNMRDB == analysis.frames.map(\.meanNMRDB).max())
        #expect(row.zeroedMasked == analysis.zeroedMasked && row.zeroedLowpass == analysis.zeroedLowpass)
        #expect(row.perceptualEntropyBits == encoded.perceptualEntropy.reduce(0, +))
        let decoded = try Layer3Decoder.decode(encoded.bytes).audio
        #expect(decoded.frameCount == Self.audio.frameCount, "the decoder trims to the input's length")
        #expect(row.snrDB == Ghost(input: Self.audio, decoded: decoded).decibelsBelowInput)
    }

    /// The ghost's picture: above a 32 kbit/s lowpass the ghost is the input
    /// itself (all of it discarded); at 320 kbit/s, in the bands that carry
    /// the noise, it sits well below the input.
    @Test func theGhostSpectrogramShowsWhatWasDiscardedWhere() throws {
        func spectrogram(_ kbps: Int) throws -> (GhostSpectrogram, Double) {
            var settings = EncoderSettings(bitrate: kbps)
            settings.analysis = true
            let encoded = try Layer3Encoder.encode(Self.audio, settings: settings)
            return (GhostSpectrogram(analysis: try #require(encoded.analysis), sampleRate: 44100), encoded.lowpassHz)
        }
        let (low, lowpass) = try spectrogram(32)
        #expect(low.bandEdgesKHz.count == 23 && low.ghostDB.count == low.columnEdges.count - 1)
        #expect(low.ghostDB.allSatisfy { $0.count == 22 })
        #expect(abs(low.columnEdges.last! - Double(low.ghostDB.count) * 1152 / 44100) < 1e-9)
        var above = 0
        for band in 0..<22 where low.bandEdgesKHz[band] * 1000 > lowpass {
            for (ghost, input) in zip(low.ghostDB, low.inputDB) where input[band] > -60 {
                #expect(abs(ghost[band] - input[band]) < 0.5, "band \(band): ghost \(ghost[band]) dB, input \(input[band]) dB")
                above += 1
            }
        }
        #expect(above > 100, "cells above the lowpass: \(above)")
        let (high, _) = try spectrogram(320)
        let middle = 10  // about 2 kHz: white noise, well under the lowpass
        let margins = zip(high.ghostDB, high.inputDB).filter { $0.1[middle] > -60 }.map { $0.1[middle] - $0.0[middle] }
        #expect(!margins.isEmpty && margins.sorted()[margins.count / 2] > 6, "median input − ghost at band 10: \(margins.sorted()[margins.count / 2])")
        let svg = high.plot(title: "ghost").svg()
        #expect(svg.components(separatedBy: "<rect").count - 1 >= high.ghostDB.count * 22 + 32)
        #expect(svg.contains(">ghost energy (dB re loudest input band)<") && svg.contains(">time (s)<"))
    }
}
