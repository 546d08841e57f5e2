import Foundation
import Testing
import WeightCodec

private typealias Support = WeightFileTestSupport

struct SafetensorsTests {
    /// Five tensors out of offset order in the JSON, a scalar and an empty one.
    static let json = """
    {"w.u8":{"dtype":"U8","shape":[3],"data_offsets":[28,31]},
     "__metadata__":{"format":"pt","note":"ünï"},
     "w.f32":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},
     "w.f16":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},
     "w.bf16":{"dtype":"BF16","shape":[1,2],"data_offsets":[20,24]},
     "w.i8":{"dtype":"I8","shape":[],"data_offsets":[24,25]},
     "w.none":{"dtype":"F32","shape":[0,4],"data_offsets":[25,25]},
     "w.i64":{"dtype":"I64","shape":[0],"data_offsets":[31,31]}}
    """

    @Test func readsEveryDTypeInOffsetOrder() throws {
        try Support.withTemporaryFolder { folder in
            let path = folder + "/m.safetensors"
            let data = Support.bytes(31, seed: 3)
            try Support.write(handMadeSafetensors(json: Self.json, data: data), to: path)
            let file = try SafetensorsFile(path: path)
            #expect(file.metadata == ["format": "pt", "note": "ünï"])
            #expect(file.tensors.map(\.name) == ["w.f32", "w.f16", "w.bf16", "w.i8", "w.none", "w.u8", "w.i64"])
            #expect(file.tensors.map(\.dtype) == [.f32, .f16, .bf16, .i8, .f32, .u8, .i64])
            #expect(file.tensors.map(\.dataType) == [.f32, .f16, .bf16, .i8, .f32, .u8, nil])
            #expect(file.tensor(named: "w.f32")?.shape == [2, 2])
            #expect(file.tensor(named: "w.bf16")?.ggmlShape == [2, 1])
            #expect(file.tensor(named: "w.i8")?.elementCount == 1)
            #expect(file.dataOffset == 8 + Self.json.utf8.count)
            for tensor in file.tensors {
                #expect(Array(file.data(of: tensor)) == Array(data[tensor.dataOffsets]), "\(tensor.name)")
            }
            let i64 = try #require(file.tensor(named: "w.i64"))
            #expect(throws: WeightFileError.unsupportedDType(tensor: "w.i64", dtype: "I64")) { try i64.requireDataType() }
            #expect(try file.tensors[0].requireDataType() == .f32)
            // The checkpoint view of a single file is the file.
            let checkpoint = try SafetensorsCheckpoint(path: path)
            #expect(checkpoint.tensors == file.tensors)
            #expect(checkpoint.indexPath == nil)
            #expect(Array(checkpoint.data(of: i64)).isEmpty)
        }
    }

    /// Files written by Python (the `safetensors` package when installed, by
    /// hand otherwise; BF16 by hand since numpy has none), one of them sharded.
    @Test(.enabled(if: PythonReferee.shouldRun("numpy")))
    func readsWhatPythonWrites() throws {
        try Support.withTemporaryFolder { folder in
            let script = """
            import sys, os, json, struct, numpy as np
            folder = sys.argv[1]
            def by_hand(path, tensors, metadata=None):
                header, blobs, offset = {}, [], 0
                if metadata: header['__metadata__'] = metadata
                for name, (dtype, shape, raw) in tensors.items():
                    header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [offset, offset + len(raw)]}
                    blobs.append(raw); offset += len(raw)
                text = json.dumps(header).encode()
                text += b' ' * (-len(text) % 8)
                with open(path, 'wb') as f:
                    f.write(struct.pack('<Q', len(text))); f.write(text); f.write(b''.join(blobs))
            def save(path, arrays, metadata):
                try:
                    from safetensors.numpy import save_file
                    save_file(arrays, path, metadata=metadata)
                except ImportError:
                    names = {np.float32: 'F32', np.float16: 'F16', np.int8: 'I8', np.uint8: 'U8'}
                    by_hand(path, {k: (names[v.dtype.type], v.shape, v.tobytes()) for k, v in arrays.items()}, metadata)
            rng = np.random.default_rng(2)
            single = {'layers.0.w': rng.standard_normal((3, 5)).astype(np.float32),
                      'layers.0.h': rng.standard_normal((4, 2, 3)).astype(np.float16),
                      'emb.i8': rng.integers(-128, 128, (7,), dtype=np.int8),
                      'mask.u8': rng.integers(0, 256, (2, 9), dtype=np.uint8)}
            save(os.path.join(folder, 'single.safetensors'), single, {'format': 'np'})
            bf = (rng.standard_normal((2, 3)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
            by_hand(os.path.join(folder, 'bf16.safetensors'), {'bf': ('BF16', (2, 3), bf.tobytes())})
            shard1 = {'a.w': rng.standard_normal((2, 4)).astype(np.float32), 'a.b': np.arange(3, dtype=np.float16)}
            shard2 = {'b.w': rng.standard_normal((5,)).astype(np.float32)}
            save(os.path.join(folder, 'model-00001-of-00002.safetensors'), shard1, {'format': 'pt'})
            save(os.path.join(folder, 'model-00002-of-00002.safetensors'), shard2, {'format': 'pt'})
            weight_map = {k: 'model-00001-of-00002.safetensors' for k in shard1}
            weight_map.update({k: 'model-00002-of-00002.safetensors' for k in shard2})
            with open(os.path.join(folder, 'model.safetensors.index.json'), 'w') as f:
                json.dump({'metadata': {'total_size': 46}, 'weight_map': weight_map}, f)
            names = {np.float32: 'F32', np.float16: 'F16', np.int8: 'I8', np.uint8: 'U8'}
            for file, arrays in [('single', single), ('shards', {**shard1, **shard2})]:
                for k, v in sorted(arrays.items()):
                    print(file, k, names[v.dtype.type], ','.join(map(str, v.shape)), v.tobytes().hex())
            print('bf16', 'bf', 'BF16', '2,3', bf.tobytes().hex())
            """
            let lines = try PythonReferee.check(script, arguments: [folder]).split(separator: "\n").map(String.init)
            try #require(lines.count == 8)
            func line(_ group: String, _ tensor: SafetensorsTensorInfo, _ bytes: UnsafeRawBufferPointer) -> String {
                [group, tensor.name, tensor.dtype.rawValue, tensor.shape.map(String.init).joined(separator: ","),
                 Support.hex(Array(bytes))].joined(separator: " ")
            }
            let single = try SafetensorsCheckpoint(path: folder + "/single.safetensors")
            let sharded = try SafetensorsCheckpoint(path: folder)
            let bf16 = try SafetensorsFile(path: folder + "/bf16.safetensors")
            var ours = single.tensors.sorted { $0.name < $1.name }.map { line("single", $0, single.data(of: $0)) }
            ours += sharded.tensors.sorted { $0.name < $1.name }.map { line("shards", $0, sharded.data(of: $0)) }
            ours += bf16.tensors.map { line("bf16", $0, bf16.data(of: $0)) }
            #expect(ours == lines)
            #expect(single.metadata == ["format": "np"])
            #expect(sharded.shards.count == 2)
            #expect(sharded.indexPath == folder + "/model.safetensors.index.json")
            #expect(sharded.shard(of: "b.w")?.path == folder + "/model-00002-of-00002.safetensors")
            #expect(sharded.tensor(named: "a.b")?.dataType == .f16)
            // Tensors of each file in data-offset order.
            for shard in sharded.shards + single.shards {
                #expect(shard.tensors.map(\.dataOffsets.lowerBound) == shard.tensors.map(\.dataOffsets.lowerBound).sorted())
            }
            // BF16 widens exactly: the value is the top half of the binary32.
            let bf = bf16.data(of: bf16.tensors[0])
            let first = TensorDataType.bf16.value(littleEndian: Array(bf[0..<2]))
            #expect(first.bitPattern & 0xFFFF == 0)
        }
    }
}
