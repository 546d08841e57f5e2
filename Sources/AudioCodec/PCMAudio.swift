/// Decoded audio: one array of samples per channel, full scale ±1.
public struct PCMAudio: Sendable, Hashable {
    public var sampleRate: Int
    /// Planar samples, `channels[c][frame]`.
    public var channels: [[Float]]
    /// What the file said it was, e.g. "WAV (Microsoft), Signed 16 bit PCM".
    public var formatDescription: String

    public init(sampleRate: Int, channels: [[Float]], formatDescription: String = "") {
        precondition(sampleRate > 0, "sample rate must be positive")
        precondition(!channels.isEmpty, "audio needs at least one channel")
        precondition(channels.allSatisfy { $0.count == channels[0].count }, "channels must be equally long")
        self.sampleRate = sampleRate
        self.channels = channels
        self.formatDescription = formatDescription
    }

    /// The channels as a coder of `count` (1 or 2) channels takes them:
    /// stereo mixed down to their mean for one, mono copied for two.
    public func channels(as count: Int) -> [[Float]] {
        switch (channels.count, count) {
        case (2, 1): return [zip(channels[0], channels[1]).map { ($0 + $1) / 2 }]
        case (1, 2): return [channels[0], channels[0]]
        default: return channels
        }
    }

    public var frameCount: Int { channels[0].count }
    public var duration: Double { Double(frameCount) / Double(sampleRate) }
}
