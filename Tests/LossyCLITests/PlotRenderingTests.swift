import Foundation
import Testing

/// Every plot lossy writes, rendered to PNG by librsvg (`rsvg-convert`) as a
/// viewer would: the PNG must exist at the SVG's size and show more than a
/// blank page.
@Suite(.serialized) struct PlotRenderingTests {
    /// Renders `svg` and returns (width, height, share of pixels that are not white) from the PNG.
    static func render(_ svg: String, in folder: URL) throws -> (width: Int, height: Int, inked: Double) {
        let png = svg.replacingOccurrences(of: ".svg", with: ".png")
        let run = try Lossy.run(["rsvg-convert", "--format", "png", "--background-color", "white", "-o", png, svg],
                                program: "/usr/bin/env")
        try #require(run.status == 0, "rsvg-convert: \(run.stderr)")
        // The PNG's header, and its pixels unfiltered (RFC 2083, section 6) with Python's zlib: the share not white.
        let script = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'not a PNG'
            pos, idat, header = 8, b'', None
            while pos < len(data):
                n, kind = struct.unpack('>I4s', data[pos:pos + 8]); body = data[pos + 8:pos + 8 + n]; pos += 12 + n
                if kind == b'IHDR': header = struct.unpack('>IIBBBBB', body)
                if kind == b'IDAT': idat += body
            w, h, depth, colour = header[:4]
            assert depth == 8, depth
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
            raw = zlib.decompress(idat); stride = w * bpp + 1
            prev, inked = bytearray(w * bpp), 0
            for y in range(h):
                kind, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
                for i in range(len(line)):
                    a = line[i - bpp] if i >= bpp else 0
                    b = prev[i]; c = prev[i - bpp] if i >= bpp else 0
                    if kind == 1: line[i] = (line[i] + a) & 255
                    elif kind == 2: line[i] = (line[i] + b) & 255
                    elif kind == 3: line[i] = (line[i] + ((a + b) >> 1)) & 255
                    elif kind == 4:
                        p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
                inked += sum(1 for x in range(0, len(line), bpp) if min(line[x:x + min(bpp, 3)]) < 250)
                prev = line
            print(w, h, inked / (w * h))
            """
        let decoded = try Lossy.run(["python3", "-c", script, png], program: "/usr/bin/env")
        try #require(decoded.status == 0, "PNG: \(decoded.stderr)")
        let fields = decoded.stdout.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        return (Int(fields[0])!, Int(fields[1])!, Double(fields[2])!)
    }

    @Test func everyPlotRendersAtItsSizeWithInkOnIt() throws {
        let folder = try Lossy.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try QuantizeCommandTests.tinyModel(in: folder)
        let sample = EncodeCommandTests.sample
        let requests: [(String, [String])] = [
            ("compare", ["compare", "--audio", sample, "--weights", model, "--bits", "3,4,5"]),
            ("sweep-audio", ["sweep", "audio", sample, "--bitrates", "64,128,320"]),
            ("sweep-weights", ["sweep", "weights", model, "--types", "Q4_0,Q8_0"]),
            ("sweep-source", ["sweep", "source", "gaussian", "--rates", "1,2,3"]),
        ]
        let mp3 = folder.appendingPathComponent("out.mp3").path
        let ghost = try Lossy.run(["encode", sample, "-o", mp3, "--bitrate", "96", "--ghost-plot", folder.appendingPathComponent("ghost.svg").path])
        try #require(ghost.status == 0, "encode --ghost-plot: \(ghost.stderr)")
        let picture = try Self.render(folder.appendingPathComponent("ghost.svg").path, in: folder)
        #expect(picture.width == 760 && picture.height == 480 && picture.inked > 0.5, "ghost: \(picture)")
        for (name, arguments) in requests {
            let svg = folder.appendingPathComponent("\(name).svg").path
            let run = try Lossy.run(arguments + ["--plot", svg])
            try #require(run.status == 0, "\(name): \(run.stderr)")
            let image = try Self.render(svg, in: folder)
            #expect(image.width == 760 && image.height == 480, "\(name): \(image)")
            #expect(image.inked > 0.01, "\(name): \(image.inked) of the pixels have ink")
        }
    }
}
