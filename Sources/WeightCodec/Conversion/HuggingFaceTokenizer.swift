import Foundation

/// A Hugging Face byte-level BPE tokenizer (tokenizer.json, with
/// tokenizer_config.json and config.json for its special tokens) as the
/// `tokenizer.ggml.*` keys llama.cpp reads: tokens by id, their types
/// (1 normal, 3 control for special added tokens, 4 user-defined for other
/// added tokens, 5 unused for ids with no token), merges as "a b", the
/// special token ids and the chat template.
///
/// llama.cpp picks its pre-tokenizer (the regex that splits text before
/// BPE) by name; convert_hf_to_gguf.py finds the name by hashing what the
/// tokenizer makes of a test text. Without the tokenizers library we read
/// the pre-tokenizer's description instead and recognise the layouts of
/// GPT-2 ("gpt-2"), SmolLM ("smollm": digits split one by one before
/// GPT-2's regex) and LLaMA 3 ("llama-bpe"); any other is refused.
struct HuggingFaceTokenizer {
    var metadata: GGUFMetadata

    init(folder: URL, config: [String: Any], vocabSize: Int) throws(ConversionError) {
        let tokenizer = try JSONObject(contentsOf: folder.appendingPathComponent("tokenizer.json"))
        let settings = (try? JSONObject(contentsOf: folder.appendingPathComponent("tokenizer_config.json"))) ?? [:]
        guard let model = tokenizer["model"] as? [String: Any], (model["type"] as? String) == "BPE",
              let vocab = model["vocab"] as? [String: Any] else {
            throw .unsupported("tokenizer.json whose model is not BPE (SentencePiece tokenizers need tokenizer.model)")
        }
        let pre = try Self.preTokenizerName(tokenizer["pre_tokenizer"])

        var byID: [Int: String] = [:]
        for (token, id) in vocab {
            guard let id = id as? Int, id >= 0, id < 1 << 24 else { throw .badJSON("tokenizer.json vocab entry '\(token)'") }
            byID[id] = token
        }
        var types: [Int: Int32] = [:]
        for case let added as [String: Any] in (tokenizer["added_tokens"] as? [Any]) ?? [] {
            guard let id = added["id"] as? Int, id >= 0, id < 1 << 24, let content = added["content"] as? String else {
                throw .badJSON("tokenizer.json added_tokens")
            }
            byID[id] = content
            types[id] = ((added["special"] as? NSNumber)?.boolValue ?? false) ? 3 : 4
        }
        let count = max(vocabSize, (byID.keys.max() ?? -1) + 1)
        var tokens: [String] = [], tokenTypes: [Int32] = []
        tokens.reserveCapacity(count)
        for id in 0..<count {
            if let token = byID[id] {
                tokens.append(token)
                tokenTypes.append(types[id] ?? 1)
            } else {
                tokens.append("[PAD\(id)]")
                tokenTypes.append(5)
            }
        }
        let merges: [String] = try ((model["merges"] as? [Any]) ?? []).map { merge throws(ConversionError) in
            if let text = merge as? String { return text }
            if let pair = merge as? [String], pair.count == 2 { return pair[0] + " " + pair[1] }
            throw .badJSON("tokenizer.json merges")
        }
        var metadata: GGUFMetadata = [
            "tokenizer.ggml.model": .string("gpt2"),
            "tokenizer.ggml.pre": .string(pre),
            "tokenizer.ggml.tokens": .array(GGUFArray(strings: tokens)),
            "tokenizer.ggml.token_type": .array(GGUFArray(int32: tokenTypes)),
            "tokenizer.ggml.merges": .array(GGUFArray(strings: merges)),
        ]
        let idOf = Dictionary(byID.map { ($0.value, $0.key) }, uniquingKeysWith: min)
        // A special token named in tokenizer_config.json, else its id in config.json.
        let specials = [("bos", "bos_token", "bos_token_id"), ("eos", "eos_token", "eos_token_id"),
                        ("unknown", "unk_token", "unk_token_id"), ("padding", "pad_token", "pad_token_id")]
        for (role, settingsKey, configKey) in specials {
            let named = Self.tokenText(settings[settingsKey]).flatMap { idOf[$0] }
            if let id = named ?? (config[configKey] as? Int), id >= 0, id < count {
                metadata["tokenizer.ggml.\(role)_token_id"] = .uint32(UInt32(id))
            }
        }
        metadata["tokenizer.ggml.add_bos_token"] = .bool((settings["add_bos_token"] as? NSNumber)?.boolValue ?? false)
        metadata["tokenizer.ggml.add_space_prefix"] = .bool(false)
        if let template = settings["chat_template"] as? String {
            metadata["tokenizer.chat_template"] = .string(template)
        }
        self.metadata = metadata
    }

    /// A special token as tokenizer_config.json writes it: text, or {"content": text}.
    private static func tokenText(_ value: Any?) -> String? {
        if let text = value as? String { return text }
        return (value as? [String: Any])?["content"] as? String
    }

    /// llama.cpp's pre-tokenizer name for the layouts we recognise.
    static func preTokenizerName(_ description: Any?) throws(ConversionError) -> String {
        guard let pre = description as? [String: Any], let type = pre["type"] as? String else {
            throw .unsupported("tokenizer.json without a pre_tokenizer")
        }
        func isByteLevel(_ step: [String: Any], regex: Bool) -> Bool {
            (step["type"] as? String) == "ByteLevel" && ((step["use_regex"] as? NSNumber)?.boolValue ?? true) == regex
        }
        if isByteLevel(pre, regex: true) { return "gpt-2" }
        let steps = (pre["pretokenizers"] as? [[String: Any]]) ?? []
        if type == "Sequence", steps.count == 2 {
            if (steps[0]["type"] as? String) == "Digits", (steps[0]["individual_digits"] as? NSNumber)?.boolValue == true,
               isByteLevel(steps[1], regex: true) {
                return "smollm"
            }
            if (steps[0]["type"] as? String) == "Split", isByteLevel(steps[1], regex: false),
               let pattern = (steps[0]["pattern"] as? [String: Any])?["Regex"] as? String,
               pattern.hasPrefix("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}") {
                return "llama-bpe"
            }
        }
        throw .unsupported("this tokenizer's pre-tokenizer (\(type)): lossy recognises GPT-2's, SmolLM's and LLaMA 3's")
    }
}
