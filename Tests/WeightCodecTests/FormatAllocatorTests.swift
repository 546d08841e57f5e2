import Foundation
import Testing
@testable import WeightCodec

/// A model held in memory: F32 matrices with known statistics.
struct GeneratedModel: TensorSource {
    var metadata: GGUFMetadata = ["general.architecture": .string("llama")]
    var tensors: [GGUFTensorInfo] = []
    var data: [[Float]] = []

    func storedBytes(of index: Int) -> UnsafeRawBufferPointer? { nil }
    func values(of index: Int, rows: Range<Int>, into values: UnsafeMutableBufferPointer<Float>) throws {
        let elements = Self.elements(of: rows, in: tensors[index])
        _ = values.initialize(from: data[index][elements])
    }
    func release(_ index: Int) {}

    /// Gaussian weights of standard deviation `scale` (Box–Muller on a fixed seed).
    mutating func addMatrix(_ name: String, rowLength: Int, rows: Int, scale: Float, seed: UInt64) {
        var generator = SplitMix(seed)
        let values = (0..<(rowLength * rows)).map { _ in generator.gaussian() * scale }
        tensors.append(GGUFTensorInfo(name: name, shape: [rowLength, rows], type: .f32))
        data.append(values)
    }
}

@Suite struct FormatAllocatorTests {
    /// Four layers whose σ²·E[x²] spans 10⁴, one norm, one 576-wide matrix.
    static func model() -> (GeneratedModel, ImportanceMatrix) {
        var model = GeneratedModel()
        let layers: [(String, Float, Float)] = [
            ("blk.0.ffn_down.weight", 0.02, 1), ("blk.1.ffn_down.weight", 0.02, 100),
            ("blk.2.ffn_down.weight", 0.2, 1), ("blk.3.ffn_down.weight", 0.2, 10),
        ]
        var entries: [String: [Float]] = [:]
        for (i, (name, scale, importance)) in layers.enumerated() {
            model.addMatrix(name, rowLength: 512, rows: 64, scale: scale, seed: UInt64(i + 1))
            entries[name] = [Float](repeating: importance, count: 512)
        }
        model.addMatrix("blk.0.attn_q.weight", rowLength: 576, rows: 32, scale: 0.05, seed: 9)
        entries["blk.0.attn_q.weight"] = [Float](repeating: 5, count: 576)
        model.tensors.append(GGUFTensorInfo(name: "blk.0.attn_norm.weight", shape: [512], type: .f32))
        model.data.append([Float](repeating: 1, count: 512))
        return (model, ImportanceMatrix(entries: entries))
    }

    static func allocate(_ model: GeneratedModel, _ importance: ImportanceMatrix, rate: Double) throws -> FormatAllocation {
        try ModelQuantizer.fitting(.bitsPerWeight(rate), source: model, importance: importance).allocation
    }

    @Test(arguments: [3.0, 4.5, 5.5, 7.0])
    func meetsTheBudgetToWithinOneFormatStep(rate: Double) throws {
        let (model, importance) = Self.model()
        let allocation = try Self.allocate(model, importance, rate: rate)
        #expect(allocation.spentBits <= allocation.budgetBits)
        // No single tensor could move to a better format with what is left.
        let left = allocation.budgetBits - allocation.spentBits
        for (menu, choice) in zip(allocation.menus, allocation.choices) {
            let chosen = menu.options[choice]
            for option in menu.options where option.distortion < chosen.distortion {
                #expect(Double((option.bytes - chosen.bytes) * 8) > left,
                        "\(menu.name): \(option.type) would still fit after \(chosen.type)")
            }
        }
        // The norm is kept as it is, and counted in the budget.
        #expect(allocation.types[5] == .f32)
        #expect(!allocation.menus.contains { $0.name == "blk.0.attn_norm.weight" })
    }

    @Test func beatsEveryUniformFormatAtNoGreaterSize() throws {
        let (model, importance) = Self.model()
        for uniform in [GGMLType.q2_K, .q3_K, .q4_K, .q5_K, .q6_K] {
            // The 576-wide matrix takes the fallback a uniform recipe would give it.
            let types = model.tensors.map { info -> GGMLType in
                info.shape.count == 1 ? .f32 : QuantizationRecipe.fallback(uniform, rowLength: info.shape[0])
            }
            let bits = zip(model.tensors, types).reduce(0) { $0 + $1.1.rowBytes($1.0.shape[0])! * $1.0.elementCount / $1.0.shape[0] * 8 }
            let weights = model.tensors.reduce(0) { $0 + $1.elementCount }
            let allocation = try Self.allocate(model, importance, rate: Double(bits) / Double(weights))
            let uniformDistortion = allocation.menus.reduce(0.0) { total, menu in
                total + menu.options.first { $0.type == types[menu.index] }!.distortion
            }
            #expect(allocation.totalDistortion < uniformDistortion, "uniform \(uniform)")
            #expect(allocation.spentBits <= allocation.budgetBits)
        }
    }

    @Test func moreBitsWhereVarianceTimesImportanceIsLarger() throws {
        let (model, importance) = Self.model()
        let allocation = try Self.allocate(model, importance, rate: 4.5)
        func rate(_ name: String) -> Double {
            let i = allocation.menus.firstIndex { $0.name == name }!
            let menu = allocation.menus[i]
            return Double(menu.options[allocation.choices[i]].bytes * 8) / Double(menu.elementCount)
        }
        // σ²·E[x²]: 4e-4, 4e-2, 4e-2, 4e-1.
        #expect(rate("blk.0.ffn_down.weight") < rate("blk.1.ffn_down.weight"))
        #expect(rate("blk.2.ffn_down.weight") < rate("blk.3.ffn_down.weight"))
        #expect(rate("blk.0.ffn_down.weight") < rate("blk.3.ffn_down.weight"))
    }

    @Test func theMenuHoldsOnlyFormatsWhoseBlocksFitTheRows() throws {
        let (model, importance) = Self.model()
        let allocation = try Self.allocate(model, importance, rate: 5)
        let wide = try #require(allocation.menus.first { $0.name == "blk.0.attn_q.weight" })
        #expect(!wide.options.contains { $0.type.blockWeights == 256 })
        #expect(Set(wide.options.map(\.type)) == [.q4_0, .iq4_nl, .q4_1, .q5_0, .q5_1, .q8_0, .f16])
        let narrow = try #require(allocation.menus.first { $0.name == "blk.0.ffn_down.weight" })
        #expect(narrow.options.count == FormatAllocator.defaultCandidates.count)
        // Distortion falls as the rate rises along each format family.
        let byType = Dictionary(uniqueKeysWithValues: narrow.options.map { ($0.type, $0.distortion) })
        #expect(byType[.q2_K]! > byType[.q3_K]!)
        #expect(byType[.q3_K]! > byType[.q4_K]!)
        #expect(byType[.q4_K]! > byType[.q5_K]!)
        #expect(byType[.q5_K]! > byType[.q6_K]!)
        #expect(byType[.q6_K]! > byType[.q8_0]!)
    }

    @Test func aFileBudgetCountsTheHeaderAndPadding() throws {
        let (model, importance) = Self.model()
        let quantizer = try ModelQuantizer.fitting(.fileBytes(160_000), source: model, importance: importance).quantizer
        let writer = try GGUFWriter(metadata: quantizer.outputMetadata,
                                    tensors: quantizer.plan.map { GGUFTensorInfo(name: $0.name, shape: $0.shape, type: $0.targetType) })
        #expect(writer.fileSize <= 160_000)
        #expect(writer.fileSize > 140_000)
    }

    @Test func aBudgetBelowTheSmallestFormatsIsRefused() {
        let (model, importance) = Self.model()
        #expect(throws: AllocationFailure.self) { try Self.allocate(model, importance, rate: 2) }
    }
}
