#!/usr/bin/env python3
"""llama.cpp (through llama-cpp-python) as lossy's runtime for model evaluation and importance matrices.

  llama_runner.py evaluate --reference REF.gguf --text FILE --out OUT.json [--context N] [--threads T] MODEL.gguf...
      Tokenizes FILE with REF's tokenizer (BOS as REF's metadata says) and runs REF and every MODEL on the same
      tokens. Position i is scored when the model predicts token i from the tokens before it in its window. With
      at most N tokens there is one window, scoring 1...n-1; otherwise windows of N tokens start every N/2 tokens,
      the first scoring 1...N-1 and each later one only the positions the previous window did not reach, each
      window in a fresh context. All MODELs must share REF's vocabulary. Per scored position, in float64 over
      the whole vocabulary: kl = KL(p_ref || p_model) in nats, logprob = log p(actual token), top = argmax id.
      REF runs once: its float32 logits of the scored positions are kept for as many consecutive windows as fit
      in about 1 GB (at least one window), REF is freed, and each MODEL is loaded once per such group of windows.
      {"token_count": n, "context": N,
       "tokens": [{"id": int, "text": str}, ...],            all n tokens; text is the piece, UTF-8 "replace"
       "scored": [i, ...],                                   ascending
       "reference": {"path": REF, "logprob": [...], "top": [...]},
       "models": [{"path": MODEL, "kl": [...], "logprob": [...], "top": [...]}, ...],
       "pieces": {"id": str, ...}}                           the piece of every id in any "top", keys ascending

  llama_runner.py imatrix MODEL.gguf --text FILE --out OUT.json [--context N] [--threads T]
      An importance matrix as llama.cpp's llama-imatrix computes it: FILE is cut into chunks of N tokens (BOS
      first in each chunk when the model adds BOS; tokens past the last whole chunk are dropped), each chunk run
      in a fresh context, and for every matrix multiplication by a model weight the input activations x
      (one row per token) are summed as sum2[j] = sum over rows of x_j^2, with count = the number of rows.
      Unlike llama-imatrix's defaults, the output projection is kept (token_embd.weight when tied) and every
      row counts (llama-imatrix skips batches under 16 rows), so each count is chunk_count * N.
      {"chunk_count": k, "chunk_size": N, "dataset": basename of FILE,
       "tensors": {"blk.0.attn_q.weight": {"count": rows, "sum2": [per input column]}, ...}}   in order first seen

Errors are one line on stderr and exit status 1.
"""
import argparse
import ctypes
import json
import os
import sys
import tempfile
from dataclasses import dataclass

import numpy as np
import llama_cpp

BATCH_TOKENS = 512
SOFTMAX_ROWS = 64  # rows per float64 log-softmax: 64 x 49152 x 8 bytes = 25 MB per temporary
REFERENCE_BYTES = 1 << 30  # float32 reference logits kept at once (more only when one window needs more)


class RunnerError(Exception):
    """Bad input or a llama.cpp failure, reported as one line."""


# MARK: llama.cpp sessions

class LlamaLog:
    """Keeps llama.cpp quiet, remembering its first error since reset() to explain a failure."""

    ERROR = 4  # GGML_LOG_LEVEL_ERROR in ggml.h

    def __init__(self):
        self.first_error = ""
        self.callback = llama_cpp.llama_log_callback(self.receive)  # referenced for as long as llama.cpp may call it
        llama_cpp.llama_log_set(self.callback, None)

    def reset(self):
        self.first_error = ""

    def receive(self, level, text, user_data):
        if level == self.ERROR and not self.first_error:
            self.first_error = text.decode("utf-8", errors="replace").strip()

    def reason(self):
        return f": {self.first_error}" if self.first_error else ""


LOG = LlamaLog()
llama_cpp.llama_backend_init()


def load_model(path, vocab_only=False):
    if not os.path.isfile(path):
        raise RunnerError(f"no such model file: {path}")
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = vocab_only
    LOG.reset()
    model = llama_cpp.llama_model_load_from_file(path.encode(), params)
    if not model:
        raise RunnerError(f"llama.cpp cannot load {path}{LOG.reason()}")
    return model


class Session:
    """One model with one context of n_ctx positions, decoding a single sequence."""

    def __init__(self, path, n_ctx, threads, eval_callback=None):
        self.path = path
        self.model = load_model(path)
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.batch_tokens = min(BATCH_TOKENS, n_ctx)
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = n_ctx
        params.n_batch = params.n_ubatch = self.batch_tokens
        params.n_seq_max = 1
        params.n_threads = params.n_threads_batch = threads
        params.no_perf = True
        if eval_callback is not None:
            params.cb_eval = eval_callback
        LOG.reset()
        self.context = llama_cpp.llama_init_from_model(self.model, params)
        if not self.context:
            llama_cpp.llama_model_free(self.model)
            raise RunnerError(f"llama.cpp cannot make a {n_ctx}-token context for {path}{LOG.reason()}")
        self.batch = llama_cpp.llama_batch_init(self.batch_tokens, 0, 1)
        self.output_rows = 0

    def close(self):
        llama_cpp.llama_batch_free(self.batch)
        llama_cpp.llama_free(self.context)
        llama_cpp.llama_model_free(self.model)

    def clear(self):
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(self.context), True)

    def decode(self, tokens, first_position, wanted):
        """Decodes tokens at positions first_position...; logits() then has a row for each wanted[k] true."""
        assert len(tokens) <= self.batch_tokens
        batch = self.batch
        for k, token in enumerate(tokens):
            batch.token[k] = token
            batch.pos[k] = first_position + k
            batch.n_seq_id[k] = 1
            batch.seq_id[k][0] = 0
            batch.logits[k] = bool(wanted[k])
        batch.n_tokens = len(tokens)
        LOG.reset()
        status = llama_cpp.llama_decode(self.context, batch)
        if status != 0:
            raise RunnerError(f"llama_decode failed with status {status} on {self.path}{LOG.reason()}")
        self.output_rows = sum(bool(w) for w in wanted)

    def logits(self):
        """A float32 copy of the last decode's logits, one row per wanted token."""
        if self.output_rows == 0:
            return np.empty((0, self.n_vocab), dtype=np.float32)
        logits = llama_cpp.llama_get_logits(self.context)
        return np.ctypeslib.as_array(logits, shape=(self.output_rows, self.n_vocab)).copy()


def read_text(path):
    if not os.path.isfile(path):
        raise RunnerError(f"no such text file: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as error:
        raise RunnerError(f"{path} is not UTF-8: {error}")
    if not text.strip():
        raise RunnerError(f"{path} has no text")
    return text


def tokenize(vocab, text):
    """Token ids of text, with BOS when the vocabulary's metadata adds it (as llama-cpp-python's add_bos=True)."""
    data = text.encode("utf-8")
    capacity = len(data) + 2  # a token covers at least one byte, plus BOS and EOS
    ids = (llama_cpp.llama_token * capacity)()
    count = llama_cpp.llama_tokenize(vocab, data, len(data), ids, capacity, True, False)
    if count < 0:
        raise RunnerError(f"llama_tokenize needs {-count} tokens, more than the {capacity} it was given")
    return list(ids[:count])


def token_piece(vocab, token):
    buffer = ctypes.create_string_buffer(256)
    length = llama_cpp.llama_token_to_piece(vocab, token, buffer, len(buffer), 0, True)
    if length < 0:
        buffer = ctypes.create_string_buffer(-length)
        length = llama_cpp.llama_token_to_piece(vocab, token, buffer, len(buffer), 0, True)
    return buffer.raw[:length].decode("utf-8", errors="replace")


def vocabulary(vocab):
    """Text and attributes of every token: what two models must agree on to share token ids."""
    count = llama_cpp.llama_vocab_n_tokens(vocab)
    return [(llama_cpp.llama_vocab_get_text(vocab, t), llama_cpp.llama_vocab_get_attr(vocab, t)) for t in range(count)]


def check_same_vocabulary(reference, models):
    """The size of REF's vocabulary, after checking that every model has the same one."""
    ref_model = load_model(reference, vocab_only=True)
    expected = vocabulary(llama_cpp.llama_model_get_vocab(ref_model))
    llama_cpp.llama_model_free(ref_model)
    for path in models:
        model = load_model(path, vocab_only=True)
        tokens = vocabulary(llama_cpp.llama_model_get_vocab(model))
        llama_cpp.llama_model_free(model)
        if len(tokens) != len(expected):
            raise RunnerError(f"{path} has {len(tokens)} tokens, {reference} has {len(expected)}")
        differing = next((t for t, (a, b) in enumerate(zip(tokens, expected)) if a != b), None)
        if differing is not None:
            ours, theirs = (t[differing][0].decode("utf-8", errors="replace") for t in (tokens, expected))
            raise RunnerError(f"{path} and {reference} differ at token {differing}: {ours!r} vs {theirs!r}")
    return len(expected)


def tokenize_file(model_path, text_path):
    """(ids, pieces) of a text file under a model's tokenizer."""
    text = read_text(text_path)
    model = load_model(model_path, vocab_only=True)
    vocab = llama_cpp.llama_model_get_vocab(model)
    ids = tokenize(vocab, text)
    pieces = [token_piece(vocab, t) for t in ids]
    llama_cpp.llama_model_free(model)
    return ids, pieces


def token_pieces(model_path, ids):
    """{id: piece} for the distinct ids, ascending, under a model's tokenizer."""
    model = load_model(model_path, vocab_only=True)
    vocab = llama_cpp.llama_model_get_vocab(model)
    pieces = {t: token_piece(vocab, t) for t in sorted(set(ids))}
    llama_cpp.llama_model_free(model)
    return pieces


# MARK: evaluate

@dataclass
class Window:
    start: int        # first token of the window
    end: int          # one past its last token
    first_scored: int


def windows(token_count, context):
    """Windows of `context` tokens every context/2 tokens, each scoring what the previous one did not reach."""
    if token_count <= context:
        return [Window(0, token_count, 1)]
    stride = context // 2
    result = [Window(0, context, 1)]
    while result[-1].end < token_count:
        start = result[-1].start + stride
        result.append(Window(start, min(start + context, token_count), result[-1].end))
    return result


def window_groups(plan, n_vocab):
    """The plan cut into runs of consecutive windows whose scored rows of float32 logits fit in REFERENCE_BYTES
    together (a window alone may need more); as few runs as any such cut."""
    groups, size = [], 0
    for window in plan:
        rows = (window.end - window.first_scored) * n_vocab * 4
        if groups and size + rows <= REFERENCE_BYTES:
            groups[-1].append(window)
            size += rows
        else:
            groups.append([window])
            size = rows
    return groups


def log_softmax(logits):
    x = logits.astype(np.float64)
    x -= x.max(axis=1, keepdims=True)
    x -= np.log(np.exp(x).sum(axis=1, keepdims=True))
    return x


@dataclass
class Scores:
    """Per scored position: log p(actual token), the argmax token, and (for a model) KL(ref || model)."""
    path: str
    logprob: list
    top: list
    kl: list = None


def chunks(targets):
    """(rows, picked) per SOFTMAX_ROWS rows: the slice of logits rows and the (row, target) index of each."""
    for lo in range(0, len(targets), SOFTMAX_ROWS):
        rows = slice(lo, lo + SOFTMAX_ROWS)
        yield rows, (np.arange(len(targets[rows])), np.asarray(targets[rows]))


def score_reference(ref_logits, targets, reference):
    """Appends one entry per row of logits (row k predicts targets[k]) to the reference's Scores."""
    for rows, picked in chunks(targets):
        ref_lp = log_softmax(ref_logits[rows])
        reference.logprob.extend(ref_lp[picked].tolist())
        reference.top.extend(ref_lp.argmax(axis=1).tolist())


def score_model(ref_logits, model_logits, targets, model):
    """Appends one entry per row of logits (row k predicts targets[k]) to a model's Scores."""
    for rows, picked in chunks(targets):
        ref_lp = log_softmax(ref_logits[rows])
        model_lp = log_softmax(model_logits[rows])
        kl = (np.exp(ref_lp) * (ref_lp - model_lp)).sum(axis=1)
        model.kl.extend(np.maximum(kl, 0.0).tolist())  # tiny negatives are rounding
        model.logprob.extend(model_lp[picked].tolist())
        model.top.extend(model_lp.argmax(axis=1).tolist())


def run_window(session, tokens, window):
    """Runs a session over one window in a fresh context, batch by batch, yielding (logits, targets) per batch:
    float32 logits of the batch's scored positions, row k predicting token targets[k]."""
    session.clear()
    # Token p's logits predict token p+1; the window's last token predicts nothing, so it is not decoded.
    for lo in range(window.start, window.end - 1, session.batch_tokens):
        hi = min(lo + session.batch_tokens, window.end - 1)
        wanted = [p + 1 >= window.first_scored for p in range(lo, hi)]
        targets = [tokens[p + 1] for p in range(lo, hi) if p + 1 >= window.first_scored]
        session.decode(tokens[lo:hi], lo - window.start, wanted)
        yield session.logits(), targets


def reference_pass(reference, tokens, group, n_ctx, threads, reference_scores):
    """REF over a group of windows, scoring it: per window, its batches' (float32 logits, targets)."""
    kept = []
    ref = Session(reference, n_ctx, threads)
    try:
        for window in group:
            batches = list(run_window(ref, tokens, window))
            for logits, targets in batches:
                score_reference(logits, targets, reference_scores)
            kept.append(batches)
    finally:
        ref.close()
    return kept


def model_pass(path, tokens, group, kept, n_ctx, threads, scores):
    """A MODEL over a group of windows against REF's kept logits of them."""
    model = Session(path, n_ctx, threads)
    try:
        for window, batches in zip(group, kept):
            for (ref_logits, targets), (model_logits, _) in zip(batches, run_window(model, tokens, window)):
                score_model(ref_logits, model_logits, targets, scores)
    finally:
        model.close()


def evaluate(reference, models, tokens, context, threads):
    """(scored positions, the reference's Scores, one Scores per model). REF runs once over each group of
    windows whose logits are kept (window_groups), then is freed, and every MODEL runs over that group."""
    if len(tokens) < 2:
        raise RunnerError(f"the text has {len(tokens)} token(s); scoring needs at least 2")
    if context < 2:
        raise RunnerError(f"a context of {context} tokens scores nothing; it needs at least 2")
    n_vocab = check_same_vocabulary(reference, models)
    plan = windows(len(tokens), context)
    scored = [i for w in plan for i in range(w.first_scored, w.end)]
    n_ctx = min(context, len(tokens))
    reference_scores = Scores(reference, [], [])
    model_scores = [Scores(path, [], [], []) for path in models]
    for group in window_groups(plan, n_vocab):
        kept = reference_pass(reference, tokens, group, n_ctx, threads, reference_scores)
        for path, scores in zip(models, model_scores):
            model_pass(path, tokens, group, kept, n_ctx, threads, scores)
        del kept  # before the next group's logits are made
    return scored, reference_scores, model_scores


def evaluate_command(args):
    ids, pieces = tokenize_file(args.reference, args.text)
    scored, reference, models = evaluate(args.reference, args.models, ids, args.context, args.threads)
    top_ids = reference.top + [t for m in models for t in m.top]
    write_json(args.out, {
        "token_count": len(ids),
        "context": args.context,
        "tokens": [{"id": t, "text": p} for t, p in zip(ids, pieces)],
        "scored": scored,
        "reference": {"path": reference.path, "logprob": reference.logprob, "top": reference.top},
        "models": [{"path": m.path, "kl": m.kl, "logprob": m.logprob, "top": m.top} for m in models],
        "pieces": {str(t): p for t, p in token_pieces(args.reference, top_ids).items()},
    })


# MARK: imatrix

class GGMLTensor(ctypes.Structure):
    """struct ggml_tensor of ggml.h (GGML_MAX_DIMS 4, GGML_MAX_OP_PARAMS 64, GGML_MAX_SRC 10, GGML_MAX_NAME 64);
    checked against libggml-base at run time by ImatrixCollector.verify_layout."""
    _fields_ = [
        ("type", ctypes.c_int),
        ("buffer", ctypes.c_void_p),
        ("ne", ctypes.c_int64 * 4),
        ("nb", ctypes.c_size_t * 4),
        ("op", ctypes.c_int),
        ("op_params", ctypes.c_int32 * 16),
        ("flags", ctypes.c_int32),
        ("src", ctypes.c_void_p * 10),
        ("view_src", ctypes.c_void_p),
        ("view_offs", ctypes.c_size_t),
        ("data", ctypes.c_void_p),
        ("name", ctypes.c_char * 64),
        ("extra", ctypes.c_void_p),
        ("padding", ctypes.c_char * 8),
    ]


def load_ggml_base():
    library = ctypes.CDLL(os.path.join(os.path.dirname(llama_cpp.__file__), "lib", "libggml-base.so"))
    library.ggml_get_name.argtypes = [ctypes.c_void_p]
    library.ggml_get_name.restype = ctypes.c_void_p
    library.ggml_nelements.argtypes = [ctypes.c_void_p]
    library.ggml_nelements.restype = ctypes.c_int64
    library.ggml_nbytes.argtypes = [ctypes.c_void_p]
    library.ggml_nbytes.restype = ctypes.c_size_t
    library.ggml_op_name.argtypes = [ctypes.c_int]
    library.ggml_op_name.restype = ctypes.c_char_p
    library.ggml_type_name.argtypes = [ctypes.c_int]
    library.ggml_type_name.restype = ctypes.c_char_p
    library.ggml_backend_tensor_get.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
    library.ggml_backend_tensor_get.restype = None
    return library


def weight_name(raw):
    """The weight's own name from a scheduler copy's: "CUDA0#blk.0.attn_k.weight#0" -> "blk.0.attn_k.weight"."""
    name = raw.decode("utf-8", errors="replace")
    return name.split("#")[1] if "#" in name else name


def is_collected(name):
    return name.endswith(".weight") and (name.startswith("blk.") or name in ("output.weight", "token_embd.weight"))


class ImatrixCollector:
    """The scheduler's eval callback: sums of squared matmul inputs per weight column, in float64.

    A callback cannot raise through llama.cpp, so the first error is kept, collection stops, and
    check() raises it after the decode."""

    def __init__(self):
        self.ggml = load_ggml_base()
        self.op_names = {}
        self.sums = {}    # weight name -> float64 sum of x_j^2 per input column, in order first seen
        self.counts = {}  # weight name -> rows summed
        self.layout_checked = False
        self.error = None
        self.callback = llama_cpp.ggml_backend_sched_eval_callback(self.receive)

    def receive(self, address, ask, user_data):
        if self.error is not None:
            return False
        try:
            tensor = GGMLTensor.from_address(address)
            if not self.layout_checked:
                self.verify_layout(address, tensor)
            if ask:
                return self.wants(tensor)
            self.collect(tensor)
            return True
        except Exception as error:  # kept for check(); nothing can propagate through the C caller
            self.error = error
            return False

    def check(self):
        if self.error is not None:
            raise self.error if isinstance(self.error, RunnerError) else RunnerError(f"imatrix callback: {self.error!r}")

    def verify_layout(self, address, tensor):
        name_address = address + GGMLTensor.name.offset
        if self.ggml.ggml_get_name(address) != name_address:
            raise RunnerError("struct ggml_tensor layout differs from ggml.h: ggml_get_name is not at "
                              f"offset {GGMLTensor.name.offset}")
        elements = int(np.prod(list(tensor.ne)))
        if self.ggml.ggml_nelements(address) != elements:
            raise RunnerError(f"struct ggml_tensor layout differs from ggml.h: ne gives {elements} elements, "
                              f"ggml_nelements {self.ggml.ggml_nelements(address)}")
        self.layout_checked = True

    def op_name(self, op):
        if op not in self.op_names:
            self.op_names[op] = self.ggml.ggml_op_name(op).decode()
        return self.op_names[op]

    def wants(self, tensor):
        op = self.op_name(tensor.op)
        if op == "MUL_MAT_ID":
            raise RunnerError("the model multiplies by experts (MUL_MAT_ID), which this imatrix does not collect")
        if op != "MUL_MAT" or not tensor.src[0] or not tensor.src[1]:
            return False
        weight = GGMLTensor.from_address(tensor.src[0])
        return is_collected(weight_name(weight.name))

    def collect(self, tensor):
        weight = GGMLTensor.from_address(tensor.src[0])
        name = weight_name(weight.name)
        rows = self.activations(name, weight, tensor.src[1])
        if name not in self.sums:
            self.sums[name] = np.zeros(rows.shape[1], dtype=np.float64)
            self.counts[name] = 0
        elif self.sums[name].size != rows.shape[1]:
            raise RunnerError(f"{name}: input rows of {rows.shape[1]} columns after rows of {self.sums[name].size}")
        x = rows.astype(np.float64)
        self.sums[name] += np.einsum("ij,ij->j", x, x)
        self.counts[name] += rows.shape[0]
        if not np.isfinite(self.sums[name]).all():
            raise RunnerError(f"{name}: non-finite activations")

    def activations(self, name, weight, address):
        """src[1] of the matmul as a (rows, columns) float32 array, copied from whatever backend holds it."""
        src1 = GGMLTensor.from_address(address)
        type_name = self.ggml.ggml_type_name(src1.type).decode()
        if type_name != "f32":
            raise RunnerError(f"{name}: activations are {type_name}, not f32")
        if weight.ne[2] * weight.ne[3] != 1:
            raise RunnerError(f"{name}: a {weight.ne[2]}x{weight.ne[3]} stack of matrices is not collected")
        if src1.ne[0] != weight.ne[0]:
            raise RunnerError(f"{name}: rows of {src1.ne[0]} activations for rows of {weight.ne[0]} weights")
        if src1.nb[0] != 4:
            raise RunnerError(f"{name}: activations {src1.nb[0]} bytes apart within a row")
        size = self.ggml.ggml_nbytes(address)  # spans the strided view: 4 + sum (ne[i]-1) nb[i]
        buffer = np.empty((size + 3) // 4, dtype=np.float32)
        self.ggml.ggml_backend_tensor_get(address, buffer.ctypes.data, 0, size)
        shape = tuple(reversed(list(src1.ne)))
        strides = tuple(reversed(list(src1.nb)))
        view = np.lib.stride_tricks.as_strided(buffer, shape=shape, strides=strides, writeable=False)
        return view.reshape(-1, src1.ne[0])


def imatrix(model_path, text_path, chunk_size, threads):
    """(chunk count, ImatrixCollector) over the whole chunks of chunk_size tokens of a text."""
    if chunk_size < 1:
        raise RunnerError(f"a chunk of {chunk_size} tokens is empty")
    tokens, _ = tokenize_file(model_path, text_path)
    chunk_count = len(tokens) // chunk_size
    if chunk_count == 0:
        raise RunnerError(f"{text_path} has {len(tokens)} tokens, less than one chunk of {chunk_size}")
    collector = ImatrixCollector()
    session = Session(model_path, chunk_size, threads, collector.callback)
    try:
        add_bos = llama_cpp.llama_vocab_get_add_bos(session.vocab)
        bos = llama_cpp.llama_vocab_bos(session.vocab)
        for c in range(chunk_count):
            chunk = tokens[c * chunk_size:(c + 1) * chunk_size]
            if add_bos:
                chunk[0] = bos
            session.clear()
            for lo in range(0, chunk_size, session.batch_tokens):
                part = chunk[lo:lo + session.batch_tokens]
                # every token is an output so that the output projection (and the last layer) sees every row
                session.decode(part, lo, [True] * len(part))
                collector.check()
    finally:
        session.close()
    return chunk_count, collector


def imatrix_command(args):
    chunk_count, collector = imatrix(args.model, args.text, args.context, args.threads)
    write_json(args.out, {
        "chunk_count": chunk_count,
        "chunk_size": args.context,
        "dataset": os.path.basename(args.text),
        "tensors": {name: {"count": collector.counts[name], "sum2": sums.tolist()}
                    for name, sums in collector.sums.items()},
    })


# MARK: command line

def write_json(path, value):
    """Writes through a temporary file in the same folder, so OUT.json is either absent or whole."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".llama_runner-", suffix=".json")
    try:
        with os.fdopen(handle, "w") as f:
            json.dump(value, f, allow_nan=False)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive count")
    return value


def parser():
    threads = os.cpu_count() or 1
    top = argparse.ArgumentParser(prog="llama_runner.py", description=__doc__.split("\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    evaluate_args = commands.add_parser("evaluate", help="per-token KL, log-probabilities and top tokens vs REF")
    evaluate_args.add_argument("--reference", required=True)
    evaluate_args.add_argument("--text", required=True)
    evaluate_args.add_argument("--out", required=True)
    evaluate_args.add_argument("--context", type=int, default=4096)
    evaluate_args.add_argument("--threads", type=positive, default=threads)
    evaluate_args.add_argument("models", nargs="+", metavar="MODEL.gguf")
    evaluate_args.set_defaults(run=evaluate_command)
    imatrix_args = commands.add_parser("imatrix", help="sums of squared matmul inputs per weight column")
    imatrix_args.add_argument("model", metavar="MODEL.gguf")
    imatrix_args.add_argument("--text", required=True)
    imatrix_args.add_argument("--out", required=True)
    imatrix_args.add_argument("--context", type=int, default=512)
    imatrix_args.add_argument("--threads", type=positive, default=threads)
    imatrix_args.set_defaults(run=imatrix_command)
    return top


def check_output_folder(path):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RunnerError(f"no folder for the output: {folder}")


def main(argv):
    args = parser().parse_args(argv)
    try:
        check_output_folder(args.out)
        args.run(args)
    except RunnerError as error:
        print(f"llama_runner: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
