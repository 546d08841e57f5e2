import Foundation
import RateDistortion

/// What each tensor role's error costs the model's outputs, measured: one
/// probe model per role, that role's matrices (in every block) in the probe
/// format and everything else as in the original, each run through
/// llama.cpp against the original for its mean next-token KL divergence.
///
/// Why: the importance-weighted error Σ E[x_j²]·Δw_ij² is the energy a
/// matrix's error adds to its own output, and that energy reaches the
/// logits through very different paths. On SmolLM2-135M at IQ4_NL the KL
/// per unit of it spans a factor of 100 across roles (attn_v highest,
/// the tied embeddings lowest, as their error is summed over 49152
/// vocabulary rows that the next-token distribution mostly ignores), while
/// the KL of several roles quantized together is close to the sum of
/// theirs. So the allocator weighs each tensor's error by its role's KL per
/// unit error, measured at the probe format in the quantizer's own units.
public struct RoleCalibration: Sendable, Hashable {
    public struct Role: Sendable, Hashable {
        /// The tensor name without its block prefix: `attn_v.weight`, `token_embd.weight`.
        public var name: String
        /// Matrices the probe changed.
        public var tensors: Int
        public var weights: Int
        /// Mean KL divergence of the probe model from the original.
        public var klMean: Double
        public var klP999: Double
        /// Share of tokens where both models' most likely next token agree, in percent.
        public var topPercent: Double
    }

    public var probe: GGMLType
    /// Tokens each probe was scored on.
    public var tokens: Int
    public var roles: [Role]

    public init(probe: GGMLType, tokens: Int, roles: [Role]) {
        self.probe = probe
        self.tokens = tokens
        self.roles = roles
    }

    /// The role a tensor belongs to: its name without `blk.N.`.
    public static func role(of tensorName: String) -> String {
        guard tensorName.hasPrefix("blk.") else { return tensorName }
        let rest = tensorName.dropFirst(4).drop { $0.isNumber }
        return rest.first == "." ? String(rest.dropFirst()) : tensorName
    }

    /// Each menu's KL per unit of distortion: its role's measured KL over the
    /// role's total distortion in the probe format on these menus.
    public func gains(for menus: [TensorMenu]) throws -> [Double] {
        let names = menus.map { Self.role(of: $0.name) }
        var probeDistortion: [String: Double] = [:]
        for (menu, role) in zip(menus, names) {
            if let option = menu.options.first(where: { $0.type == probe }) { probeDistortion[role, default: 0] += option.distortion }
        }
        return try zip(menus, names).map { menu, role in
            guard let measured = roles.first(where: { $0.name == role }) else {
                throw CalibrationError.roleMissing(role: role, tensor: menu.name)
            }
            guard let distortion = probeDistortion[role], distortion > 0 else {
                throw CalibrationError.probeNotOnMenu(role: role, probe: probe)
            }
            // A probe that changed nothing measurable still costs something:
            // the smallest KL the report can show.
            return max(measured.klMean, 1e-9) / distortion
        }
    }
}

public enum CalibrationError: Error, Equatable, CustomStringConvertible {
    case roleMissing(role: String, tensor: String)
    case probeNotOnMenu(role: String, probe: GGMLType)
    case malformed(path: String, reason: String)
    case nothingToProbe

    public var description: String {
        switch self {
        case let .roleMissing(role, tensor):
            return "the calibration has no role '\(role)' (tensor \(tensor)): calibrate this model with lossy calibrate"
        case let .probeNotOnMenu(role, probe):
            return "no tensor of role '\(role)' can take the calibration's probe format \(probe.name)"
        case let .malformed(path, reason):
            return "\(path) is not a lossy calibration: \(reason)"
        case .nothingToProbe:
            return "the model has no quantizable matrix to probe"
        }
    }
}

extension RoleCalibration {
    /// Probes every role of `source` (a GGUF at `reference`) in `probe` on
    /// the text: one model per role, llama.cpp run once over all of them.
    /// Matrices whose rows the probe's blocks do not fit take llama.cpp's
    /// fallback, as they would when quantized.
    /// With `importance`, the probes are quantized with it, as quantize will.
    public static func measure(
        reference: String, source: any TensorSource, probe: GGMLType, importance: ImportanceMatrix? = nil,
        textPath: String, context: Int = 4096, progress: (String) -> Void = { _ in }
    ) throws -> RoleCalibration {
        var members: [(role: String, indices: [Int])] = []
        for (index, info) in source.tensors.enumerated() {
            guard QuantizationRecipe.allowsQuantization(.init(info)) else { continue }
            let role = Self.role(of: info.name)
            if let at = members.firstIndex(where: { $0.role == role }) { members[at].indices.append(index) }
            else { members.append((role, [index])) }
        }
        guard !members.isEmpty else { throw CalibrationError.nothingToProbe }
        let original = source.tensors.map(\.type)
        let fileType = LlamaFileType(defaultType: probe) ?? .mostlyF16
        let variants = members.map { member in
            var types = original
            for index in member.indices {
                types[index] = QuantizationRecipe.fallback(probe, rowLength: source.tensors[index].shape[0])
            }
            return OutputDivergence.Variant(name: member.role, types: types, fileType: fileType)
        }
        let results = try OutputDivergence.measure(
            reference: reference, source: source, variants: variants, importance: importance, textPath: textPath,
            context: context, progress: progress)
        let roles = zip(members, results).map { member, result in
            Role(name: member.role, tensors: member.indices.count,
                 weights: member.indices.reduce(0) { $0 + source.tensors[$1].elementCount },
                 klMean: result.kl.mean, klP999: result.kl.percentile(99.9), topPercent: 100 * result.topAgreement)
        }
        return RoleCalibration(probe: probe, tokens: results.first?.tokens ?? 0, roles: roles)
    }
}

extension RoleCalibration: Codable {
    enum CodingKeys: String, CodingKey { case probe, tokens, roles }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .probe)
        guard let probe = GGMLType(name: name), BlockFormats.format(for: probe) != nil else {
            throw DecodingError.dataCorruptedError(forKey: .probe, in: container, debugDescription: "unknown probe format '\(name)'")
        }
        self.probe = probe
        tokens = try container.decode(Int.self, forKey: .tokens)
        roles = try container.decode([Role].self, forKey: .roles)
        guard !roles.isEmpty, roles.allSatisfy({ $0.klMean.isFinite && $0.klMean >= 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .roles, in: container,
                                                   debugDescription: "roles must be present, with finite KL ≥ 0")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(probe.name, forKey: .probe)
        try container.encode(tokens, forKey: .tokens)
        try container.encode(roles, forKey: .roles)
    }

    /// Calibrations are a few kilobytes; anything past this is not one.
    static let maximumFileBytes = 1 << 20

    public static func load(path: String) throws -> RoleCalibration {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let data = try handle.read(upToCount: maximumFileBytes + 1) ?? Data()
        guard data.count <= maximumFileBytes else { throw CalibrationError.malformed(path: path, reason: "larger than 1 MiB") }
        do { return try JSONDecoder().decode(RoleCalibration.self, from: data) } catch {
            throw CalibrationError.malformed(path: path, reason: JSONFailure.reason(error))
        }
    }

    public func serialized() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

extension RoleCalibration.Role: Codable {
    enum CodingKeys: String, CodingKey {
        case name = "role", tensors, weights, klMean = "kl_mean", klP999 = "kl_p999", topPercent = "top1_percent"
    }
}
