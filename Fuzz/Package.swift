// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets, one per parser, in a package of their own so that
// `lossy` and the tests never link libFuzzer's main. scripts/fuzz builds
// them with `--sanitize fuzzer --sanitize address` and runs them.

/// libFuzzer supplies `main`; the target file only exports
/// `LLVMFuzzerTestOneInput`.
let fuzzerEntry: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

func fuzzTarget(_ name: String, _ product: String, _ support: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzInput", .product(name: product, package: "LossyLab")] + support,
        swiftSettings: fuzzerEntry
    )
}

let package = Package(
    name: "LossyFuzz",
    dependencies: [.package(name: "LossyLab", path: "..")],
    targets: [
        // MARK: - Shared: the input as a file; reading every tensor
        .target(name: "FuzzInput"),
        .target(name: "FuzzTensors", dependencies: ["FuzzInput", .product(name: "WeightCodec", package: "LossyLab")]),

        // MARK: - One target per parser
        fuzzTarget("FuzzAudioFile", "AudioCodec"),
        fuzzTarget("FuzzMP3", "AudioCodec"),
        fuzzTarget("FuzzSafetensors", "WeightCodec", ["FuzzTensors"]),
        fuzzTarget("FuzzGGUF", "WeightCodec", ["FuzzTensors"]),
        fuzzTarget("FuzzImportanceMatrix", "WeightCodec"),
    ]
)
