import ArgumentParser
import AudioCodec
import Foundation
import RateDistortion

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time lossy against its peers in the same run; report medians and ratios.",
        subcommands: [BenchEncode.self, BenchDecode.self, BenchQuantize.self, BenchMemory.self]
    )
}

/// What every benchmark takes: the material, the runs, the bitrate.
struct BenchOptions: ParsableArguments {
    @Option(help: "Length of the generated stereo 44.1 kHz signal in seconds.")
    var seconds = 180.0

    @Option(help: "Timed runs per coder (the median is reported).")
    var runs = 3

    @Option(help: "Bitrate in kbit/s of the MP3s.")
    var bitrate = 128

    func validate() throws {
        guard seconds.isFinite, (1...3600).contains(seconds) else {
            throw ValidationError("--seconds must be 1–3600, got \(formatNumber(seconds))")
        }
        guard (1...50).contains(runs) else { throw ValidationError("--runs must be 1–50, got \(runs)") }
    }

    /// A new temporary folder holding the benchmark material as `input.wav` (16-bit).
    func makeMaterial() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AudioFileWriter.write(benchmarkSignal(seconds: seconds), to: folder.appendingPathComponent("input.wav").path)
        return folder
    }
}

/// The middle of the sorted times (the upper middle for an even count).
func median(_ times: [Double]) -> Double { times.sorted()[times.count / 2] }

struct BenchEncode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode a generated stereo 44.1 kHz signal with lossy and with `lame -b K` (or both at -V Q), alternating runs.",
        discussion: """
            Both sides read the same 16-bit WAV and write an MP3 to a temporary folder, so file \
            reading and writing are timed on both. Needs lame on the PATH.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: ArgumentHelp("Time variable bitrate instead: lossy --vbr Q against lame -V Q.", valueName: "quality"))
    var vbr: Int?

    /// lame's flags for the same setting: its default quality mode at that bitrate or -V level.
    private var peerFlags: [String] { vbr.map { ["-V", String($0)] } ?? ["-b", String(options.bitrate)] }

    func validate() throws {
        if let vbr, !(0...9).contains(vbr) { throw ValidationError("--vbr must be 0…9, got \(vbr)") }
    }

    func run() throws {
        guard let lame = executablePath("lame") else {
            throw ValidationError("lame is not installed: the peer must run in the same benchmark (apt-get install lame)")
        }
        let folder = try options.makeMaterial()
        defer { try? FileManager.default.removeItem(at: folder) }
        let wave = folder.appendingPathComponent("input.wav").path

        var ours = [Double](), theirs = [Double]()
        // Processor time, user and system: lossy's analysis and planning run on threads of their own, lame on one.
        var oursCPU = [Double](), theirsCPU = [Double]()
        var sizes = (ours: 0, theirs: 0)
        for _ in 0..<options.runs {
            let clock = ContinuousClock()
            let start = clock.now
            let startCPU = processorSeconds(RUSAGE_SELF.rawValue)
            let audio = try AudioFileReader.read(path: wave)
            let rate: RateControl = vbr.map { .variable(quality: $0) } ?? .constant(options.bitrate)
            let encoded = try Layer3Encoder.encode(audio, settings: EncoderSettings(rate: rate))
            try Data(encoded.bytes).write(to: folder.appendingPathComponent("lossy.mp3"))
            ours.append(elapsed(clock.now - start))
            oursCPU.append(processorSeconds(RUSAGE_SELF.rawValue) - startCPU)
            sizes.ours = encoded.bytes.count

            let peer = clock.now
            let peerCPU = processorSeconds(RUSAGE_CHILDREN.rawValue)
            try runTool(lame, ["--quiet"] + peerFlags + [wave, folder.appendingPathComponent("lame.mp3").path])
            theirs.append(elapsed(clock.now - peer))
            theirsCPU.append(processorSeconds(RUSAGE_CHILDREN.rawValue) - peerCPU)
            sizes.theirs = (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("lame.mp3").path)[.size] as? Int) ?? 0
        }
        var table = ReportTable(columns: [
            .init("encoder", key: "encoder"),
            .init("median", unit: "s", key: "median_seconds", decimals: 3),
            .init("fastest", unit: "s", key: "min_seconds", decimals: 3),
            .init("speed", unit: "× realtime", key: "realtime_factor", decimals: 1),
            .init("processor", unit: "s", key: "median_cpu_seconds", decimals: 3),
            .init("output", unit: "bytes", key: "bytes", decimals: 0),
        ])
        for (name, times, cpu, bytes) in [("lossy", ours, oursCPU, sizes.ours),
                                          ("lame " + peerFlags.joined(separator: " "), theirs, theirsCPU, sizes.theirs)] {
            table.append([.text(name), .number(median(times)), .number(times.min()!),
                          .number(options.seconds / median(times)), .number(median(cpu)), .integer(bytes)])
        }
        let ratio = median(ours) / median(theirs)
        let setting = vbr.map { "VBR quality \($0)" } ?? "\(options.bitrate) kbit/s"
        print("Encoding \(formatFixed(options.seconds, decimals: 0)) s of stereo 44.1 kHz at \(setting), \(options.runs) runs each\n")
        print(table.text())
        print("lossy takes \(formatFixed(ratio, decimals: 2))× lame's time (median over median), "
              + "\(formatFixed(median(oursCPU) / median(theirsCPU), decimals: 2))× its processor time")
    }
}

/// Music-like test material: a slow chord progression of harmonic tones with
/// a little vibrato over quiet pink noise, different in each channel.
func benchmarkSignal(seconds: Double, sampleRate: Int = 44100) -> PCMAudio {
    let count = Int(seconds * Double(sampleRate))
    let chords: [[Double]] = [[220, 277.18, 329.63], [196, 246.94, 293.66], [174.61, 220, 261.63], [164.81, 207.65, 246.94]]
    let channels = (0..<2).map { channel -> [Float] in
        var seed = UInt64(12345 + channel)
        var pink = (0.0, 0.0, 0.0)
        return (0..<count).map { n in
            let t = Double(n) / Double(sampleRate)
            let chord = chords[Int(t / 2) % chords.count]
            var x = 0.0
            for (k, f) in chord.enumerated() {
                let vibrato = 1 + 0.003 * sin(2 * Double.pi * 5 * t + Double(k + channel))
                for harmonic in 1...4 {
                    x += 0.05 / Double(harmonic) * sin(2 * Double.pi * f * Double(harmonic) * vibrato * t)
                }
            }
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let white = Double(seed >> 11) / Double(1 << 53) * 2 - 1
            pink.0 = 0.99765 * pink.0 + white * 0.0990460
            pink.1 = 0.96300 * pink.1 + white * 0.2965164
            pink.2 = 0.57000 * pink.2 + white * 1.0526913
            return Float(x + 0.02 * (pink.0 + pink.1 + pink.2 + white * 0.1848))
        }
    }
    return PCMAudio(sampleRate: sampleRate, channels: channels)
}

func executablePath(_ tool: String) -> String? {
    let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    return folders.map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

struct BenchDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode one lame-encoded file with lossy, mpg123 and ffmpeg, alternating runs.",
        discussion: """
            The file is lame -b K of the generated signal. Each decoder reads the MP3 and writes \
            float PCM (lossy and mpg123 to a WAV file, ffmpeg to raw floats). Needs lame, mpg123 and ffmpeg.
            """
    )

    @OptionGroup var options: BenchOptions

    func run() throws {
        let tools = ["lame", "mpg123", "ffmpeg"].map { ($0, executablePath($0)) }
        if let missing = tools.first(where: { $0.1 == nil }) {
            throw ValidationError("\(missing.0) is not installed: the peers must run in the same benchmark")
        }
        let path = Dictionary(uniqueKeysWithValues: tools.map { ($0.0, $0.1!) })
        let folder = try options.makeMaterial()
        defer { try? FileManager.default.removeItem(at: folder) }
        let wave = folder.appendingPathComponent("input.wav").path
        let mp3 = folder.appendingPathComponent("input.mp3").path
        try runTool(path["lame"]!, ["--quiet", "-b", String(options.bitrate), wave, mp3])

        let peers: [(String, String, [String])] = [
            ("mpg123", path["mpg123"]!, ["-q", "-e", "f32", "-w", folder.appendingPathComponent("mpg123.wav").path, mp3]),
            ("ffmpeg", path["ffmpeg"]!, ["-nostdin", "-v", "error", "-y", "-i", mp3, "-f", "f32le", folder.appendingPathComponent("ffmpeg.raw").path]),
        ]
        var times = [String: [Double]]()
        let clock = ContinuousClock()
        for _ in 0..<options.runs {
            let start = clock.now
            let decoded = try Layer3Decoder.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: mp3))))
            try AudioFileWriter.write(decoded.audio, to: folder.appendingPathComponent("lossy.wav").path, format: .float32)
            times["lossy", default: []].append(elapsed(clock.now - start))
            for (name, tool, arguments) in peers {
                let peerStart = clock.now
                try runTool(tool, arguments)
                times[name, default: []].append(elapsed(clock.now - peerStart))
            }
        }
        var table = ReportTable(columns: [
            .init("decoder", key: "decoder"),
            .init("median", unit: "s", key: "median_seconds", decimals: 3),
            .init("fastest", unit: "s", key: "min_seconds", decimals: 3),
            .init("speed", unit: "× realtime", key: "realtime_factor", decimals: 1),
            .init("lossy's time", unit: "×", key: "ratio", decimals: 2),
        ])
        for name in ["lossy", "mpg123", "ffmpeg"] {
            let mid = median(times[name]!)
            table.append([.text(name), .number(mid), .number(times[name]!.min()!),
                          .number(options.seconds / mid), .number(median(times["lossy"]!) / mid)])
        }
        print("Decoding \(formatFixed(options.seconds, decimals: 0)) s of stereo 44.1 kHz, lame -b \(options.bitrate), \(options.runs) runs each\n")
        print(table.text(), terminator: "")
    }
}

private func runTool(_ tool: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ValidationError("\(URL(fileURLWithPath: tool).lastPathComponent) failed with status \(process.terminationStatus)")
    }
}

/// User and system processor seconds of this process (`RUSAGE_SELF`, every
/// thread) or of its finished children (`RUSAGE_CHILDREN`).
private func processorSeconds(_ who: Int32) -> Double {
    var usage = rusage()
    getrusage(who, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

private func elapsed(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}
