import CSndFile

/// Writes PCM through libsndfile.
public enum AudioFileWriter {
    public enum Container: String, Sendable, CaseIterable {
        case wav, flac, aiff
        var code: Int32 {
            switch self {
            case .wav: return Int32(SF_FORMAT_WAV)
            case .flac: return Int32(SF_FORMAT_FLAC)
            case .aiff: return Int32(SF_FORMAT_AIFF)
            }
        }
    }

    public enum SampleFormat: String, Sendable, CaseIterable {
        case pcm8, pcm16, pcm24, pcm32, float32
        var code: Int32 {
            switch self {
            case .pcm8: return Int32(SF_FORMAT_PCM_S8)
            case .pcm16: return Int32(SF_FORMAT_PCM_16)
            case .pcm24: return Int32(SF_FORMAT_PCM_24)
            case .pcm32: return Int32(SF_FORMAT_PCM_32)
            case .float32: return Int32(SF_FORMAT_FLOAT)
            }
        }
    }

    public static func write(_ audio: PCMAudio, to path: String, container: Container = .wav,
                             format: SampleFormat = .pcm16) throws(AudioFileError) {
        var info = SF_INFO()
        info.samplerate = Int32(audio.sampleRate)
        info.channels = Int32(audio.channels.count)
        // WAV stores 8-bit samples unsigned; libsndfile names that U8.
        let sample = container == .wav && format == .pcm8 ? Int32(SF_FORMAT_PCM_U8) : format.code
        info.format = container.code | sample
        guard sf_format_check(&info) == SF_TRUE else {
            throw .cannotWrite(path: path, reason: "\(container.rawValue) cannot hold \(format.rawValue) samples")
        }
        guard let file = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw .cannotWrite(path: path, reason: String(cString: sf_strerror(nil)))
        }
        defer { sf_close(file) }
        // Clip rather than wrap when a float sample exceeds full scale in integer output.
        sf_command(file, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
        let channels = audio.channels.count
        let chunk = 1 << 14
        var interleaved = [Float](repeating: 0, count: chunk * channels)
        var start = 0
        while start < audio.frameCount {
            let count = min(chunk, audio.frameCount - start)
            for n in 0..<count {
                for c in 0..<channels { interleaved[n * channels + c] = audio.channels[c][start + n] }
            }
            let written = interleaved.withUnsafeBufferPointer { sf_writef_float(file, $0.baseAddress, sf_count_t(count)) }
            guard written == count else {
                throw .cannotWrite(path: path, reason: String(cString: sf_strerror(file)))
            }
            start += count
        }
    }
}
