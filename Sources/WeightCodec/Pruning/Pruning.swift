/// How weights are ranked for pruning. Pruning is quantizing to zero: the
/// weights that score lowest are set to 0 before the block format sees them.
public enum PruneMethod: String, CaseIterable, Sendable {
    /// Score |w|, compared within the whole tensor: the tensor loses its
    /// smallest weights wherever they sit.
    case magnitude
    /// Wanda (Sun et al. 2023, "A Simple and Effective Pruning Approach for
    /// Large Language Models"): score |W_ij|·‖X_j‖₂, here |w_ij|·√E[x_j²]
    /// from the importance matrix, compared within each output row, as the
    /// paper does: every output channel loses the same share of its inputs.
    case wanda
    /// Semi-structured 2:4 sparsity: of every 4 consecutive weights along the
    /// input dimension the 2 that score lowest go (Wanda's score when an
    /// importance matrix is given, else |w|), so exactly half of each row.
    case twoOfFour = "2:4"
}

/// Over which weights one threshold applies.
public enum PruneScope: String, CaseIterable, Sendable {
    /// Each tensor loses the fraction (magnitude: over the tensor; Wanda:
    /// over each of its rows).
    case tensor
    /// One score threshold over every pruned tensor: tensors lose different
    /// fractions, the model as a whole the requested one. Wanda's scores
    /// compare across tensors only with absolute E[x²], which is what is used.
    case global
}

/// A pruning request: the method, the share of weights to zero, the scope.
public struct Pruning: Sendable, Hashable {
    public var method: PruneMethod
    /// Share of weights zeroed, in [0, 1); 2:4 is 0.5 by construction.
    public var fraction: Double
    public var scope: PruneScope

    /// - Parameter fraction: nil means 0.5 for 2:4 and is required otherwise.
    public init(method: PruneMethod, fraction: Double?, scope: PruneScope = .tensor) throws(PruningError) {
        if method == .twoOfFour {
            // 2 of every 4 is 50 % by construction; any other fraction is a contradiction.
            guard fraction == nil || fraction == 0.5 else { throw .twoOfFourFraction(fraction!) }
            guard scope == .tensor else { throw .twoOfFourIsLocal }
        }
        guard let fraction = fraction ?? (method == .twoOfFour ? 0.5 : nil) else { throw .missingFraction(method) }
        guard fraction >= 0 && fraction < 1 else { throw .fractionOutOfRange(fraction) }
        self.method = method
        self.fraction = fraction
        self.scope = scope
    }

    /// Whether a tensor is pruned: the linear layers inside the blocks
    /// (`blk.*` matrices the quantizer quantizes), as Wanda prunes only the
    /// linear layers of the transformer blocks. Token embeddings and the
    /// output head stay whole: zeroing an embedding row's entries removes
    /// part of a token's identity, and there is no input activation whose
    /// statistics would say which entries matter.
    public static func applies(to tensor: QuantizationRecipe.Tensor) -> Bool {
        tensor.name.hasPrefix("blk.") && QuantizationRecipe.allowsQuantization(tensor)
    }

    /// What pruning will do to a tensor: nil when it is not pruned.
    public func treatment(of tensor: QuantizationRecipe.Tensor, hasImportance: Bool) -> PruneLoss.Treatment? {
        guard Self.applies(to: tensor) else { return nil }
        switch method {
        case .magnitude: return .pruned(.magnitude, scope)
        case .wanda: return hasImportance ? .pruned(.wanda, scope) : .magnitudeFallback
        case .twoOfFour: return tensor.shape[0] % 4 == 0 ? .pruned(.twoOfFour, .tensor) : .skipped(rowLength: tensor.shape[0])
        }
    }

    /// Weights zeroed out of `count`: round(fraction·count), halves away from zero.
    public func prunedCount(of count: Int) -> Int {
        min(count, Int((fraction * Double(count)).rounded()))
    }
}

public enum PruningError: Error, Equatable, CustomStringConvertible {
    case fractionOutOfRange(Double)
    case missingFraction(PruneMethod)
    case twoOfFourFraction(Double)
    case twoOfFourIsLocal
    case wandaNeedsImportance

    public var description: String {
        switch self {
        case let .fractionOutOfRange(fraction):
            return "--prune must be a fraction in [0, 1), got \(fraction)"
        case let .missingFraction(method):
            return "--prune-method \(method.rawValue) needs --prune FRACTION"
        case let .twoOfFourFraction(fraction):
            return "--prune-method 2:4 prunes 0.5 by construction, got --prune \(fraction); drop --prune or give 0.5"
        case .twoOfFourIsLocal:
            return "--prune-method 2:4 works within groups of 4 weights: --prune-scope global does not apply"
        case .wandaNeedsImportance:
            return "--prune-method wanda scores |w|·√E[x²]: give --imatrix FILE"
        }
    }
}
