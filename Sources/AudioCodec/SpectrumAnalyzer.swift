import CFFTW
import RealModule
import Synchronization

/// FFTW's planner is not thread-safe (only fftw_execute is): every plan is
/// made and destroyed under this lock, so encoders may run in parallel.
private let fftwPlanner = Mutex(())

/// Power spectra of fixed-size frames through FFTW (single precision).
///
/// The plan is made once, for one size, and reused for every frame: FFTW's
/// planning is the expensive part. An analyzer is not thread-safe; give
/// each thread its own.
public final class SpectrumAnalyzer {
    public let size: Int
    private let window: [Float]
    private let input: UnsafeMutablePointer<Float>
    private let output: OpaquePointer  // fftwf_complex*, size/2 + 1 bins
    private let plan: fftwf_plan

    /// - Parameter size: FFT length, a power of two from 16 to 65536.
    public init(size: Int) {
        precondition(size >= 16 && size <= 65536 && size & (size - 1) == 0, "FFT size must be a power of two in 16...65536")
        self.size = size
        // Periodic Hann window: overlapped at half the size it sums to a constant.
        window = (0..<size).map { n in
            Float(0.5 - 0.5 * Double.cos(2 * Double.pi * Double(n) / Double(size)))
        }
        let input = fftwf_alloc_real(size)!
        let complexOut = fftwf_alloc_complex(size / 2 + 1)!
        self.input = input
        output = OpaquePointer(complexOut)
        var made: fftwf_plan?
        fftwPlanner.withLock { _ in made = fftwf_plan_dft_r2c_1d(Int32(size), input, complexOut, UInt32(FFTW_ESTIMATE)) }
        plan = made!
    }

    deinit {
        let plan = plan
        fftwPlanner.withLock { _ in fftwf_destroy_plan(plan) }
        fftwf_free(input)
        fftwf_free(UnsafeMutableRawPointer(output))
    }

    /// |X[k]|² for k = 0 … size/2 of one Hann-windowed frame. `frame` shorter
    /// than `size` is zero-padded.
    public func powerSpectrum(of frame: ArraySlice<Float>, into power: inout [Float]) {
        precondition(frame.count <= size, "frame longer than the FFT")
        frame.withUnsafeBufferPointer { powerSpectrum(of: $0, from: 0, into: &power) }
    }

    /// |X[k]|² for k = 0 … size/2 of the Hann-windowed frame `samples[start ..< start + size]`,
    /// with zeros where that reaches outside `samples`.
    public func powerSpectrum(of samples: UnsafeBufferPointer<Float>, from start: Int, into power: inout [Float]) {
        let inside = max(0, min(start, samples.count))..<max(0, min(start + size, samples.count))
        for n in 0..<size { input[n] = 0 }
        window.withUnsafeBufferPointer { window in
            for t in inside { input[t - start] = samples[t] * window[t - start] }
        }
        fftwf_execute(plan)
        let bins = UnsafeMutableRawPointer(output).assumingMemoryBound(to: Float.self)
        if power.count != size / 2 + 1 { power = [Float](repeating: 0, count: size / 2 + 1) }
        power.withUnsafeMutableBufferPointer { power in
            for k in power.indices {
                let re = bins[2 * k], im = bins[2 * k + 1]
                power[k] = re * re + im * im
            }
        }
    }
}
