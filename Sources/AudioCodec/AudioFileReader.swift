import CSndFile

/// Why an audio file could not be read, with the numbers.
public enum AudioFileError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case noAudio(path: String)
    case tooLong(path: String, samples: Int, limit: Int)
    case readFailed(path: String, reason: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot read audio from \(path): \(reason)"
        case let .noAudio(path): return "\(path) holds no audio frames"
        case let .tooLong(path, samples, limit):
            return "\(path) has more than \(limit) samples (\(samples) read so far); split it first"
        case let .readFailed(path, reason): return "reading \(path) failed: \(reason)"
        case let .cannotWrite(path, reason): return "cannot write audio to \(path): \(reason)"
        }
    }
}

/// Reads any format libsndfile knows (WAV, FLAC, AIFF, …) into float PCM.
///
/// The header's frame count is never trusted for allocation: samples are
/// read in fixed chunks and appended, so a file that claims 2³² frames
/// costs only what it really holds.
public enum AudioFileReader {
    /// Samples per channel times channels beyond which a file is refused
    /// (4 GiB of floats; a 3-hour 48 kHz stereo file is 1 G samples).
    public static let sampleLimit = 1 << 30
    private static let chunkFrames = 1 << 14

    public static func read(path: String) throws(AudioFileError) -> PCMAudio {
        if let problem = RIFFListCheck.problem(in: path) { throw .cannotOpen(path: path, reason: problem) }
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else {
            throw .cannotOpen(path: path, reason: String(cString: sf_strerror(nil)))
        }
        defer { sf_close(file) }
        let channelCount = Int(info.channels)
        guard channelCount > 0, info.samplerate > 0 else {
            throw .cannotOpen(path: path, reason: "header gives \(channelCount) channels at \(info.samplerate) Hz")
        }

        var interleaved = [Float]()
        var chunk = [Float](repeating: 0, count: chunkFrames * channelCount)
        while true {
            let got = chunk.withUnsafeMutableBufferPointer { buffer in
                Int(sf_readf_float(file, buffer.baseAddress, sf_count_t(chunkFrames)))
            }
            if got <= 0 { break }
            guard interleaved.count + got * channelCount <= sampleLimit else {
                throw .tooLong(path: path, samples: interleaved.count + got * channelCount, limit: sampleLimit)
            }
            interleaved.append(contentsOf: chunk[0..<(got * channelCount)])
        }
        if sf_error(file) != 0 {
            throw .readFailed(path: path, reason: String(cString: sf_strerror(file)))
        }
        guard !interleaved.isEmpty else { throw .noAudio(path: path) }

        let frames = interleaved.count / channelCount
        let planar = (0..<channelCount).map { c in
            (0..<frames).map { interleaved[$0 * channelCount + c] }
        }
        return PCMAudio(sampleRate: Int(info.samplerate), channels: planar,
                        formatDescription: describe(format: info.format))
    }

    /// libsndfile's own names for the container and the sample encoding.
    private static func describe(format: Int32) -> String {
        func name(_ code: Int32, _ command: Int32) -> String? {
            var formatInfo = SF_FORMAT_INFO()
            formatInfo.format = code
            let status = sf_command(nil, command, &formatInfo, Int32(MemoryLayout<SF_FORMAT_INFO>.size))
            guard status == 0, let cName = formatInfo.name else { return nil }
            return String(cString: cName)
        }
        let major = name(format & Int32(SF_FORMAT_TYPEMASK), Int32(SFC_GET_FORMAT_MAJOR))
            ?? name(format & Int32(SF_FORMAT_TYPEMASK), Int32(SFC_GET_FORMAT_INFO))
        let sub = name(format & Int32(SF_FORMAT_SUBMASK), Int32(SFC_GET_FORMAT_INFO))
        return [major, sub].compactMap { $0 }.joined(separator: ", ")
    }
}
