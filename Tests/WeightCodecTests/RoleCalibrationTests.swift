import Foundation
import Testing
@testable import WeightCodec

/// The allocator weighted by measured per-role KL: on the generated model
/// of the allocator tests, with calibrations written here.
@Suite struct RoleCalibrationTests {
    static func calibration(_ kl: [String: Double]) -> RoleCalibration {
        RoleCalibration(probe: .iq4_nl, tokens: 100, roles: kl.sorted { $0.key < $1.key }.map {
            .init(name: $0.key, tensors: 1, weights: 1, klMean: $0.value, klP999: 10 * $0.value, topPercent: 90)
        })
    }

    @Test func aRoleIsTheNameWithoutItsBlock() {
        #expect(RoleCalibration.role(of: "blk.12.attn_v.weight") == "attn_v.weight")
        #expect(RoleCalibration.role(of: "blk.0.ffn_down.weight") == "ffn_down.weight")
        #expect(RoleCalibration.role(of: "token_embd.weight") == "token_embd.weight")
        #expect(RoleCalibration.role(of: "output.weight") == "output.weight")
        #expect(RoleCalibration.role(of: "blk.x.weight") == "blk.x.weight")
    }

    /// Each menu's gain is its role's KL over the role's summed distortion in the probe format.
    @Test func gainsAreKLPerUnitOfProbeDistortion() throws {
        let (model, importance) = FormatAllocatorTests.model()
        let plain = try FormatAllocatorTests.allocate(model, importance, rate: 5)
        let calibration = Self.calibration(["ffn_down.weight": 0.04, "attn_q.weight": 0.01])
        let gains = try calibration.gains(for: plain.menus)
        let probe = { (menu: TensorMenu) in menu.options.first { $0.type == .iq4_nl }!.distortion }
        let downs = plain.menus.filter { $0.name.hasSuffix("ffn_down.weight") }
        let downDistortion = downs.reduce(0.0) { $0 + probe($1) }
        for (menu, gain) in zip(plain.menus, gains) {
            let expected = menu.name.hasSuffix("ffn_down.weight") ? 0.04 / downDistortion : 0.01 / probe(menu)
            #expect(abs(gain - expected) <= 1e-12 * expected, "\(menu.name)")
        }
        // So the role's predicted KL in the probe format is what was measured.
        let predicted = zip(plain.menus, gains).filter { $0.0.name.hasSuffix("ffn_down.weight") }.reduce(0.0) { $0 + probe($1.0) * $1.1 }
        #expect(abs(predicted - 0.04) < 1e-12)
    }

    /// A role whose error costs far more KL gets more bits, and the
    /// calibrated choice predicts less KL than the uncalibrated one.
    @Test func theCalibratedAllocationSpendsWhereTheKLIs() throws {
        let (model, importance) = FormatAllocatorTests.model()
        let calibration = Self.calibration(["ffn_down.weight": 1e-4, "attn_q.weight": 1])
        let plain = try FormatAllocatorTests.allocate(model, importance, rate: 5)
        let calibrated = try ModelQuantizer.fitting(.bitsPerWeight(5), source: model, importance: importance,
                                                   calibration: calibration).allocation
        #expect(calibrated.spentBits <= calibrated.budgetBits)
        func rate(_ allocation: FormatAllocation, _ name: String) -> Double {
            let i = allocation.menus.firstIndex { $0.name == name }!
            return Double(allocation.menus[i].options[allocation.choices[i]].bytes * 8) / Double(allocation.menus[i].elementCount)
        }
        #expect(rate(calibrated, "blk.0.attn_q.weight") > rate(plain, "blk.0.attn_q.weight"))
        #expect(rate(calibrated, "blk.3.ffn_down.weight") < rate(plain, "blk.3.ffn_down.weight"))
        let gains = try calibration.gains(for: plain.menus)
        let plainKL = plain.menus.indices.reduce(0.0) { $0 + plain.menus[$1].options[plain.choices[$1]].distortion * gains[$1] }
        #expect(calibrated.totalCost < plainKL)
        #expect(abs(calibrated.totalCost - calibrated.menus.indices.reduce(0.0) { $0 + calibrated.cost(of: $1) }) < 1e-12)
    }

    /// The probe is measured even when the allocator may not choose it.
    @Test func aProbeOutsideTheCandidatesIsMeasuredButNotOffered() throws {
        let (model, importance) = FormatAllocatorTests.model()
        let calibration = Self.calibration(["ffn_down.weight": 0.04, "attn_q.weight": 0.01])
        let allocation = try ModelQuantizer.fitting(.bitsPerWeight(6), source: model, importance: importance,
                                                   candidates: [.q4_0, .q8_0, .f16], calibration: calibration).allocation
        #expect(allocation.gains?.count == allocation.menus.count)
        #expect(allocation.menus.allSatisfy { Set($0.options.map(\.type)) == [.q4_0, .q8_0, .f16] })
    }

    @Test func aRoleTheCalibrationLacksIsAnError() throws {
        let (model, importance) = FormatAllocatorTests.model()
        #expect(throws: CalibrationError.roleMissing(role: "attn_q.weight", tensor: "blk.0.attn_q.weight")) {
            try ModelQuantizer.fitting(.bitsPerWeight(5), source: model, importance: importance,
                                       calibration: Self.calibration(["ffn_down.weight": 0.04]))
        }
    }

    @Test func theFileRoundTripsAndBadFilesSayWhy() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lossy-calibration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let calibration = Self.calibration(["ffn_down.weight": 0.04, "attn_q.weight": 0.01])
        let path = folder.appendingPathComponent("roles.json").path
        try calibration.serialized().write(to: URL(fileURLWithPath: path))
        #expect(try RoleCalibration.load(path: path) == calibration)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"probe\" : \"IQ4_NL\"") && text.contains("\"kl_mean\" : 0.04"), "\(text)")

        let bad: [(String, String)] = [
            ("{}", "probe"),
            ("[1, 2]", "is not a lossy calibration"),
            (#"{"probe": "Q9_9", "tokens": 1, "roles": []}"#, "unknown probe format 'Q9_9'"),
            (#"{"probe": "IQ4_NL", "tokens": 1, "roles": []}"#, "roles must be present"),
            (#"{"probe": "IQ4_NL", "tokens": 1, "roles": [{"role": "a", "tensors": 1, "weights": 1, "kl_mean": -1, "kl_p999": 0, "top1_percent": 0}]}"#,
             "finite KL ≥ 0"),
            (String(repeating: " ", count: (1 << 20) + 1), "larger than 1 MiB"),
        ]
        for (contents, message) in bad {
            try contents.write(toFile: path, atomically: true, encoding: .utf8)
            do {
                _ = try RoleCalibration.load(path: path)
                Issue.record("\(contents.prefix(40)) was accepted")
            } catch let error as CalibrationError {
                #expect(error.description.contains(message) && error.description.contains(path), "\(error)")
            }
        }
    }
}
