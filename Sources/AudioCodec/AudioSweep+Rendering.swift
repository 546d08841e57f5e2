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

    /// What the bound column is, in a sentence.
    public var boundNote: String {
        "Gaussian reverse water-filling over every scalefactor band of every granule as coded, each a Gaussian of "
            + "variance its energy per line before the lowpass, judged against its masking threshold; the bits it needs "
            + "for the encoder's own noise-to-mask distortion (Σ lines × noise / threshold, the lowpass's removal "
            + "counted), per coded sample. It charges nothing for side information and knows every band's variance for "
            + "free; real spectra are not Gaussian, so the gap is a distance to a yardstick, not a proof"
    }

    public func table() -> ReportTable {
        var table = ReportTable(columns: [
            .init("bitrate", unit: "kbit/s", key: "kbps", decimals: 0),
            .init("rate", unit: "bit/sample", key: "bits_per_sample", decimals: 3),
            .init("lowpass", unit: "Hz", key: "lowpass_hz", decimals: 0),
            .init("SNR", unit: "dB", key: "snr_db", decimals: 2),
            .init("SNR worst 1% frames", unit: "dB", key: "worst_1pct_frames_snr_db", decimals: 2),
            .init("NMR mean", unit: "dB", key: "mean_nmr_db", decimals: 2),
            .init("NMR worst 1% frames", unit: "dB", key: "worst_1pct_frames_nmr_db", decimals: 2),
            .init("NMR worst frame", unit: "dB", key: "worst_frame_nmr_db", decimals: 2),
            .init("PE", unit: "bit/sample", key: "perceptual_entropy_bits_per_sample", decimals: 3),
            .init("bound rate", unit: "bit/sample", key: "bound_bits_per_sample", decimals: 3),
            .init("gap", unit: "bit/sample", key: "gap_bits", decimals: 3),
            .init("masked", unit: "% bands", key: "masked_percent", decimals: 2),
            .init("lowpassed", unit: "% bands", key: "lowpass_percent", decimals: 2),
        ])
        for row in rows {
            table.append([
                .integer(row.kbps), .number(bitsPerSample(row)), .number(row.lowpassHz), .number(row.snrDB),
                .number(row.worstFramesSNRDB), .number(row.meanNMRDB), .number(row.worstFramesNMRDB),
                .number(row.worstFrameNMRDB), .number(perceptualEntropyPerSample(row)), .number(boundRate(row)),
                .number(bitsPerSample(row) - boundRate(row)), .number(100 * row.maskedShare), .number(100 * row.lowpassShare),
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
            "SNR worst 1% frames: per frame, its lines' energy as coded over their noise (what the lowpass removed counted "
                + "as noise), the mildest of the worst 1 % of frames with energy.",
            "bound: \(boundNote).",
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
            ("bound_note", .string(boundNote)),
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
        plot.series.append(.init(name: "SNR bound", points: signalBoundCurve().map { ($0.rate, $0.snrDB) },
                                 style: .bound(shadeAbove: true)))
        plot.series.append(.init(name: "SNR", points: series(\.snrDB), style: .measured,
                                 labels: sorted.map { "\($0.kbps)k" }))
        plot.series.append(.init(name: "NMR mean", points: series(\.meanNMRDB), style: .measured))
        plot.series.append(.init(name: "NMR worst frame", points: series(\.worstFrameNMRDB), style: .tail))
        return plot
    }
}

extension AudioSweep {
    /// The constant bitrate for a budget in bits per coded sample: the
    /// highest whose nominal rate stays within it, else the lowest.
    public static func bitrate(forBudget bits: Double, sampleRate: Int, codedChannels: Int) -> Int {
        bitrates.last { nominalRate(kbps: $0, sampleRate: sampleRate, codedChannels: codedChannels) <= bits } ?? bitrates[0]
    }

    /// A constant bitrate's bits per coded sample, headers and side information included.
    public static func nominalRate(kbps: Int, sampleRate: Int, codedChannels: Int) -> Double {
        Double(kbps * 1000) / Double(sampleRate * codedChannels)
    }

    /// The encoder at each budget, as one domain of a side-by-side comparison.
    public static func comparisonDomain(
        _ audio: PCMAudio, name: String, budgets: [Double], progress: (Int, Int, Int) -> Void = { _, _, _ in }
    ) throws -> CompressionComparison.Domain {
        let chosen = budgets.map {
            bitrate(forBudget: $0, sampleRate: audio.sampleRate, codedChannels: audio.channels.count == 1 ? 1 : 2)
        }
        var distinct = [Int]()
        for kbps in chosen where !distinct.contains(kbps) { distinct.append(kbps) }
        let sweep = try run(audio, name: name, bitrates: distinct, progress: progress)
        let rows = zip(budgets, chosen).map { budget, kbps in
            sweep.comparisonRow(sweep.rows[distinct.firstIndex(of: kbps) ?? 0], budget: budget)
        }
        return CompressionComparison.Domain(
            name: "audio", subject: name, coefficient: "sample",
            notes: [
                "our MP3 encoder at the highest constant bitrate within each budget (\(bitrates[0])–\(bitrates[bitrates.count - 1]) kbit/s; "
                    + "\(sweep.sampleRate) Hz × \(sweep.channels) channel(s) as coded); rate: the whole file over the input's samples.",
                "SNR: the decoded output against the input; worst 1%: per frame, lines as coded, the mildest of the worst 1 % of frames.",
                "NMR: the encoder's noise over the masking threshold, mean over every line, and the worst 1 % of frames.",
                "bound (gap): \(sweep.boundNote); on the plot, the same bands with tolerance 1 (the bound on plain SNR).",
                "partitions zeroed: bands (per granule, channel and window) with energy coded as silence, masked or above the lowpass; zeroed: lines with energy coded as zero; where: the long-block bands most often silent (masked or above the lowpass).",
            ],
            rows: rows, boundCurve: sweep.signalBoundCurve())
    }

    /// A row as the comparison shows it.
    func comparisonRow(_ row: Row, budget: Double) -> CompressionComparison.Row {
        let lost = row.mostZeroed.map {
            "\(formatFixed($0.lowHz / 1000, decimals: 1))–\(formatFixed($0.highHz / 1000, decimals: 1)) kHz "
                + "\(formatFixed(100 * $0.share, decimals: 0)) %"
        }
        return CompressionComparison.Row(
            budget: budget, setting: "\(row.kbps) kbit/s", label: "\(row.kbps)k",
            fits: Self.nominalRate(kbps: row.kbps, sampleRate: sampleRate, codedChannels: channels) <= budget, rate: bitsPerSample(row), snrDB: row.snrDB,
            worstSNRDB: row.worstFramesSNRDB,
            measures: [
                .init(.init("NMR mean", unit: "dB", key: "nmr_mean_db", decimals: 2), row.meanNMRDB),
                .init(.init("NMR worst 1% frames", unit: "dB", key: "nmr_worst_1pct_frames_db", decimals: 2), row.worstFramesNMRDB),
            ],
            boundRate: boundRate(row), zeroedPartitionShare: row.maskedShare + row.lowpassShare, zeroedShare: row.zeroedLineShare, zeroedEnergyShare: row.zeroedEnergyShare,
            boundZeroedShare: row.boundZeroedShare, whereLost: lost.isEmpty ? "nothing" : lost.joined(separator: ", "))
    }
}
