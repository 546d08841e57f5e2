import Foundation
import RateDistortion
import Testing
@testable import WeightCodec

/// The five K formats, as test arguments.
enum KFormat: String, CaseIterable, CustomStringConvertible, CustomTestStringConvertible, Sendable {
    case q2_K = "Q2_K", q3_K = "Q3_K", q4_K = "Q4_K", q5_K = "Q5_K", q6_K = "Q6_K"

    var format: any BlockFormat {
        switch self {
        case .q2_K: BlockFormats.Q2_K()
        case .q3_K: BlockFormats.Q3_K()
        case .q4_K: BlockFormats.Q4_K()
        case .q5_K: BlockFormats.Q5_K()
        case .q6_K: BlockFormats.Q6_K()
        }
    }

    var type: GGMLType { format.type }
    var description: String { rawValue }
    var testDescription: String { rawValue }

    /// Relative RMSE (RMSE / RMS) a format must reach on unit Gaussian
    /// weights: about 1.2× what it measures, so a regression shows.
    var gaussianBound: Double {
        switch self {
        case .q2_K: 0.32
        case .q3_K: 0.175
        case .q4_K: 0.085
        case .q5_K: 0.042
        case .q6_K: 0.020
        }
    }
}

/// Seeded weight rows in the shapes real layers have.
enum WeightSample: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case gaussian, laplacian, heavyTail

    var testDescription: String { rawValue }

    /// `count` draws scaled by `scale`; the heavy tail is Student's t with
    /// 3 degrees of freedom (a Gaussian over the root of a χ²₃/3).
    func values(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            switch self {
            case .gaussian: return scale * Float(SourceDensity.gaussian.draw(using: &generator))
            case .laplacian: return scale * Float(SourceDensity.laplacian.draw(using: &generator))
            case .heavyTail:
                let g = SourceDensity.gaussian.draw(using: &generator)
                var chi: Double = 0
                for _ in 0..<3 { let z = SourceDensity.gaussian.draw(using: &generator); chi += z * z }
                return scale * Float(g / (chi / 3).squareRoot())
            }
        }
    }
}

/// Per-column importances as an importance matrix gives them (E[x²] of
/// each input channel): log-normal, the same for every row.
func columnImportance(rows: Int, columns: Int, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    let column = (0..<columns).map { _ in Float(Foundation.exp(1.5 * SourceDensity.gaussian.draw(using: &generator))) }
    return (0..<rows * columns).map { column[$0 % columns] }
}

/// Quantizes and decodes `values` with `format`.
func roundTrip(_ format: any BlockFormat, _ values: [Float], importance: [Float]? = nil) -> (bytes: [UInt8], decoded: [Float]) {
    var bytes = [UInt8](repeating: 0, count: values.count / 256 * format.type.blockBytes)
    values.withUnsafeBufferPointer { x in
        bytes.withUnsafeMutableBytes { out in
            if let importance {
                importance.withUnsafeBufferPointer { format.quantize(x, importance: $0, into: out) }
            } else {
                format.quantize(x, importance: nil, into: out)
            }
        }
    }
    return (bytes, decode(format, bytes, count: values.count))
}

func decode(_ format: any BlockFormat, _ bytes: [UInt8], count: Int) -> [Float] {
    var decoded = [Float](repeating: .nan, count: count)
    bytes.withUnsafeBytes { raw in decoded.withUnsafeMutableBufferPointer { format.dequantize(raw, into: $0) } }
    return decoded
}

/// Σw(x − x̂)² in double precision.
func weightedSquaredError(_ x: [Float], _ y: [Float], _ w: [Float]? = nil) -> Double {
    var sum = 0.0
    for i in x.indices {
        let e = Double(x[i]) - Double(y[i])
        sum += Double(w?[i] ?? 1) * e * e
    }
    return sum
}

func relativeRMSE(_ x: [Float], _ y: [Float]) -> Double {
    (weightedSquaredError(x, y) / x.reduce(0) { $0 + Double($1) * Double($1) }).squareRoot()
}

struct KFormatTests {
    @Test(arguments: KFormat.allCases)
    func sizesAreGGMLs(kind: KFormat) {
        let expected: [KFormat: (Int, Double)] = [
            .q2_K: (84, 2.625), .q3_K: (110, 3.4375), .q4_K: (144, 4.5), .q5_K: (176, 5.5), .q6_K: (210, 6.5625),
        ]
        #expect(kind.type.blockBytes == expected[kind]!.0)
        #expect(kind.type.bitsPerWeight == expected[kind]!.1)
        #expect(kind.type.blockWeights == 256)
    }

    @Test(arguments: KFormat.allCases)
    func zerosDecodeToZeros(kind: KFormat) {
        let decoded = roundTrip(kind.format, [Float](repeating: 0, count: 512)).decoded
        #expect(decoded.allSatisfy { $0 == 0 })
    }

    /// Blocks all of one sign, and constant blocks.
    enum OneSignedBlock: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case positive, negative, constant, negativeConstant

        var testDescription: String { rawValue }

        func value(_ i: Int) -> Float {
            switch self {
            case .positive: 1 + Float(i % 97) / 97
            case .negative: -1 - Float(i % 89) / 89
            case .constant: 0.75
            case .negativeConstant: -3
            }
        }

        /// Relative RMSE allowed (all formats measure under 0.036 on the
        /// one-signed blocks, 0.00025 on the constants).
        var bound: Double {
            switch self {
            case .positive, .negative: 0.05
            case .constant, .negativeConstant: 0.001
            }
        }
    }

    /// Offset formats reach one-signed blocks through the min, symmetric
    /// ones through the longer side of their grid.
    @Test(arguments: KFormat.allCases, OneSignedBlock.allCases)
    func oneSignedBlocks(kind: KFormat, block: OneSignedBlock) {
        let x = (0..<512).map(block.value)
        let decoded = roundTrip(kind.format, x).decoded
        #expect(decoded.allSatisfy { $0.isFinite })
        let error = relativeRMSE(x, decoded)
        #expect(error <= block.bound, "\(kind) on a \(block) block: relative RMSE \(error)")
    }

    @Test(arguments: KFormat.allCases, [Float(1e-8), 1e-3, 1, 1e4])
    func magnitudesStayFinite(kind: KFormat, scale: Float) {
        let x = WeightSample.heavyTail.values(1024, seed: 11, scale: scale)
        let (bytes, decoded) = roundTrip(kind.format, x)
        #expect(decoded.allSatisfy { $0.isFinite }, "\(kind) at scale \(scale) decodes a non-finite value")
        if scale >= 1e-3 {
            // Away from f16's subnormals the error is the format's, at any scale.
            let error = relativeRMSE(x, decoded)
            #expect(error <= 1.5 * kind.gaussianBound, "\(kind) at scale \(scale): relative RMSE \(error)")
        }
        // The stored scales are finite f16 (no Inf or NaN written).
        for b in 0..<x.count / 256 {
            for offset in kind.f16Fields {
                let bits = UInt16(bytes[b * kind.type.blockBytes + offset]) | UInt16(bytes[b * kind.type.blockBytes + offset + 1]) << 8
                #expect(Float16(bitPattern: bits).isFinite, "\(kind) at scale \(scale): block \(b) stores f16 \(bits)")
            }
        }
    }

    @Test(arguments: KFormat.allCases)
    func gaussianErrorIsTheFormats(kind: KFormat) {
        let x = WeightSample.gaussian.values(256 * 16, seed: 3)
        let error = relativeRMSE(x, roundTrip(kind.format, x).decoded)
        #expect(error <= kind.gaussianBound, "\(kind): relative RMSE \(error)")
    }

    @Test func errorFallsFromQ2KToQ6K() {
        for sample in WeightSample.allCases {
            let x = sample.values(256 * 8, seed: 5)
            let errors = KFormat.allCases.map { relativeRMSE(x, roundTrip($0.format, x).decoded) }
            for (worse, better) in zip(errors, errors.dropFirst()) {
                #expect(better < worse, "\(sample): relative RMSEs \(errors) from Q2_K to Q6_K")
            }
        }
    }

    /// Weights 100× as important in a quarter of each sub-block's columns
    /// come out closer with the importances than without, and the weighted
    /// error (the objective) is lower.
    @Test(arguments: KFormat.allCases)
    func importanceLowersErrorWhereItIsHigh(kind: KFormat) {
        let x = WeightSample.gaussian.values(256 * 16, seed: 7)
        let w = x.indices.map { $0 % 8 < 2 ? Float(100) : 1 }
        let plain = roundTrip(kind.format, x).decoded
        let weighted = roundTrip(kind.format, x, importance: w).decoded
        let important = x.indices.filter { w[$0] > 1 }
        func error(_ y: [Float], _ at: [Int]) -> Double {
            at.reduce(0) { $0 + Double((x[$1] - y[$1]) * (x[$1] - y[$1])) }
        }
        #expect(error(weighted, important) < 0.9 * error(plain, important),
                "\(kind): error on the important weights \(error(weighted, important)) with, \(error(plain, important)) without")
        #expect(weightedSquaredError(x, weighted, w) < weightedSquaredError(x, plain, w))
    }

    /// Importance 0 everywhere is allowed: any reconstruction is optimal, and it must be finite.
    @Test(arguments: KFormat.allCases)
    func zeroImportanceStaysFinite(kind: KFormat) {
        let x = WeightSample.laplacian.values(512, seed: 9)
        let decoded = roundTrip(kind.format, x, importance: [Float](repeating: 0, count: 512)).decoded
        #expect(decoded.allSatisfy { $0.isFinite })
    }

    @Test(arguments: KFormat.allCases)
    func quantizingIsDeterministic(kind: KFormat) {
        let x = WeightSample.heavyTail.values(1024, seed: 13)
        #expect(roundTrip(kind.format, x).bytes == roundTrip(kind.format, x).bytes)
    }

    /// A row that is not whole super-blocks is the caller's mistake.
    @Test func rowNotAWholeBlockIsRefused() async {
        await #expect(processExitsWith: .failure) {
            let x = [Float](repeating: 1, count: 300)
            var bytes = [UInt8](repeating: 0, count: 1024)
            x.withUnsafeBufferPointer { v in bytes.withUnsafeMutableBytes { BlockFormats.Q4_K().quantize(v, importance: nil, into: $0) } }
        }
        await #expect(processExitsWith: .failure) {
            let bytes = [UInt8](repeating: 0, count: 210)
            var x = [Float](repeating: 0, count: 512)
            bytes.withUnsafeBytes { raw in x.withUnsafeMutableBufferPointer { BlockFormats.Q6_K().dequantize(raw, into: $0) } }
        }
    }
}

// MARK: - Bit packing

struct KFormatPackingTests {
    @Test func scaleMinPairsRoundTrip() {
        var generator = SeededGenerator(seed: 21)
        for _ in 0..<200 {
            var scales = (0..<8).map { _ in Int32.random(in: 0...63, using: &generator) }
            var mins = (0..<8).map { _ in Int32.random(in: 0...63, using: &generator) }
            var bytes = [UInt8](repeating: 0xA5, count: 14)
            scales.withUnsafeMutableBufferPointer { s in
                mins.withUnsafeMutableBufferPointer { m in
                    bytes.withUnsafeMutableBytes { KFormatPacking.packScaleMinPairs(scales: s, mins: m, into: $0, at: 1) }
                }
            }
            #expect(bytes[0] == 0xA5 && bytes[13] == 0xA5, "writes stay in their 12 bytes")
            bytes.withUnsafeBytes { raw in
                for j in 0..<8 {
                    let (s, m) = KFormatPacking.scaleMinPair(j, in: raw, at: 1)
                    #expect(Int32(s) == scales[j] && Int32(m) == mins[j])
                }
            }
        }
    }

    @Test func signedScalesRoundTrip() {
        var generator = SeededGenerator(seed: 22)
        for _ in 0..<200 {
            var codes = (0..<16).map { _ in Int32.random(in: -32...31, using: &generator) }
            var bytes = [UInt8](repeating: 0xFF, count: 12)
            codes.withUnsafeMutableBufferPointer { c in bytes.withUnsafeMutableBytes { KFormatPacking.packSignedScales(c, into: $0, at: 0) } }
            bytes.withUnsafeBytes { raw in
                for j in 0..<16 { #expect(KFormatPacking.signedScale(j, in: raw, at: 0) == codes[j]) }
            }
        }
    }

    /// ggml-common.h's Q3_K scale layout, spelled out for one case: code
    /// u_j = c_j + 32 = j + 40 (so u has both nibbles and high bits in play).
    @Test func signedScalesFollowGGMLsLayout() {
        var codes = (0..<16).map { Int32($0 + 8) }
        var bytes = [UInt8](repeating: 0, count: 12)
        codes.withUnsafeMutableBufferPointer { c in bytes.withUnsafeMutableBytes { KFormatPacking.packSignedScales(c, into: $0, at: 0) } }
        for j in 0..<8 {
            let low = UInt8(j + 40) & 0xF, high = UInt8(j + 48) & 0xF
            #expect(bytes[j] == low | high << 4)
        }
        for k in 0..<4 {
            var expected: UInt8 = 0
            for g in 0..<4 { expected |= (UInt8(k + 4 * g + 40) >> 4) << (2 * g) }
            #expect(bytes[8 + k] == expected)
        }
    }

    @Test func twoBitPlanesRoundTrip() {
        var generator = SeededGenerator(seed: 23)
        var levels = (0..<256).map { _ in Int32.random(in: 0...3, using: &generator) }
        var bytes = [UInt8](repeating: 0, count: 64)
        levels.withUnsafeMutableBufferPointer { l in bytes.withUnsafeMutableBytes { KFormatPacking.packTwoBitPlanes(l, into: $0, at: 0) } }
        bytes.withUnsafeBytes { raw in
            for e in 0..<256 { #expect(Int32(KFormatPacking.twoBitLevel(e, in: raw, at: 0)) == levels[e]) }
        }
    }
}

// MARK: - Referees: the gguf package, and llama.cpp's own quantizer

/// Byte offsets of each format's f16 scale fields.
extension KFormat {
    var f16Fields: [Int] {
        switch self {
        case .q2_K: [80, 82]
        case .q3_K: [108]
        case .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        }
    }
}

struct KFormatRefereeTests {
    static let dequantizeScript = """
        import sys, numpy as np, gguf
        qtype = gguf.GGMLQuantizationType[sys.argv[1]]
        data = np.fromfile(sys.argv[2], dtype=np.uint8)
        gguf.quants.dequantize(data, qtype).astype(np.float32).tofile(sys.argv[3])
        """

    /// Decodes `bytes` with gguf-py and checks ours agrees bit for bit,
    /// naming the worst block when it does not.
    func expectGGUFAgrees(_ kind: KFormat, _ bytes: [UInt8], context: String) throws {
        let folder = try PythonReferee.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("blocks.bin"), output = folder.appendingPathComponent("values.f32")
        try Data(bytes).write(to: input)
        _ = try PythonReferee.check(Self.dequantizeScript, arguments: [kind.rawValue, input.path, output.path])
        guard let data = try? Data(contentsOf: output) else { return } // the failure is already recorded
        let theirs: [Float] = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let count = bytes.count / kind.type.blockBytes * 256
        let ours = decode(kind.format, bytes, count: count)
        try #require(theirs.count == count, "gguf decoded \(theirs.count) values, expected \(count)")
        var mismatches = 0, worstBlock = -1, worstDifference: Float = 0, worstIndex = 0
        for i in 0..<count where ours[i].bitPattern != theirs[i].bitPattern {
            mismatches += 1
            let difference = abs(ours[i] - theirs[i])
            if worstBlock < 0 || difference > worstDifference {
                (worstBlock, worstDifference, worstIndex) = (i / 256, difference, i)
            }
        }
        #expect(mismatches == 0, """
            \(kind) \(context): \(mismatches) of \(count) values differ from gguf; worst in block \(worstBlock), \
            weight \(worstIndex % 256): ours \(ours[worstIndex]), gguf \(worstIndex < theirs.count ? theirs[worstIndex] : .nan), \
            difference \(worstDifference)
            """)
    }

    /// Random bytes in every field, f16 scales set to finite values of
    /// either sign from 2⁻¹⁴ to 8: every bit of the layout is exercised.
    @Test(.enabled(if: PythonReferee.shouldRun("gguf", "numpy")), arguments: KFormat.allCases)
    func randomBlocksDecodeAsGGUFDoes(kind: KFormat) throws {
        var generator = SeededGenerator(seed: 31 + UInt64(kind.type.rawValue))
        let blocks = 96, size = kind.type.blockBytes
        var bytes = (0..<blocks * size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for b in 0..<blocks {
            for offset in kind.f16Fields {
                let magnitude = Float.pow(2, Float.random(in: -14...3, using: &generator))
                let value = Float16(Bool.random(using: &generator) ? magnitude : -magnitude)
                bytes[b * size + offset] = UInt8(value.bitPattern & 0xFF)
                bytes[b * size + offset + 1] = UInt8(value.bitPattern >> 8)
            }
        }
        try expectGGUFAgrees(kind, bytes, context: "random blocks")
    }

    @Test(.enabled(if: PythonReferee.shouldRun("gguf", "numpy")), arguments: KFormat.allCases)
    func quantizedBlocksDecodeAsGGUFDoes(kind: KFormat) throws {
        for sample in WeightSample.allCases {
            let x = sample.values(256 * 64, seed: 41, scale: 0.02)
            try expectGGUFAgrees(kind, roundTrip(kind.format, x).bytes, context: "quantized \(sample)")
            let w = columnImportance(rows: 8, columns: 2048, seed: 43)
            try expectGGUFAgrees(kind, roundTrip(kind.format, x, importance: w).bytes, context: "quantized \(sample) with importance")
        }
    }

    /// llama.cpp's quantizer (`ggml_quantize_chunk` from the libggml that
    /// llama-cpp-python ships): quantize_row_q*_K_ref without an importance
    /// matrix, quantize_row_q*_K_impl with one. Prints Σw(x − x̂)² of its
    /// output as gguf-py decodes it.
    static let llamaScript = """
        import sys, os, glob, ctypes, numpy as np, gguf, llama_cpp
        folder = os.path.join(os.path.dirname(llama_cpp.__file__), 'lib')
        lib = ctypes.CDLL(sorted(glob.glob(os.path.join(folder, 'libggml-base.*')))[0])
        lib.ggml_quantize_chunk.restype = ctypes.c_size_t
        lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
            ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]
        qtype = gguf.GGMLQuantizationType[sys.argv[1]]
        rows, columns = int(sys.argv[2]), int(sys.argv[3])
        x = np.fromfile(sys.argv[4], dtype=np.float32).reshape(rows, columns)
        imatrix = None if sys.argv[5] == '-' else np.fromfile(sys.argv[5], dtype=np.float32)
        size = gguf.GGML_QUANT_SIZES[qtype][1] * rows * columns // 256
        out = np.zeros(size, dtype=np.uint8)
        lib.ggml_quantize_chunk(qtype.value, x.ctypes.data, out.ctypes.data, 0, rows, columns,
            None if imatrix is None else imatrix.ctypes.data)
        y = gguf.quants.dequantize(out, qtype).reshape(rows, columns).astype(np.float64)
        w = np.ones(columns) if imatrix is None else imatrix.astype(np.float64)
        print(repr(float(np.sum(w[None, :] * (x.astype(np.float64) - y) ** 2))))
        """

    /// Our weighted error is no worse than llama.cpp's for every format and
    /// source, with and without an importance matrix.
    @Test(.enabled(if: PythonReferee.shouldRun("gguf", "numpy", "llama_cpp")), arguments: KFormat.allCases)
    func noWorseThanLlamaCpp(kind: KFormat) throws {
        let rows = 8, columns = 4096
        let folder = try PythonReferee.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var generator = SeededGenerator(seed: 51)
        let column = (0..<columns).map { _ in Float(Foundation.exp(1.5 * SourceDensity.gaussian.draw(using: &generator))) }
        let importancePath = folder.appendingPathComponent("imatrix.f32")
        try column.withUnsafeBytes { try Data($0).write(to: importancePath) }
        let importance = (0..<rows * columns).map { column[$0 % columns] }
        for sample in WeightSample.allCases {
            let x = sample.values(rows * columns, seed: 53, scale: 0.02)
            let valuesPath = folder.appendingPathComponent("\(sample).f32")
            try x.withUnsafeBytes { try Data($0).write(to: valuesPath) }
            for weighted in [false, true] {
                let output = try PythonReferee.check(Self.llamaScript, arguments: [
                    kind.rawValue, "\(rows)", "\(columns)", valuesPath.path, weighted ? importancePath.path : "-",
                ])
                let theirs = try #require(Double(output.trimmingCharacters(in: .whitespacesAndNewlines)),
                                          "llama.cpp referee printed \(output)")
                let w = weighted ? importance : nil
                let ours = weightedSquaredError(x, roundTrip(kind.format, x, importance: w).decoded, w)
                let ratio = (ours / theirs).squareRoot()
                print("\(kind) \(sample) \(weighted ? "imatrix" : "plain  "): weighted RMSE ours/llama.cpp = \(String(format: "%.4f", ratio))")
                #expect(ours <= theirs, "\(kind) \(sample)\(weighted ? " with importance" : ""): Σw(x − x̂)² ours \(ours), llama.cpp \(theirs)")
            }
        }
    }
}
