#!/usr/bin/env python3
"""Writes a Hugging Face LLaMA checkpoint (config.json, tokenizer.json,
tokenizer_config.json, F16 safetensors in two shards with an index) from a
llama-architecture GGUF: the test input for lossy's safetensors conversion.

  make_hf_checkpoint.py MODEL.gguf OUT_FOLDER

Weights are dequantized by the gguf package and stored as F16; the rows of
attn_q/attn_k are put back in HF's rotary order (each head's pairs as two
halves), the inverse of what llama.cpp's converter does.
"""
import json
import os
import sys

import gguf
import numpy as np
from safetensors.numpy import save_file


def field(reader, key):
    return reader.fields[key].contents()


def hf_rotary_order(rows, heads):
    # GGUF interleaves each head's pairs (x0, x_h, x1, x_{h+1}, ...); HF keeps two halves.
    n, cols = rows.shape
    return rows.reshape(heads, n // heads // 2, 2, cols).swapaxes(1, 2).reshape(n, cols)


def main(model, out):
    reader = gguf.GGUFReader(model)
    heads = int(field(reader, "llama.attention.head_count"))
    kv_heads = int(field(reader, "llama.attention.head_count_kv"))
    layers = int(field(reader, "llama.block_count"))
    names = {"token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
             "output.weight": "lm_head.weight"}
    per_layer = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
                 "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
                 "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm"}
    tensors = {}
    for t in reader.tensors:
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        values = values.reshape([int(d) for d in reversed(t.shape)])
        if t.name in names:
            name = names[t.name]
        else:
            _, layer, kind, _ = t.name.split(".")
            name = f"model.layers.{layer}.{per_layer[kind]}.weight"
            if kind == "attn_q":
                values = hf_rotary_order(values, heads)
            elif kind == "attn_k":
                values = hf_rotary_order(values, kv_heads)
        tensors[name] = np.ascontiguousarray(values.astype(np.float16))
    os.makedirs(out, exist_ok=True)
    ordered = sorted(tensors)
    shards = [ordered[: len(ordered) // 2], ordered[len(ordered) // 2:]]
    weight_map = {}
    for i, shard in enumerate(shards):
        file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file({n: tensors[n] for n in shard}, os.path.join(out, file), metadata={"format": "pt"})
        weight_map.update({n: file for n in shard})
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(v.nbytes for v in tensors.values())}, "weight_map": weight_map}, f)

    tokens = [str(t) for t in field(reader, "tokenizer.ggml.tokens")]
    types = [int(t) for t in field(reader, "tokenizer.ggml.token_type")]
    merges = [str(m) for m in field(reader, "tokenizer.ggml.merges")]
    special = lambda key: tokens[int(field(reader, key))]
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": int(field(reader, "llama.embedding_length")),
        "intermediate_size": int(field(reader, "llama.feed_forward_length")),
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
        "max_position_embeddings": int(field(reader, "llama.context_length")),
        "rms_norm_eps": float(field(reader, "llama.attention.layer_norm_rms_epsilon")),
        "rope_theta": float(field(reader, "llama.rope.freq_base")), "rope_scaling": None,
        "vocab_size": len(tokens), "tie_word_embeddings": "output.weight" not in {t.name for t in reader.tensors},
        "bos_token_id": int(field(reader, "tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(field(reader, "tokenizer.ggml.eos_token_id")), "torch_dtype": "float16",
    }
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": tokens[i], "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, k in enumerate(types) if k == 3],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges},
    }
    tokenizer_config = {
        "add_bos_token": bool(field(reader, "tokenizer.ggml.add_bos_token")),
        "bos_token": special("tokenizer.ggml.bos_token_id"), "eos_token": special("tokenizer.ggml.eos_token_id"),
        "unk_token": special("tokenizer.ggml.unknown_token_id"), "pad_token": special("tokenizer.ggml.padding_token_id"),
        "chat_template": str(field(reader, "tokenizer.chat_template")),
        "tokenizer_class": "GPT2Tokenizer",
    }
    for name, value in [("config.json", config), ("tokenizer.json", tokenizer), ("tokenizer_config.json", tokenizer_config)]:
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
