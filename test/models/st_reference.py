#!/usr/bin/python3
# Reference implementation (numpy) of a sentence-transformers BERT model directory: loader, BERT tokenizer
# (BasicTokenizer + WordPiece), encoder, pooling. The oracle of check_st_models.py; `--selftest` checks it.
"""Reference sentence-transformers BERT: load(dir), tokenize(model, text), embed(model, text)."""

import json
import math
import os
import struct
import sys
import unicodedata

import numpy as np

UNK_CHARS = 100  # a word longer than this (in code points) is one [UNK]
CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
              (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))
ST_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}  # weights we read
OTHER_DTYPES = {"F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}  # allowed, never read
POOLING_MODES = ("cls_token", "mean_tokens", "max_tokens")
POOLING_OTHER = ("mean_sqrt_len_tokens", "weightedmean_tokens", "lasttoken")


class ModelError(ValueError):
    pass


# ---------------------------------------------------------------- safetensors

def read_safetensors(path):
    """{name: ndarray} of the F32/F16/BF16 tensors (as float32); other dtypes are checked, not returned."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ModelError(f"{path}: not a safetensors file (shorter than 8 bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ModelError(f"{path}: safetensors header of {n} bytes is past the end of the file")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"{path}: bad safetensors header: {e}") from e
    body = memoryview(data)[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        dtype, shape, (begin, end) = t["dtype"], t["shape"], t["data_offsets"]
        size = ST_DTYPES[dtype].itemsize if dtype in ST_DTYPES else OTHER_DTYPES.get(dtype)
        if size is None:
            raise ModelError(f"{path}: tensor {name}: unknown safetensors dtype {dtype}")
        if not 0 <= begin <= end <= len(body) or end - begin != size * math.prod(shape):
            raise ModelError(f"{path}: tensor {name}: data_offsets [{begin}, {end}] do not fit the safetensors "
                             f"data ({len(body)} bytes) or its shape {shape}")
        if dtype not in ST_DTYPES:
            continue
        raw = np.frombuffer(body[begin:end], dtype=ST_DTYPES[dtype]).reshape(shape)
        if dtype == "BF16":  # the high half of a float32
            out[name] = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            out[name] = raw.astype(np.float32)
    return out


# ---------------------------------------------------------------- tokenizer

def _is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(ch):
    cp = ord(ch)
    return any(a <= cp <= b for a, b in CJK_RANGES)


def clean_text(text):
    """Drops U+0000, U+FFFD and control characters (category C*, except tab, LF, CR); whitespace -> ' '."""
    out = []
    for ch in text:
        if ch in " \t\n\r" or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif ch != "\x00" and ch != "\ufffd" and not unicodedata.category(ch).startswith("C"):
            out.append(ch)
    return "".join(out)


def basic_tokenize(text, lowercase=True, strip_accents=None, chinese=True, clean=True):
    """BERT's BasicTokenizer: the words and punctuation marks of text."""
    if strip_accents is None:
        strip_accents = lowercase
    if clean:
        text = clean_text(text)
    if chinese:
        text = "".join(f" {ch} " if _is_cjk(ch) else ch for ch in text)
    words = []
    for tok in text.split():
        if lowercase:
            tok = tok.lower()
        if strip_accents:
            tok = "".join(c for c in unicodedata.normalize("NFD", tok) if unicodedata.category(c) != "Mn")
        cur = ""
        for ch in tok:
            if _is_punct(ch):
                if cur:
                    words.append(cur)
                words.append(ch)
                cur = ""
            else:
                cur += ch
        if cur:
            words.append(cur)
    return words


def wordpiece(word, vocab, unk="[UNK]"):
    """Greedy longest-match-first pieces of one word; the whole word is unk when any position fails."""
    if len(word) > UNK_CHARS:
        return [unk]
    pieces, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                break
            end -= 1
        if end == start:
            return [unk]
        pieces.append(piece)
        start = end
    return pieces


def tokenize(model, text):
    """The pieces fed to the encoder: [CLS] + pieces (truncated) + [SEP]."""
    t = model.tok
    if model.st_lowercase:
        text = text.lower()
    pieces = []
    for w in basic_tokenize(text, t["lowercase"], t["strip_accents"], t["chinese"], t["clean"]):
        pieces.extend(wordpiece(w, model.vocab, t["unk"]))
    limit = min(model.max_seq_length, model.config["max_position_embeddings"]) - 2
    return [t["cls"]] + pieces[:limit] + [t["sep"]]


def token_ids(model, text):
    return [model.vocab[p] for p in tokenize(model, text)]


# ---------------------------------------------------------------- loading

def _json(path, default=None):
    if not os.path.exists(path):
        if default is None:
            raise ModelError(f"{path} is missing")
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _token_name(value, default):
    if isinstance(value, dict):  # newer tokenizer_config.json: {"content": "[UNK]", ...}
        return value.get("content", default)
    return value if isinstance(value, str) else default


class Model:
    pass


def load(model_dir, dtype=np.float64):
    m = Model()
    m.dtype = dtype
    modules = sorted(_json(os.path.join(model_dir, "modules.json")), key=lambda x: x.get("idx", 0))
    kinds = [mod["type"].rsplit(".", 1)[-1] for mod in modules]
    for mod, kind in zip(modules, kinds):
        if kind not in ("Transformer", "Pooling", "Normalize"):
            raise ModelError(f"modules.json: unsupported module {mod['type']} ({kind})")
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ModelError(f"modules.json: expected Transformer, Pooling[, Normalize], got {kinds}")
    m.normalize = len(kinds) == 3
    tdir = os.path.join(model_dir, modules[0].get("path", ""))
    pdir = os.path.join(model_dir, modules[1]["path"])

    c = m.config = _json(os.path.join(tdir, "config.json"))
    if c.get("model_type") != "bert":
        raise ModelError(f"config.json: unsupported model_type {c.get('model_type')!r}, only bert")
    if c.get("hidden_act", "gelu") != "gelu":
        raise ModelError(f"config.json: unsupported hidden_act {c.get('hidden_act')!r}, only gelu")
    if c.get("position_embedding_type", "absolute") != "absolute":
        raise ModelError("config.json: only absolute position embeddings")
    c.setdefault("layer_norm_eps", 1e-12)
    H, heads = c["hidden_size"], c["num_attention_heads"]
    if H % heads:
        raise ModelError("config.json: hidden_size is not a multiple of num_attention_heads")

    pool = _json(os.path.join(pdir, "config.json"))
    on = [k for k in POOLING_MODES if pool.get("pooling_mode_" + k)]
    other = [k for k in POOLING_OTHER if pool.get("pooling_mode_" + k)]
    if len(on) != 1 or other:
        raise ModelError(f"pooling config: unsupported pooling modes {on + other}")
    m.pooling = {"cls_token": "cls", "mean_tokens": "mean", "max_tokens": "max"}[on[0]]

    # Tokenizer: tokenizer_config.json, overridden by tokenizer.json's BertNormalizer.
    tc = _json(os.path.join(tdir, "tokenizer_config.json"), {})
    tok = {"lowercase": tc.get("do_lower_case", True), "strip_accents": tc.get("strip_accents"),
           "chinese": tc.get("tokenize_chinese_chars", True), "clean": True,
           "unk": _token_name(tc.get("unk_token"), "[UNK]"), "cls": _token_name(tc.get("cls_token"), "[CLS]"),
           "sep": _token_name(tc.get("sep_token"), "[SEP]")}
    tj = _json(os.path.join(tdir, "tokenizer.json"), {})
    if tj:
        norm = tj.get("normalizer") or {}
        if norm.get("type") != "BertNormalizer":
            raise ModelError(f"tokenizer.json: unsupported normalizer {norm.get('type')}")
        for ours, theirs in (("lowercase", "lowercase"), ("strip_accents", "strip_accents"),
                             ("chinese", "handle_chinese_chars"), ("clean", "clean_text")):
            if theirs in norm:
                tok[ours] = norm[theirs]
    m.tok = tok
    sb = _json(os.path.join(tdir, "sentence_bert_config.json"), {})
    m.st_lowercase = bool(sb.get("do_lower_case", False))
    m.max_seq_length = sb.get("max_seq_length") or min(c["max_position_embeddings"],
                                                       tc.get("model_max_length", 1 << 30))

    vocab_path = os.path.join(tdir, "vocab.txt")
    if not os.path.exists(vocab_path):
        raise ModelError(f"{vocab_path} is missing")
    with open(vocab_path, encoding="utf-8") as f:  # universal newlines: "\r\n" ends a line too
        m.id_to_token = [line[:-1] if line.endswith("\n") else line for line in f]
    m.vocab = {t: i for i, t in enumerate(m.id_to_token)}  # a repeated token keeps its last line
    for name in ("unk", "cls", "sep"):
        if tok[name] not in m.vocab:
            raise ModelError(f"vocab.txt has no {tok[name]}")

    w = read_safetensors(os.path.join(tdir, "model.safetensors"))
    prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
    I, L, P = c["intermediate_size"], c["num_hidden_layers"], c["max_position_embeddings"]

    def get(name, shape):
        if prefix + name not in w:
            raise ModelError(f"model.safetensors: no tensor {prefix + name}")
        t = w[prefix + name]
        if list(t.shape) != list(shape):
            raise ModelError(f"model.safetensors: {prefix + name} has shape {list(t.shape)}, expected {shape}")
        return t.astype(dtype)

    e = "embeddings."
    m.word = get(e + "word_embeddings.weight", [c["vocab_size"], H])
    m.pos = get(e + "position_embeddings.weight", [P, H])
    m.type0 = get(e + "token_type_embeddings.weight", [c.get("type_vocab_size", 2), H])[0]
    m.emb_ln = (get(e + "LayerNorm.weight", [H]), get(e + "LayerNorm.bias", [H]))
    m.layers = []
    for i in range(L):
        p = f"encoder.layer.{i}."

        def lin(name, out, inp):
            return get(p + name + ".weight", [out, inp]), get(p + name + ".bias", [out])

        def ln(name):
            return get(p + name + ".weight", [H]), get(p + name + ".bias", [H])

        m.layers.append({"q": lin("attention.self.query", H, H), "k": lin("attention.self.key", H, H),
                         "v": lin("attention.self.value", H, H), "o": lin("attention.output.dense", H, H),
                         "ln1": ln("attention.output.LayerNorm"), "i": lin("intermediate.dense", I, H),
                         "out": lin("output.dense", H, I), "ln2": ln("output.LayerNorm")})
    if max(m.vocab.values()) >= c["vocab_size"]:
        raise ModelError("vocab.txt has more tokens than config.json's vocab_size")
    return m


# ---------------------------------------------------------------- encoder

_erf = np.frompyfunc(math.erf, 1, 1)


def gelu_exact(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(x.dtype))


def gelu_fast(x):
    """erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): for the float32 benchmark reference only."""
    z = np.abs(x) * np.asarray(1 / math.sqrt(2.0), x.dtype)
    t = 1 / (1 + np.asarray(0.3275911, x.dtype) * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.copysign(1 - poly.astype(x.dtype) * np.exp(-z * z), x)
    return 0.5 * x * (1 + erf)


def layer_norm(x, wb, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * wb[0] + wb[1]


def encode(m, ids, mask=None, gelu=gelu_exact):
    """Token embeddings: ids [B, n] (or [n]); mask [B, n] of 0/1 for padded batches."""
    ids = np.atleast_2d(np.asarray(ids))
    B, n = ids.shape
    c = m.config
    heads = c["num_attention_heads"]
    hd = c["hidden_size"] // heads
    eps = c["layer_norm_eps"]
    x = layer_norm(m.word[ids] + m.pos[:n] + m.type0, m.emb_ln, eps)
    bias = None if mask is None else ((1 - mask) * -1e9).astype(m.dtype)[:, None, None, :]
    for lay in m.layers:
        def lin(v, wb):  # one matrix product over all rows of the batch
            return (v.reshape(-1, v.shape[-1]) @ wb[0].T + wb[1]).reshape(*v.shape[:-1], -1)

        def split(v):  # [B, n, H] -> [B, heads, n, hd]; head h is columns h*hd .. (h+1)*hd
            return v.reshape(B, n, heads, hd).transpose(0, 2, 1, 3)

        q, k, v = split(lin(x, lay["q"])), split(lin(x, lay["k"])), split(lin(x, lay["v"]))
        s = q @ k.transpose(0, 1, 3, 2) / np.asarray(math.sqrt(hd), m.dtype)
        if bias is not None:
            s = s + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        ctx = (s / s.sum(-1, keepdims=True)) @ v
        ctx = ctx.transpose(0, 2, 1, 3).reshape(B, n, heads * hd)
        x = layer_norm(lin(ctx, lay["o"]) + x, lay["ln1"], eps)
        x = layer_norm(lin(gelu(lin(x, lay["i"])), lay["out"]) + x, lay["ln2"], eps)
    return x


def pool(m, x, mask):
    """x [B, n, H], mask [B, n] -> [B, H]"""
    if m.pooling == "cls":
        y = x[:, 0]
    elif m.pooling == "mean":
        y = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    else:
        y = np.where(mask[:, :, None] > 0, x, np.asarray(-1e9, x.dtype)).max(1)
    if m.normalize:
        y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-12)
    return y


def embed(m, text):
    ids = token_ids(m, text)
    return pool(m, encode(m, ids), np.ones((1, len(ids)), m.dtype))[0]


def embed_batch(m, texts, gelu=gelu_exact):
    """Several texts at once, padded to the longest with an attention mask (as a batched runtime does)."""
    ids = [token_ids(m, t) for t in texts]
    n = max(len(i) for i in ids)
    arr = np.zeros((len(ids), n), np.int64)
    mask = np.zeros((len(ids), n), m.dtype)
    for r, i in enumerate(ids):
        arr[r, :len(i)] = i
        mask[r, :len(i)] = 1
    return pool(m, encode(m, arr, mask, gelu), mask)


# ---------------------------------------------------------------- self-test

def _loops_mean_embedding(m, ids):
    """The same model in plain Python loops (float64), mean pooling, one layer at a time."""
    c = m.config
    H, heads = c["hidden_size"], c["num_attention_heads"]
    hd, eps, n = H // heads, c["layer_norm_eps"], len(ids)

    def ln(v, wb):
        mu = sum(v) / len(v)
        var = sum((a - mu) ** 2 for a in v) / len(v)
        return [(a - mu) / math.sqrt(var + eps) * float(wb[0][j]) + float(wb[1][j]) for j, a in enumerate(v)]

    def lin(v, wb):
        W, b = wb
        return [sum(float(W[o][i]) * v[i] for i in range(len(v))) + float(b[o]) for o in range(len(b))]

    x = [ln([float(m.word[t][j] + m.pos[p][j] + m.type0[j]) for j in range(H)], m.emb_ln)
         for p, t in enumerate(ids)]
    for lay in m.layers:
        q, k, v = ([lin(r, lay[s]) for r in x] for s in "qkv")
        ctx = [[0.0] * H for _ in range(n)]
        for h in range(heads):
            cols = range(h * hd, (h + 1) * hd)
            for a in range(n):
                sc = [sum(q[a][j] * k[b][j] for j in cols) / math.sqrt(hd) for b in range(n)]
                e = [math.exp(s - max(sc)) for s in sc]
                for j in cols:
                    ctx[a][j] = sum(e[b] * v[b][j] for b in range(n)) / sum(e)
        x = [ln([o + r for o, r in zip(lin(ctx[a], lay["o"]), x[a])], lay["ln1"]) for a in range(n)]
        inter = [[0.5 * u * (1 + math.erf(u / math.sqrt(2))) for u in lin(r, lay["i"])] for r in x]
        x = [ln([o + r for o, r in zip(lin(inter[a], lay["out"]), x[a])], lay["ln2"]) for a in range(n)]
    return [sum(x[a][j] for a in range(n)) / n for j in range(H)]


def selftest():
    """Hand-computed tokenizer cases, a safetensors round trip and a loop-by-loop encoder. Raises on failure."""
    import tempfile
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import make_st_model

    bt = basic_tokenize
    cases = [
        (bt("Hello, World!"), ["hello", ",", "world", "!"]),
        (bt("Café NAÏVE"), ["cafe", "naive"]),
        (bt("Café", lowercase=True, strip_accents=False), ["café"]),
        (bt("Café", lowercase=False), ["Café"]),
        (bt("Café", lowercase=False, strip_accents=True), ["Cafe"]),
        (bt("cafe\u0301 x \u0301 y"), ["cafe", "x", "y"]),  # a lone combining mark vanishes
        (bt("a\u00a0b\tc\u3000d\ne\r\nf\u2028g"), list("abcdefg")),
        (bt("x\x01y\ufffdz\u200bw\x7fv\ue000u\x00t"), ["xyzwvut"]),
        (bt("中文abc語"), ["中", "文", "abc", "語"]),
        (bt("中文abc", chinese=False), ["中文abc"]),
        (bt("“hi”… ¿qué?"), ["“", "hi", "”", "…", "¿", "que", "?"]),
        (bt("$5 +1=2 5€ x°"), ["$", "5", "+", "1", "=", "2", "5€", "x°"]),
        (bt("a-b/c's"), ["a", "-", "b", "/", "c", "'", "s"]),
        (bt(" \t\n\u00a0 "), []), (bt(""), []),
        (bt("x\x1b[0m"), ["x", "[", "0m"]),
    ]
    v = {"un", "##aff", "##able", "a", "##b", "ab", "##ab"}
    cases += [(wordpiece("unaffable", v), ["un", "##aff", "##able"]), (wordpiece("unafx", v), ["[UNK]"]),
              (wordpiece("ab" * 50, v), ["ab"] + ["##ab"] * 49), (wordpiece("ab" * 50 + "a", v), ["[UNK]"]),
              (wordpiece("abb", v), ["ab", "##b"])]
    for got, want in cases:
        assert got == want, f"tokenizer: got {got}, want {want}"

    with tempfile.TemporaryDirectory() as d:
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "##s", ",", "!", "wor"]
        make_st_model.make_model(d, hidden=4, layers=1, heads=2, intermediate=6, vocab=vocab, max_position=8,
                                 max_seq_length=6, pooling="mean", normalize=False, seed=3, weight_std=0.5,
                                 bert_prefix=True)
        m = load(d)
        assert tokenize(m, "Hello, worlds! hello") == ["[CLS]", "hello", ",", "world", "##s", "[SEP]"]
        assert tokenize(m, " ") == ["[CLS]", "[SEP]"]
        raw = read_safetensors(os.path.join(d, "model.safetensors"))
        assert "bert.pooler.dense.weight" in raw and "bert.embeddings.position_ids" not in raw  # I64: skipped
        ids = token_ids(m, "hello worlds!")
        want = np.array(_loops_mean_embedding(m, ids))
        got = embed(m, "hello worlds!")
        assert np.abs(got - want).max() < 1e-12, f"encoder: {got} vs loops {want}"
        batch = embed_batch(m, ["hello worlds!", "hello", ""])
        assert np.abs(batch[0] - got).max() < 1e-12 and np.abs(batch[2] - embed(m, "")).max() < 1e-12
        m32 = load(d, np.float32)
        assert np.abs(embed_batch(m32, ["hello worlds!"], gelu_fast)[0] - got).max() < 1e-5
        for dt in ("F16", "BF16"):  # the stored values come back exactly
            make_st_model.make_model(d + "/h", hidden=4, layers=1, heads=2, intermediate=6, vocab=vocab,
                                     max_position=8, dtype=dt, seed=3)
            w = read_safetensors(d + "/h/model.safetensors")["embeddings.word_embeddings.weight"]
            ref = make_st_model.random_weights(hidden=4, layers=1, intermediate=6, vocab_size=len(vocab),
                                               max_position=8, type_vocab=2, seed=3, std=0.02)
            want = ref["embeddings.word_embeddings.weight"]
            if dt == "F16":
                want = want.astype(np.float16).astype(np.float32)
            else:
                want = ((make_st_model.to_bf16(want).astype(np.uint32)) << 16).view(np.float32)
            assert np.array_equal(w, want), dt
    return len(cases)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--selftest"]:
        print(f"st_reference self-test: {selftest()} tokenizer cases, safetensors and encoder checks ok")
    elif len(sys.argv) >= 3:  # st_reference.py MODEL_DIR TEXT...: pieces and embedding
        model = load(sys.argv[1])
        for text in sys.argv[2:]:
            print(tokenize(model, text))
            print(np.array2string(embed(model, text), precision=6, max_line_width=120))
    else:
        sys.exit("usage: st_reference.py --selftest | MODEL_DIR TEXT...")
