import Foundation

/// A model's weights in safetensors: one file, or shards listed by a
/// `model.safetensors.index.json` (`{"metadata": {…}, "weight_map":
/// {tensor name: shard file name}}`, the layout `transformers` saves).
///
/// Each shard is opened and mapped once; mapping reads nothing but the
/// header until a tensor's bytes are touched, so opening a 30-shard
/// checkpoint costs 30 headers. Names must be unique across shards, every
/// name in the index must be in the shard it names, and every tensor of a
/// shard must be in the index.
public struct SafetensorsCheckpoint: Sendable {
    /// The shard files, in the order of their names (a single file is one shard).
    public let shards: [SafetensorsFile]
    /// The index file, for a sharded checkpoint.
    public let indexPath: String?
    /// Every tensor: shard by shard, each shard's in data-offset order.
    public let tensors: [SafetensorsTensorInfo]
    private let shardOfTensor: [String: Int]

    /// The `__metadata__` of the first shard ({"format": "pt"} as torch saves it).
    public var metadata: [String: String] { shards.first?.metadata ?? [:] }

    /// Opens `path`: a .safetensors file, an index .json, or a directory
    /// holding `model.safetensors.index.json` or `model.safetensors`.
    public init(path: String) throws(WeightFileError) {
        var isDirectory: ObjCBool = false
        var path = path
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let index = path + "/model.safetensors.index.json", single = path + "/model.safetensors"
            if FileManager.default.fileExists(atPath: index) {
                path = index
            } else if FileManager.default.fileExists(atPath: single) {
                path = single
            } else {
                throw .noCheckpoint(directory: path)
            }
        }
        if path.hasSuffix(".json") {
            self = try Self.sharded(indexPath: path)
        } else {
            let file = try SafetensorsFile(path: path)
            self.init(shards: [file], indexPath: nil, tensors: file.tensors,
                      shardOfTensor: Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, 0) }))
        }
    }

    private init(shards: [SafetensorsFile], indexPath: String?, tensors: [SafetensorsTensorInfo], shardOfTensor: [String: Int]) {
        self.shards = shards
        self.indexPath = indexPath
        self.tensors = tensors
        self.shardOfTensor = shardOfTensor
    }

    private static func sharded(indexPath: String) throws(WeightFileError) -> SafetensorsCheckpoint {
        let weightMap = try Self.readWeightMap(indexPath)
        let folder = (indexPath as NSString).deletingLastPathComponent
        let shardNames = Set(weightMap.values).sorted()
        var shards: [SafetensorsFile] = []
        for shardName in shardNames {
            guard !shardName.isEmpty, !shardName.contains("/"), shardName != ".", shardName != ".." else {
                throw .badShardName(shardName)
            }
            let shardPath = folder.isEmpty ? shardName : folder + "/" + shardName
            guard FileManager.default.fileExists(atPath: shardPath) else {
                let firstTensor = weightMap.filter { $0.value == shardName }.keys.min() ?? ""
                throw .missingShard(shard: shardName, tensor: firstTensor, index: indexPath)
            }
            do {
                shards.append(try SafetensorsFile(path: shardPath))
            } catch {
                throw .inFile(path: shardName, error: error)
            }
        }
        let shardIndex = Dictionary(uniqueKeysWithValues: shardNames.enumerated().map { ($1, $0) })
        for (name, shardName) in weightMap.sorted(by: { $0.key < $1.key })
        where shards[shardIndex[shardName]!].tensor(named: name) == nil {
            throw .tensorNotInShard(tensor: name, shard: shardName)
        }
        var tensors: [SafetensorsTensorInfo] = []
        var shardOfTensor: [String: Int] = [:]
        for (index, shard) in shards.enumerated() {
            for tensor in shard.tensors {
                guard let indexed = weightMap[tensor.name] else {
                    throw .tensorNotInIndex(tensor: tensor.name, shard: shardNames[index])
                }
                // The indexed shard holds it too (checked above), so this is a second copy.
                guard indexed == shardNames[index] else {
                    throw .duplicateTensorAcrossShards(tensor: tensor.name, shard: shardNames[index], otherShard: indexed)
                }
                shardOfTensor[tensor.name] = index
                tensors.append(tensor)
            }
        }
        return SafetensorsCheckpoint(shards: shards, indexPath: indexPath, tensors: tensors, shardOfTensor: shardOfTensor)
    }

    /// The index's `weight_map`, checked to be an object of strings.
    private static func readWeightMap(_ path: String) throws(WeightFileError) -> [String: String] {
        let file = try MappedFile(path: path)
        guard file.count <= SafetensorsFile.maximumHeaderSize else {
            throw .invalidJSON(file: path, reason: "\(file.count) bytes is over the \(SafetensorsFile.maximumHeaderSize)-byte limit")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(file.bytes))
        } catch {
            throw .invalidJSON(file: path, reason: JSONFailure.reason(error))
        }
        guard let root = object as? [String: Any] else { throw .invalidJSON(file: path, reason: "it is not a JSON object") }
        guard let map = root["weight_map"] else { throw .invalidJSON(file: path, reason: "it has no 'weight_map'") }
        guard let weightMap = map as? [String: String] else {
            throw .invalidJSON(file: path, reason: "'weight_map' must map tensor names to shard file names")
        }
        return weightMap
    }

    public func tensor(named name: String) -> SafetensorsTensorInfo? {
        shardOfTensor[name].flatMap { shards[$0].tensor(named: name) }
    }

    /// The shard file holding tensor `name`.
    public func shard(of name: String) -> SafetensorsFile? { shardOfTensor[name].map { shards[$0] } }

    /// The bytes of `tensor`, a view into its shard's mapping (no copy),
    /// valid while this checkpoint is alive.
    public func data(of tensor: SafetensorsTensorInfo) -> UnsafeRawBufferPointer {
        guard let shard = shardOfTensor[tensor.name] else { preconditionFailure("tensor '\(tensor.name)' is not in this checkpoint") }
        return shards[shard].data(of: tensor)
    }

    /// Lets the pages of `tensor` leave resident memory (see `MappedFile.release`).
    public func release(_ tensor: SafetensorsTensorInfo) {
        guard let shard = shardOfTensor[tensor.name] else { return }
        let file = shards[shard]
        file.mapping.release((file.dataOffset + tensor.dataOffsets.lowerBound)..<(file.dataOffset + tensor.dataOffsets.upperBound))
    }
}
