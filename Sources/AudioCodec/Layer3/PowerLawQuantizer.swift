import RealModule

/// Layer III's quantizer (clause 2.4.3.4 and Annex C.1.5.4): a uniform
/// mid-tread quantizer on the companded magnitude |xr|^¾, whose step is set
/// by a gain exponent q in units of 2^¼ of amplitude (1.5 dB):
///
///     ix = ⌊(|xr|^¾ / 2^(3/16·(q − 210))) + 0.4054⌋,   x̂ = ix^(4/3) · 2^((q − 210)/4)
///
/// For a band, q = global_gain − 2·(1 + scalefac_scale)·(scalefactor + preflag·pretab).
enum PowerLawQuantizer {
    /// ix^(4/3) for ix = 0…8206, the decoder's requantization table.
    static let fourThirds: [Float] = (0...ISO11172_3.maxQuantized).map { Float(Double.pow(Double($0), 4.0 / 3)) }

    /// 2^(3/16·(q − 210)): the step in the companded domain.
    @inline(__always)
    static func companded(step q: Int) -> Float {
        q >= 0 && q < tabulatedSteps ? compandedSteps[q] : exactCompanded(step: q)
    }

    /// 2^((q − 210)/4): the amplitude the decoder gives ix = 1.
    @inline(__always)
    static func amplitude(step q: Int) -> Float {
        q >= 0 && q < tabulatedSteps ? amplitudes[q] : exactAmplitude(step: q)
    }

    private static func exactCompanded(step q: Int) -> Float { Float(Double.exp2(3.0 / 16 * Double(q - 210))) }
    private static func exactAmplitude(step q: Int) -> Float { Float(Double.exp2(Double(q - 210) / 4)) }

    /// The steps the coder tries, 0…511, worked out once: menus try dozens per band.
    private static let tabulatedSteps = 512
    private static let compandedSteps = (0..<tabulatedSteps).map(exactCompanded(step:))
    private static let amplitudes = (0..<tabulatedSteps).map(exactAmplitude(step:))

    /// The smallest even q at which every companded magnitude up to
    /// `largest` quantizes to zero: |x|^¾ < (1 − 0.4054)·step.
    static func zeroingStep(largestCompanded largest: Float) -> Int {
        guard largest > 0 else { return 0 }
        let threshold = Double(largest) / (1 - ISO11172_3.roundingOffset)
        var q = Int((210 + 16.0 / 3 * Double.log2(threshold)).rounded(.up))
        if q & 1 == 1 { q += 1 }
        while companded(step: q) * Float(1 - ISO11172_3.roundingOffset) <= largest { q += 2 }
        return q
    }

    /// Quantizes `companded[range]` at step q into `out` (magnitudes), and
    /// returns the squared error against `magnitudes` and the largest ix;
    /// `nil` when some ix would exceed 8206. `largest` is the range's largest
    /// companded magnitude: it alone decides both, so the loop need not check.
    @inline(__always)
    static func quantize(_ companded: UnsafeBufferPointer<Float>, _ magnitudes: UnsafeBufferPointer<Float>,
                         _ range: Range<Int>, largest: Float, step q: Int, into out: UnsafeMutableBufferPointer<Int32>)
        -> (squaredError: Double, largest: Int32)? {
        let inverse = 1 / Self.companded(step: q)
        let amplitude = Self.amplitude(step: q)
        let offset = Float(ISO11172_3.roundingOffset)
        let top = largest * inverse + offset
        guard top < Float(ISO11172_3.maxQuantized + 1) else { return nil }
        // Four lines at a time (every band's width is even, most a multiple of four).
        var errors = SIMD4<Float>()
        fourThirds.withUnsafeBufferPointer { table in
            var i = range.lowerBound
            while i + 4 <= range.upperBound {
                let scaled = UnsafeRawPointer(companded.baseAddress! + i).loadUnaligned(as: SIMD4<Float>.self) * inverse + offset
                let ix = SIMD4<Int32>(Int32(scaled[0]), Int32(scaled[1]), Int32(scaled[2]), Int32(scaled[3]))
                UnsafeMutableRawPointer(out.baseAddress! + i).storeBytes(of: ix, as: SIMD4<Int32>.self)
                let requantized = SIMD4<Float>(table[Int(ix[0])], table[Int(ix[1])], table[Int(ix[2])], table[Int(ix[3])])
                let difference = UnsafeRawPointer(magnitudes.baseAddress! + i).loadUnaligned(as: SIMD4<Float>.self)
                    - requantized * amplitude
                errors += difference * difference
                i += 4
            }
            while i < range.upperBound {
                let ix = Int32(companded[i] * inverse + offset)
                out[i] = ix
                let difference = magnitudes[i] - table[Int(truncatingIfNeeded: ix)] * amplitude
                errors[0] += difference * difference
                i += 1
            }
        }
        let error = Double(errors.sum())
        return (error, Int32(top))
    }
}
