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

    private static func exactCompanded(step q: Int) -> Float { Float(Double.exp2(3.0 / 16 * Double(q - 210))) }
    private static func exactAmplitude(step q: Int) -> Float { Float(Double.exp2(Double(q - 210) / 4)) }

    /// The steps the coder tries, 0…511, worked out once: menus try dozens per band.
    private static let tabulatedSteps = 512
    private static let compandedSteps = (0..<tabulatedSteps).map(exactCompanded(step:))

    /// What quantizing reads, in memory the process keeps: ix^(4/3), per step
    /// 1 / companded(step:) (what lines are multiplied by) and 2^((q − 210)/4)
    /// (the amplitude the decoder gives ix = 1), and the tables of the bit
    /// estimate. A menu fetches them once for its hundreds of steps, where a
    /// static array is checked for its lazy initialization on every read.
    /// Written once, before any read, and never again: safe to share between threads.
    struct Tables: @unchecked Sendable {
        fileprivate let fourThirds: UnsafeBufferPointer<Float>
        fileprivate let inverseSteps: UnsafeBufferPointer<Float>
        fileprivate let amplitudes: UnsafeBufferPointer<Float>
        let tally: HuffmanCoder.TallyTables

        static let shared = Tables(
            fourThirds: permanentCopy(of: PowerLawQuantizer.fourThirds),
            inverseSteps: permanentCopy(of: compandedSteps.map { 1 / $0 }),
            amplitudes: permanentCopy(of: (0..<tabulatedSteps).map(exactAmplitude(step:))),
            tally: .shared)

        @inline(__always)
        fileprivate func inverse(step q: Int) -> Float {
            q >= 0 && q < tabulatedSteps ? inverseSteps[q] : 1 / exactCompanded(step: q)
        }

        @inline(__always)
        fileprivate func amplitude(step q: Int) -> Float {
            q >= 0 && q < tabulatedSteps ? amplitudes[q] : exactAmplitude(step: q)
        }
    }

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
                         _ range: Range<Int>, largest: Float, step q: Int, into out: UnsafeMutableBufferPointer<Int32>,
                         _ tables: Tables) -> (squaredError: Double, largest: Int32)? {
        guard let top = largestValue(largest, step: q, tables) else { return nil }
        let error = quantizeLines(companded, magnitudes, range, step: q, tables) { i, ix in
            UnsafeMutableRawPointer(out.baseAddress! + i).storeBytes(of: ix, as: SIMD4<Int32>.self)
        } pair: { i, x, y in
            out[i] = x
            out[i &+ 1] = y
        }
        return (error, top)
    }

    /// What a menu keeps of step q: the squared error of `companded[range]`
    /// quantized at it and HuffmanCoder.estimatedBits of the values, counted as
    /// they are made instead of stored and read back. `nil` as for quantize.
    @inline(__always)
    static func errorAndBits(_ companded: UnsafeBufferPointer<Float>, _ magnitudes: UnsafeBufferPointer<Float>,
                             _ range: Range<Int>, largest: Float, step q: Int, _ tables: Tables) -> (squaredError: Double, bits: Int)? {
        guard let top = largestValue(largest, step: q, tables) else { return nil }
        var tally = HuffmanCoder.PairBitTally(largest: top, tables.tally)
        let error = quantizeLines(companded, magnitudes, range, step: q, tables) { _, ix in
            tally.add(ix[0], ix[1])
            tally.add(ix[2], ix[3])
        } pair: { _, x, y in
            tally.add(x, y)
        }
        return (error, tally.bits)
    }

    /// The largest ix at step q of lines whose largest companded magnitude is `largest`; nil past 8206.
    @inline(__always)
    private static func largestValue(_ largest: Float, step q: Int, _ tables: Tables) -> Int32? {
        let top = largest * tables.inverse(step: q) + Float(ISO11172_3.roundingOffset)
        return top < Float(ISO11172_3.maxQuantized + 1) ? Int32(top) : nil
    }

    /// The quantizer's loop: hands each four lines' values (and a last pair's)
    /// to `four` and `pair`, and returns the squared error. Bands are an even
    /// number of lines wide, most a multiple of four; no value may pass 8206.
    @inline(__always)
    private static func quantizeLines(_ companded: UnsafeBufferPointer<Float>, _ magnitudes: UnsafeBufferPointer<Float>,
                                      _ range: Range<Int>, step q: Int, _ tables: Tables,
                                      four: (Int, SIMD4<Int32>) -> Void, pair: (Int, Int32, Int32) -> Void) -> Double {
        let inverse = tables.inverse(step: q)
        let amplitude = tables.amplitude(step: q)
        let offset = Float(ISO11172_3.roundingOffset)
        var errors = SIMD4<Float>()
        let table = tables.fourThirds
        var i = range.lowerBound
        while i + 4 <= range.upperBound {
            let scaled = UnsafeRawPointer(companded.baseAddress! + i).loadUnaligned(as: SIMD4<Float>.self) * inverse + offset
            let ix = truncated(scaled)
            four(i, ix)
            let requantized = SIMD4<Float>(table[Int(ix[0])], table[Int(ix[1])], table[Int(ix[2])], table[Int(ix[3])])
            let difference = UnsafeRawPointer(magnitudes.baseAddress! + i).loadUnaligned(as: SIMD4<Float>.self)
                - requantized * amplitude
            errors += difference * difference
            i += 4
        }
        while i < range.upperBound {
            let x = Int32(companded[i] * inverse + offset), y = Int32(companded[i &+ 1] * inverse + offset)
            pair(i, x, y)
            let dx = magnitudes[i] - table[Int(truncatingIfNeeded: x)] * amplitude
            errors[0] += dx * dx
            let dy = magnitudes[i &+ 1] - table[Int(truncatingIfNeeded: y)] * amplitude
            errors[0] += dy * dy
            i += 2
        }
        return Double(errors.sum())
    }

    /// Int32(x) of each lane, for 0 ≤ x < 2²²: adding 2²³ leaves the nearest
    /// integer in the low mantissa bits, and one is taken off where that rounded
    /// up. Plain SIMD adds and compares; Int32(_:) lane by lane checks each
    /// conversion for overflow, and cost the menus a fifth of their time.
    @inline(__always)
    private static func truncated(_ x: SIMD4<Float>) -> SIMD4<Int32> {
        let shifted = x + 8_388_608
        let nearest = unsafeBitCast(shifted, to: SIMD4<Int32>.self) &- 0x4B00_0000
        // A true lane of a mask is all ones: −1.
        return nearest &+ unsafeBitCast(shifted - 8_388_608 .> x, to: SIMD4<Int32>.self)
    }
}

/// A copy of `array` that lives as long as the process: for tables read in
/// inner loops through pointers fetched once.
func permanentCopy<Element>(of array: [Element]) -> UnsafeBufferPointer<Element> {
    let copy = UnsafeMutableBufferPointer<Element>.allocate(capacity: array.count)
    _ = copy.initialize(from: array)
    return UnsafeBufferPointer(copy)
}
