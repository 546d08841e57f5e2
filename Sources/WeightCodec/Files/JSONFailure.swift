import Foundation

/// Why a JSON document did not decode, in one short phrase for an error message.
enum JSONFailure {
    static func reason(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        switch error {
        case let .dataCorrupted(context): return context.underlyingError.map { "\($0)" } ?? context.debugDescription
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .keyNotFound(_, context):
            return context.debugDescription
        @unknown default: return String(describing: error)
        }
    }
}
