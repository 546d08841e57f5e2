import RealModule

/// A zero-mean, unit-variance source density: what a synthetic source draws
/// from, what Lloyd–Max designs for, and what sets the Shannon bound's
/// constant.
public enum SourceDensity: String, Sendable, Hashable, Codable, CaseIterable {
    case gaussian
    case laplacian

    /// Probability density at x (unit variance).
    public func pdf(_ x: Double) -> Double {
        switch self {
        case .gaussian:
            return Double.exp(-x * x / 2) / (2 * Double.pi).squareRoot()
        case .laplacian:
            // Scale b = 1/√2 gives variance 2b² = 1.
            let b = 1 / 2.0.squareRoot()
            return Double.exp(-abs(x) / b) / (2 * b)
        }
    }

    /// Entropy power over variance, 2^(2h)/(2πe·σ²): 1 for the Gaussian (the
    /// largest), e/π ≈ 0.865 for the Laplacian. The Shannon lower bound is
    /// D(R) ≥ (entropy power)·2^(−2R), tight for the Gaussian at every rate.
    public var entropyPowerRatio: Double {
        switch self {
        case .gaussian: return 1
        case .laplacian: return Double.exp(1) / Double.pi
        }
    }

    /// Where the density is negligible (below 1e-30 of its peak), in units of σ.
    var support: Double {
        switch self {
        case .gaussian: return 12
        case .laplacian: return 50
        }
    }

    /// Zeroth, first and second moments of the density over [a, b]:
    /// ∫p, ∫x·p and ∫x²·p. Closed forms, so Lloyd–Max converges to the
    /// published tables rather than to quadrature error.
    public func moments(_ a: Double, _ b: Double) -> (mass: Double, first: Double, second: Double) {
        precondition(a <= b, "empty interval")
        switch self {
        case .gaussian:
            let cdf = { (x: Double) in 0.5 * Double.erfc(-x / 2.0.squareRoot()) }
            let mass = cdf(b) - cdf(a)
            let first = pdf(a) - pdf(b)
            let second = mass + a * pdf(a) - b * pdf(b)
            return (mass, first, second)
        case .laplacian:
            // Split at zero; on x ≥ 0 the density is λ/2·e^(−λx) with λ = √2.
            if a < 0 && b > 0 {
                let left = moments(a, 0)
                let right = moments(0, b)
                return (left.mass + right.mass, left.first + right.first, left.second + right.second)
            }
            if b <= 0 {
                let mirrored = moments(-b, -a)
                return (mirrored.mass, -mirrored.first, mirrored.second)
            }
            let lambda = 2.0.squareRoot()
            // Antiderivatives of the moments of ½λe^(−λx) on [0, ∞), evaluated at x.
            func tail(_ x: Double) -> (Double, Double, Double) {
                let e = 0.5 * Double.exp(-lambda * x)
                return (e, e * (x + 1 / lambda), e * (x * x + 2 * x / lambda + 2 / (lambda * lambda)))
            }
            let (m0a, m1a, m2a) = tail(a)
            let (m0b, m1b, m2b) = tail(b)
            return (m0a - m0b, m1a - m1b, m2a - m2b)
        }
    }
}
