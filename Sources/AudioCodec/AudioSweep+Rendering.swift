import RateDistortion

extension AudioSweep: NotedTableReport {
    public var title: String {
        "\(name): \(formatFixed(Double(samples) / Double(sampleRate), decimals: 2)) s at \(sampleRate) Hz, "
            + "\(channels == 1 ? "mono" : "\(channels) channels") as coded, constant bitrates"
    }

    /// What the perceptual-entropy column is, in a sentence.
    public var perceptualEntropyNote: String {
        "perceptual entropy (Johnston, 1988): per scalefactor band, its lines × log2(1 + √(energy per line / masking "
            + "threshold per line)), summed over every band, channel and granule as coded (mid/side where the frame is), "
            + "per coded sample; the bits a quantizer needs to hold each band's noise under the model's threshold, "
            + "side information apart. It is the model's estimate, not a Shannon bound, and it moves a little with the "
            + "bitrate because the lowpass does"
    }

    public func table() -> ReportTable {
        var table = ReportTable(columns: [
            .init("bitrate", unit: "kbit/s", key: "kbps", decimals: 0),
            .init("rate", unit: "bit/sample", key: "bits_per_sample", decimals: 3),
            .init("lowpass", unit: "Hz", key: "lowpass_hz", decimals: 0),
            .init("SNR", unit: "dB", key: "snr_db", decimals: 2),
            .init("NMR mean", unit: "dB", key: "mean_nmr_db", decimals: 2),
            .init("NMR worst 1% frames", unit: "dB", key: "worst_1pct_frames_nmr_db", decimals: 2),
            .init("NMR worst frame", unit: "dB", key: "worst_frame_nmr_db", decimals: 2),
            .init("PE", unit: "bit/sample", key: "perceptual_entropy_bits_per_sample", decimals: 3),
            .init("masked", unit: "% bands", key: "masked_percent", decimals: 2),
            .init("lowpassed", unit: "% bands", key: "lowpass_percent", decimals: 2),
        ])
        for row in rows {
            table.append([
                .integer(row.kbps), .number(bitsPerSample(row)), .number(row.lowpassHz), .number(row.snrDB),
                .number(row.meanNMRDB), .number(row.worstFramesNMRDB), .number(row.worstFrameNMRDB),
                .number(perceptualEntropyPerSample(row)), .number(100 * row.maskedShare), .number(100 * row.lowpassShare),
            ])
        }
        return table
    }

    /// The lines under the table: what each figure is.
    public func notes() -> [String] {
        let tail = rows.first.map { $0.worstFrames.count } ?? 1
        return [
            "rate: bits of the whole MP3 (the Info frame included) over \(samples) samples × \(channels) channel(s) as coded.",
            "SNR: the input over the decoded output's difference from it, our decoder trimming delay and padding by the Info frame.",
            "NMR: the encoder's quantization noise against the masking threshold, per band: mean over every line of every "
                + "granule; per frame the same mean, its worst, and the mildest of the worst 1 % of the \(frameCount) frames (\(tail)).",
            "PE: \(perceptualEntropyNote).",
            "masked, lowpassed: of the bands (per granule, channel and window) with energy, the share coded as silence: "
                + "given no bits as masked, or lying above the lowpass.",
        ]
    }

    public func json() -> JSONValue {
        let summaries = table().jsonMembers()
        return .object([
            ("title", .string(title)),
            ("name", .string(name)),
            ("sample_rate", .number(Double(sampleRate))),
            ("channels", .number(Double(channels))),
            ("samples", .number(Double(samples))),
            ("frames", .number(Double(frameCount))),
            ("perceptual_entropy_note", .string(perceptualEntropyNote)),
            ("rows", .array(zip(rows, summaries).map { row, members in
                .object(members + [
                    ("file_bytes", .number(Double(row.fileBytes))),
                    ("perceptual_entropy_bits", .number(row.perceptualEntropyBits)),
                    ("bands_with_energy", .number(Double(row.bandsWithEnergy))),
                    ("zeroed_masked", .number(Double(row.zeroedMasked))),
                    ("zeroed_lowpass", .number(Double(row.zeroedLowpass))),
                    ("worst_frames", .array(row.worstFrames.map { .number(Double($0)) })),
                ])
            })),
        ])
    }

    /// SNR and mean NMR against rate, the worst frame's NMR as a tail above the mean.
    public func plot() -> SVGPlot {
        let sorted = rows.sorted { bitsPerSample($0) < bitsPerSample($1) }
        func series(_ value: (Row) -> Double) -> [(x: Double, y: Double)] { sorted.map { (bitsPerSample($0), value($0)) } }
        var plot = SVGPlot(title: "\(name): our MP3 encoder at constant bitrates", xLabel: "rate (bits per sample)",
                           yLabel: "dB")
        plot.series.append(.init(name: "SNR", points: series(\.snrDB), style: .measured,
                                 labels: sorted.map { "\($0.kbps)k" }))
        plot.series.append(.init(name: "NMR mean", points: series(\.meanNMRDB), style: .measured))
        plot.series.append(.init(name: "NMR worst frame", points: series(\.worstFrameNMRDB), style: .tail))
        return plot
    }
}
