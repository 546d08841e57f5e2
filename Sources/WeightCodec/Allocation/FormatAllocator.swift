import RateDistortion

/// A size a quantized model must fit in.
public enum ModelBudget: Sendable, Hashable {
    /// Bits per weight over every tensor (llama.cpp's "BPW": tensor data only).
    case bitsPerWeight(Double)
    /// The whole file, header and alignment padding included.
    case fileBytes(Int)
}

/// One tensor's measured rate-distortion menu: what each block format
/// would cost and what it would lose.
public struct TensorMenu: Sendable, Hashable {
    public struct Option: Sendable, Hashable {
        public var type: GGMLType
        /// The tensor's bytes in this format.
        public var bytes: Int
        /// Σ E[x_j²]·(w_ij − ŵ_ij)² over the tensor: the expected energy of
        /// the error this format adds to the layer's output per token (plain
        /// squared error without an importance matrix). Measured by
        /// quantizing the tensor (or an even sample of its rows) and decoding.
        public var distortion: Double
        /// What the sampled rows lost (importance normalised to mean 1 per
        /// tensor, as `TensorQuantizer` measures it), with its tail.
        public var sampleError: TensorError
    }

    public var index: Int
    public var name: String
    public var elementCount: Int
    public var options: [Option]
    /// Rows quantized to measure the menu, of `rows`.
    public var sampledRows: Int
    public var rows: Int
}

/// Each tensor's format chosen for a budget, and why.
public struct FormatAllocation: Sendable {
    /// The type of every tensor of the source, in order.
    public var types: [GGMLType]
    /// The menus of the tensors the allocator chose for, with the choice.
    public var menus: [TensorMenu]
    public var choices: [Int]
    /// Each menu's KL per unit of distortion when calibrated (`RoleCalibration`).
    public var gains: [Double]?
    /// Bits the allocator could spend on those tensors, and spent.
    public var budgetBits: Double
    public var spentBits: Double
    /// Distortion per bit at the solution (the Lagrange multiplier).
    public var lambda: Double

    /// How many of the allocated weights each chosen format holds.
    public var weightsByType: [GGMLType: Int] {
        var weights: [GGMLType: Int] = [:]
        for (menu, choice) in zip(menus, choices) { weights[menu.options[choice].type, default: 0] += menu.elementCount }
        return weights
    }

    public var totalDistortion: Double {
        zip(menus, choices).reduce(0) { $0 + $1.0.options[$1.1].distortion }
    }

    /// What the allocator minimised for each menu: its chosen option's
    /// distortion, as predicted KL when calibrated.
    public func cost(of menu: Int) -> Double {
        menus[menu].options[choices[menu]].distortion * (gains?[menu] ?? 1)
    }

    public var totalCost: Double { menus.indices.reduce(0) { $0 + cost(of: $1) } }
}

public enum AllocationFailure: Error, Equatable, CustomStringConvertible {
    case budgetTooSmall(needed: Int, budget: Int, unit: String)
    case nothingToAllocate

    public var description: String {
        switch self {
        case let .budgetTooSmall(needed, budget, unit):
            return "the budget of \(budget) \(unit) is below the \(needed) \(unit) the smallest formats need"
        case .nothingToAllocate:
            return "the model has no tensor whose format the allocator may choose"
        }
    }
}

/// Picks a block format per tensor so the model meets a size budget with
/// the least total importance-weighted distortion: every tensor's menu is
/// measured, then the core's Lagrangian allocator spends the bits.
///
/// The distortion of a linear layer's format is Σ_ij E[x_j²]·Δw_ij², the
/// expected squared error it adds to the layer's output, so the importance
/// matrix's absolute scale carries across tensors; without one every weight
/// counts alike. Tensors whose rows are not a whole number of a format's
/// blocks never see that format on their menu (SmolLM2's 576-wide rows see
/// no K format): the menu holds only the real choices.
public enum FormatAllocator {
    /// Formats llama.cpp runs everywhere, by rising rate.
    public static let defaultCandidates: [GGMLType] = [
        .q2_K, .q3_K, .iq4_xs, .q4_0, .iq4_nl, .q4_K, .q4_1, .q5_0, .q5_K, .q5_1, .q6_K, .q8_0, .f16,
    ]

    /// Measuring a menu quantizes at most this many weights per format.
    public static let sampleWeights = 1 << 19

    /// - Parameters:
    ///   - fixed: a type per tensor that the allocator must not change (norms,
    ///     overrides), or nil where it chooses.
    ///   - headerBytes: bytes before the tensor data, for a file budget.
    ///   - alignment: tensor data alignment, for a file budget.
    ///   - weights: a tensor's weights as its format will see them (pruned,
    ///     say), called in tensor order; nil: the source's.
    ///   - calibration: each role's measured KL per unit of error; the
    ///     allocator then minimises the predicted KL (its probe format is
    ///     measured on every menu, and offered only if a candidate).
    public static func allocate(
        source: any TensorSource, fixed: [GGMLType?], candidates: [GGMLType] = defaultCandidates,
        importance: ImportanceMatrix?, budget: ModelBudget, headerBytes: Int, alignment: Int,
        weights: ((Int) throws -> [Float])? = nil, calibration: RoleCalibration? = nil,
        progress: (Int, String) -> Void = { _, _ in }
    ) throws -> FormatAllocation {
        precondition(fixed.count == source.tensors.count, "one entry per tensor")
        func cost(_ bytes: Int) -> Int {
            switch budget {
            case .bitsPerWeight: return bytes * 8
            case .fileBytes: return (bytes + alignment - 1) / alignment * alignment * 8
            }
        }
        let totalWeights = source.tensors.reduce(0) { $0 + $1.elementCount }
        var fixedBits = 0
        for (info, type) in zip(source.tensors, fixed) {
            if let type { fixedBits += cost(info.byteCount(as: type)!) }
        }
        let budgetBits: Double
        switch budget {
        case let .bitsPerWeight(rate): budgetBits = rate * Double(totalWeights) - Double(fixedBits)
        case let .fileBytes(bytes): budgetBits = Double((bytes - headerBytes) * 8 - fixedBits)
        }

        let scale = importance.map(absoluteScale)
        let measured = calibration.map { candidates.contains($0.probe) ? candidates : candidates + [$0.probe] } ?? candidates
        var menus = [TensorMenu]()
        for (index, info) in source.tensors.enumerated() where fixed[index] == nil {
            progress(index, info.name)
            defer { source.release(index) }
            menus.append(try measure(
                try weights?(index) ?? source.values(of: index), of: info, index: index, candidates: measured,
                importance: importance, fallbackScale: scale, sampledRows: sampledRows(of: info)))
        }
        guard !menus.isEmpty else { throw AllocationFailure.nothingToAllocate }
        let gains = try calibration?.gains(for: menus)
        if measured != candidates {
            for m in menus.indices { menus[m].options.removeAll { !candidates.contains($0.type) } }
        }

        let allocation: Allocation
        do {
            allocation = try choose(from: menus, bits: { Double(cost($0)) }, gains: gains, budget: budgetBits)
        } catch {
            let needed = menus.reduce(0.0) { $0 + Double($1.options.map { cost($0.bytes) }.min() ?? 0) } + Double(fixedBits)
            switch budget {
            case .bitsPerWeight:
                throw AllocationFailure.budgetTooSmall(needed: Int(needed.rounded(.up)), budget: Int(budgetBits) + fixedBits,
                                                       unit: "bits")
            case let .fileBytes(bytes):
                throw AllocationFailure.budgetTooSmall(needed: headerBytes + Int(needed) / 8, budget: bytes, unit: "bytes")
            }
        }
        var types = fixed.map { $0 ?? .f32 }
        for (menu, choice) in zip(menus, allocation.choices) { types[menu.index] = menu.options[choice].type }
        return FormatAllocation(types: types, menus: menus, choices: allocation.choices, gains: gains,
                                budgetBits: budgetBits, spentBits: allocation.bits, lambda: allocation.lambda)
    }

    /// Rows quantized to measure a tensor's menu: at most `sampleWeights` weights, at least one row.
    static func sampledRows(of info: GGUFTensorInfo) -> Int {
        min(info.rowCount, max(1, sampleWeights / info.rowLength))
    }

    /// One option per menu spending at most `budget` bits with the least
    /// total distortion (weighed by `gains` when calibrated): the core's
    /// Lagrangian allocator over the menus.
    /// - Parameter bits: an option's bits from its bytes (a file budget pads them to the alignment).
    public static func choose(
        from menus: [TensorMenu], bits: (Int) -> Double = { Double($0 * 8) }, gains: [Double]? = nil, budget: Double
    ) throws -> Allocation {
        let choices = menus.map { $0.options.map { OperatingChoice(bits: bits($0.bytes), distortion: $0.distortion) } }
        return try LagrangianAllocator.allocate(
            choices: choices, tolerances: gains?.map { 1 / $0 } ?? [Double](repeating: 1, count: menus.count), budget: budget)
    }

    /// The menu of a tensor whose weights are at hand: `sampledRows` of its
    /// rows, at an even stride, quantized in every candidate whose blocks fit
    /// them and decoded; each option's error is the sample's, its distortion
    /// scaled to the whole tensor.
    ///
    /// - Parameter groupWeights: weights per group of each error's tail tally
    ///   (by default each format's block).
    public static func measure(
        _ values: [Float], of info: GGUFTensorInfo, index: Int, candidates: [GGMLType], importance: ImportanceMatrix?,
        fallbackScale: Double? = nil, sampledRows: Int, groupWeights: Int? = nil
    ) throws -> TensorMenu {
        let rowLength = info.shape[0], rows = info.elementCount / rowLength
        precondition(values.count == info.elementCount && (1...rows).contains(sampledRows), "a sample of the tensor's rows")
        let sample = evenRows(values, rowLength: rowLength, count: sampledRows)
        let (columns, meanImportance) = try self.importance(of: info, in: importance, fallbackScale: fallbackScale)
        let options = candidates.compactMap { type -> TensorMenu.Option? in
            guard let rowBytes = type.rowBytes(rowLength), let format = BlockFormats.format(for: type) else { return nil }
            var output = [UInt8](repeating: 0, count: sampledRows * rowBytes)
            let error = sample.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBytes { bytes in
                    TensorQuantizer.quantize(x, rowLength: rowLength, format: format, importance: columns,
                                             groupWeights: groupWeights, into: bytes)
                }
            }
            let distortion = error.weightedNoiseEnergy * meanImportance * Double(rows) / Double(sampledRows)
            return TensorMenu.Option(type: type, bytes: rowBytes * rows, distortion: distortion, sampleError: error)
        }
        return TensorMenu(index: index, name: info.name, elementCount: info.elementCount, options: options,
                          sampledRows: sampledRows, rows: rows)
    }

    /// `count` of the rows at an even stride, so every part of the tensor is seen.
    static func evenRows(_ values: [Float], rowLength: Int, count: Int) -> [Float] {
        let rows = values.count / rowLength
        guard count < rows else { return values }
        var picked = [Float]()
        picked.reserveCapacity(count * rowLength)
        for i in 0..<count {
            let row = i * rows / count
            picked += values[(row * rowLength)..<((row + 1) * rowLength)]
        }
        return picked
    }

    /// The matrix's E[x²] for the tensor's columns (nil without one for it)
    /// and their mean. The quantizer normalises importance to mean 1; the
    /// mean restores the absolute scale. A tensor the matrix does not cover
    /// counts at `fallbackScale`, and every weight at 1 without a matrix.
    static func importance(
        of info: GGUFTensorInfo, in importance: ImportanceMatrix?, fallbackScale: Double?
    ) throws -> (columns: [Float]?, mean: Double) {
        let rowLength = info.shape[0]
        let columns = try importance?.columns(of: info.name, count: rowLength).map(Array.init)
        let mean = columns.map { $0.reduce(0.0) { $0 + Double($1) } / Double(rowLength) } ?? fallbackScale ?? 1
        return (columns, mean)
    }

    /// The importance given to a tensor the matrix does not cover: the mean
    /// over the tensors it does, so its errors are neither free nor dominant.
    static func absoluteScale(_ importance: ImportanceMatrix) -> Double {
        let means = importance.entries.values.map { values in
            values.reduce(0.0) { $0 + Double($1) } / Double(max(values.count, 1))
        }
        return means.isEmpty ? 1 : means.reduce(0, +) / Double(means.count)
    }
}
