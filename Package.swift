// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "LossyLab",
    // MARK: - Public API
    products: [
        .executable(name: "lossy", targets: ["LossyCLI"]),
        .library(name: "RateDistortion", targets: ["RateDistortion"]),
        .library(name: "AudioCodec", targets: ["AudioCodec"]),
        .library(name: "WeightCodec", targets: ["WeightCodec"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        // MARK: - The core: standard library and swift-numerics only
        .target(
            name: "RateDistortion",
            dependencies: [.product(name: "RealModule", package: "swift-numerics")]
        ),

        // MARK: - System libraries, each imported by one adapter
        .systemLibrary(
            name: "CSndFile",
            pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]
        ),
        .systemLibrary(
            name: "CFFTW",
            pkgConfig: "fftw3f",
            providers: [.apt(["libfftw3-dev"])]
        ),

        // MARK: - Front ends: depend on the core, never the reverse
        .target(
            name: "AudioCodec",
            dependencies: [
                "RateDistortion", "CSndFile", "CFFTW",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .target(
            name: "WeightCodec",
            dependencies: ["RateDistortion"],
            // llama.cpp through llama-cpp-python, spawned to evaluate models and collect imatrices.
            resources: [.copy("Resources/llama_runner.py")]
        ),

        // MARK: - The command line: parsing, calling, printing
        .executableTarget(
            name: "LossyCLI",
            dependencies: [
                "RateDistortion", "AudioCodec", "WeightCodec",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests
        .testTarget(
            name: "RateDistortionTests",
            dependencies: ["RateDistortion", .product(name: "RealModule", package: "swift-numerics")]
        ),
        .testTarget(name: "AudioCodecTests", dependencies: ["AudioCodec", "RateDistortion"]),
        .testTarget(name: "WeightCodecTests", dependencies: ["WeightCodec"]),
        .testTarget(name: "LossyCLITests", dependencies: ["LossyCLI", "RateDistortion", "AudioCodec", "WeightCodec"]),
    ]
)
