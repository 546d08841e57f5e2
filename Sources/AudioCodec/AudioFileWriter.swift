import CSndFile

/// Writes PCM through libsndfile as WAV: 16-bit integer or 32-bit float.
public enum AudioFileWriter {
    public enum SampleFormat: Sendable {
        case pcm16, float32
    }

    public static func write(_ audio: PCMAudio, to path: String, format: SampleFormat = .pcm16) throws(AudioFileError) {
        var info = SF_INFO()
        info.samplerate = Int32(audio.sampleRate)
        info.channels = Int32(audio.channels.count)
        info.format = Int32(SF_FORMAT_WAV) | (format == .pcm16 ? Int32(SF_FORMAT_PCM_16) : Int32(SF_FORMAT_FLOAT))
        guard let file = sf_open(path, Int32(SFM_WRITE), &info) else {
            throw .cannotWrite(path: path, reason: String(cString: sf_strerror(nil)))
        }
        defer { sf_close(file) }
        // Clip rather than wrap when a float sample exceeds full scale in 16-bit output.
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
