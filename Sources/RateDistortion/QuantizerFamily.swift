import RealModule

/// The core's quantizers, each with the side information a decoder needs,
/// offered to the allocator as a menu of operating choices per partition.
public enum QuantizerFamily: String, Sendable, Hashable, CaseIterable {
    /// Uniform mid-tread, ideal entropy coding of the indices; per partition
    /// a step on a ⅛-octave grid and a rounding offset (plain or dead zone).
    case uniform
    /// Offset uniform with 2^b levels, b-bit fixed-length indices, clipping
    /// range found by scale search; per partition b, minimum and step.
    case offset
    /// Lloyd–Max codebook designed for the source's density, b-bit
    /// fixed-length indices; per partition b and a scale.
    case lloydMax = "lloyd-max"

    public var displayName: String {
        switch self {
        case .uniform: return "uniform (entropy)"
        case .offset: return "offset (fixed)"
        case .lloydMax: return "lloyd-max (fixed)"
        }
    }

    /// Index bits per sample at which the menus stop.
    static let maxBitsPerSample = 8
    /// Side information, in bits: the uniform step code (one code of which
    /// means "discarded"), the bit-depth code, a half-precision parameter.
    static let stepCodeBits = 8.0, depthCodeBits = 4.0, parameterBits = 16.0

    /// The menu of ways to code one partition's values.
    func options(for values: ArraySlice<Double>, codebooks: [Int: [Double]]) -> [CodingOption] {
        let count = values.count
        let energy = values.reduce(0) { $0 + $1 * $1 }
        let rms = (energy / Double(count)).squareRoot()
        let discard = CodingOption(
            indexBits: 0, sideBits: self == .uniform ? Self.stepCodeBits : Self.depthCodeBits,
            squaredError: energy, zeroed: count)
        guard rms > 0 else { return [discard] }

        var menu = [discard]
        switch self {
        case .uniform:
            // Steps from 4·rms down by ⅛ octaves to 2⁻¹⁰·rms (about 11 bits per sample).
            for k in 0...96 {
                for offset in [0.5, 0.3] {
                    let q = UniformQuantizer(step: rms * Double.exp2(2 - Double(k) / 8), roundingOffset: offset)
                    let option = CodingOption(measuring: q, on: values, sideBits: Self.stepCodeBits,
                                              rate: EntropyRate())
                    if option.indexBits > 0 { menu.append(option) }
                }
            }
        case .offset:
            let low = values.min()!, high = values.max()!
            let reach = max(-low, high) / rms
            for bits in 1...Self.maxBitsPerSample {
                let levels = 1 << bits
                // Clip at ±c·rms for c up to the peak; keep the best fit.
                let candidates = (1...24).map { j in
                    let c = reach * Double(j) / 24
                    return OffsetUniformQuantizer(
                        spanning: halfPrecision(max(low, -c * rms)), halfPrecision(min(high, c * rms)),
                        levels: levels)
                }
                let best = ScaleSearch.best(of: candidates, on: values)
                menu.append(CodingOption(measuring: best.quantizer, on: values,
                                         sideBits: Self.depthCodeBits + 2 * Self.parameterBits,
                                         rate: FixedLengthRate(levels: levels)))
            }
        case .lloydMax:
            for bits in 1...Self.maxBitsPerSample {
                let q = CodebookQuantizer(codebook: codebooks[bits]!, scale: halfPrecision(rms))
                menu.append(CodingOption(measuring: q, on: values,
                                         sideBits: Self.depthCodeBits + Self.parameterBits,
                                         rate: FixedLengthRate(levels: 1 << bits)))
            }
        }
        return menu
    }

    /// Lloyd–Max codebooks for 2¹ … 2⁸ levels, when this family needs them.
    func codebooks(for density: SourceDensity) -> [Int: [Double]] {
        guard self == .lloydMax else { return [:] }
        var books = [Int: [Double]]()
        for bits in 1...Self.maxBitsPerSample {
            books[bits] = LloydMax.design(levels: 1 << bits, density: density).codebook
        }
        return books
    }
}

/// One way to code one partition, as measured.
struct CodingOption: Sendable, Hashable {
    var indexBits: Double
    var sideBits: Double
    var squaredError: Double
    var zeroed: Int

    init(indexBits: Double, sideBits: Double, squaredError: Double, zeroed: Int) {
        self.indexBits = indexBits
        self.sideBits = sideBits
        self.squaredError = squaredError
        self.zeroed = zeroed
    }

    init(measuring quantizer: some Quantizer, on values: ArraySlice<Double>, sideBits: Double,
         rate: some RateModel) {
        let (indices, reconstruction) = quantizer.quantize(values)
        var error = 0.0
        var zeroed = 0
        for (x, y) in zip(values, reconstruction) {
            error += (x - y) * (x - y)
            if y == 0 { zeroed += 1 }
        }
        self.init(indexBits: rate.bits(for: indices), sideBits: sideBits, squaredError: error, zeroed: zeroed)
    }

    var choice: OperatingChoice { OperatingChoice(bits: indexBits + sideBits, distortion: squaredError) }
}

/// The value a decoder sees after it is stored in IEEE half precision.
func halfPrecision(_ x: Double) -> Double { Double(Float16(x)) }
