import ArgumentParser
import AudioCodec
import Foundation
import RateDistortion
import WeightCodec

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Our MP3 encoder and our weight quantizer side by side at the same bits per sample / per weight.",
        discussion: """
            For each budget in --bits, one row per domain. Audio: the highest constant bitrate whose \
            nominal rate is within the budget (per sample of each channel as coded; 32–320 kbit/s, so \
            budgets beyond 320 kbit/s take 320), encoded, decoded and measured as `lossy sweep audio` \
            does. Weights: the allocator's mix of block formats within the budget over every weight, as \
            `lossy quantize --target-bpw` picks it (the smallest formats where none fits), each \
            tensor's menu measured once on an even sample of its rows, from --formats. A model \
            converted from a quantized file (SmolLM2 from its Q4_1) sits on that format's grid: \
            that format rebuilds it almost exactly, beating any Gaussian yardstick, so leave it out \
            (--formats without Q4_1, Q5_1) to see what quantizing continuous weights costs.

            Per row: the rate spent (side information, headers and block scales counted); SNR and the \
            SNR of the worst 1 % (audio frames; weight groups of 32); the domain's own figures (audio: \
            NMR mean and worst 1 % of frames; weights: the weighted MSE, and KL mean and p99.9 with \
            --text); the bound's rate at the distortion the codec minimises (reverse water-filling: \
            over scalefactor bands against their masking thresholds; over 32-weight groups against \
            their importance) and the gap to it; the share of coefficients coded as zero and of their \
            energy, the share the bound would give no bits, and where the loss went. The plot puts both \
            on the same axes: SNR in dB against bits per coefficient, each bound shaded, each tail dotted.
            """
    )

    @Option(help: ArgumentHelp("The audio (WAV, FLAC, AIFF; 32000, 44100 or 48000 Hz).", valueName: "in.wav"))
    var audio: String

    @Option(help: ArgumentHelp("The model (GGUF; safetensors as `lossy quantize` reads them, without --text).", valueName: "model.gguf"))
    var weights: String

    @Option(help: ArgumentHelp("Budgets in bits per sample and per weight, comma-separated, each in (0, 16].", valueName: "list"))
    var bits = NumberList(argument: "2,3,4,5,6,8")!

    @Option(help: ArgumentHelp("Importance matrix for the weights (llama.cpp's GGUF imatrix or legacy .dat).", valueName: "file"))
    var imatrix: String?

    @Option(help: ArgumentHelp("Formats the weights' allocator may choose from (comma-separated).", valueName: "list"))
    var formats: String = FormatAllocator.defaultCandidates.map(\.name).joined(separator: ",")

    @Option(help: ArgumentHelp("Also run each budget's model through llama.cpp on this text (UTF-8) for KL divergence.",
                               valueName: "file"))
    var text: String?

    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard bits.values.allSatisfy({ $0 > 0 && $0 <= 16 }) else {
            throw ValidationError("--bits must each be in (0, 16] bits per coefficient, got \(bits.defaultValueDescription)")
        }
        if Set(bits.values).count != bits.values.count { throw ValidationError("--bits names a budget twice") }
        _ = try Quantize.candidates(formats)
        try requireReadable([audio, weights] + [imatrix, text].compactMap { $0 })
        if text != nil, !((try? ModelSource.isGGUF(weights)) ?? false) {
            throw ValidationError("--text runs llama.cpp on the input as the reference: \(weights) must be a GGUF file")
        }
    }

    func run() throws {
        let budgets = bits.values
        let progress = ProgressLine()
        let pcm = try AudioFileReader.read(path: audio)
        let importance = try imatrix.map { try ImportanceMatrix.load(path: $0) }
        let source = try ModelSource.open(weights)
        let audioDomain = try AudioSweep.comparisonDomain(
            pcm, name: URL(fileURLWithPath: audio).lastPathComponent, budgets: budgets
        ) { position, count, kbps in progress.show("encoding [\(position + 1)/\(count)] \(kbps) kbit/s") }
        let candidates = try Quantize.candidates(formats)
        var sweep = try BudgetSweep.run(source: source, budgets: budgets, importance: importance,
                                        candidates: candidates) { index, name in
            progress.show("measuring [\(index + 1)/\(source.tensors.count)] \(name)")
        }
        if let text {
            try sweep.measureDivergence(reference: weights, source: source, importance: importance, textPath: text,
                                        progress: progress.show)
        }
        progress.clear()
        try report.emit(CompressionComparison(budgets: budgets, domains: [audioDomain, sweep.comparisonDomain()]))
    }
}
