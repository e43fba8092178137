#!/usr/bin/python3
# SQL-level test of sentence-transformers models: generates random BERT model variants, loads them with
# load_model(..., 'sentence-transformers') and compares embed() with st_reference.py; then the error cases.
"""Checks load_model(name, dir, 'sentence-transformers') and embed() against the numpy reference."""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import psycopg2

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_st_model  # noqa: E402
import st_reference  # noqa: E402

TOLERANCE = 5e-6  # max |ours - ref| <= TOLERANCE * ||ref||
BATCH_TOLERANCE = 1e-6  # batch against one call each: float32 rounding of a different product layout

# Whole words, "##" pieces, [UNK] words, accents, CJK (in and out of the vocabulary), punctuation (ASCII and
# Unicode), cased forms. Ids of the specials are not BERT's usual 100-103.
VOCAB = (["[PAD]", "[unused0]", "[unused1]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
         + list(".,!?;:'\"()-/$+=<>|“”…¿¡") + ["1", "2", "5"]
         + """the quick brown fox jump ##s ##ing ##ed over lazy dog un ##believ ##able was play and hello world
              caf ##e ##é cafe naive na ##ive res ##ume e é ##cole mixed with english text control ##chars zero
              ##width non breaking tab new line space sep replacement quoted que hola parens ab ##ab a ##b x
              The Hello World H ##E ##L ##O Caf Brown Qu ##ick T ##HE ##ck 中 文 日 本""".split())
VOCAB += [f"[unused{i}]" for i in range(2, 300 - len(VOCAB) + 2)]

SENTENCES = [
    ("plain", "The quick brown fox jumps over the lazy dog."),
    ("subwords", "Unbelievable: the dog was playing, jumped and jumps!"),
    ("unknown", "xyzzy qwv hello zzz world"),
    ("accents", "Café naïve résumé ÉCOLE cafe\u0301 x \u0301 é"),
    ("cjk", "中文日本語 mixed with English, 字中abc文def"),
    ("punct_unicode", "“Quoted” text… ¿Qué? ¡Hola! «guillemets» (parens)"),
    ("punct_ascii", "a-b/c; d:e 'f' \"g\" #h @i ~j $5 ^k `l` +1 =2 <3> |4| 5€ x°"),
    ("controls", "control\x01chars\x7f and\u200b zero\u00adwidth \ufffdreplacement\x1b[0m \ue000text"),
    ("whitespace", "non\u00a0breaking\ttab\nnew\r\nline\u3000space\u2028sep\u2029  text"),
    ("whitespace_only", " \t\n\u00a0\u3000 \r\n"),
    ("empty", ""),
    ("long", " ".join(["The quick brown fox jumps over the lazy dog."] * 12)),  # 132 pieces: truncated
    ("word100", "ab" * 50 + " hello"),  # exactly 100 characters: 50 pieces
    ("word101", "hello " + "ab" * 50 + "a world"),  # 101 characters: [UNK]
    ("upper", "HELLO World THE QUICK Brown FOX"),
]

SMALL = dict(hidden=32, layers=2, heads=4, intermediate=64, vocab=VOCAB)
VARIANTS = [  # (name, description, make_model arguments)
    ("st_mean_norm", "mean+Normalize, lower-case, bert. prefix, F32, tokenizer.json, max_seq_length 16",
     dict(SMALL, pooling="mean", normalize=True, lowercase=True, bert_prefix=True, dtype="F32",
          tokenizer_json=True, max_position=32, max_seq_length=16, seed=1)),
    ("st_cls_cased", "CLS, cased, no prefix, F16, no tokenizer.json, 8 heads",
     dict(SMALL, heads=8, pooling="cls", normalize=False, lowercase=False, strip_accents=False, dtype="F16",
          tokenizer_json=False, max_position=64, max_seq_length=40, seed=2)),
    ("st_max_accents", "max, lower-case, strip_accents false (tokenizer.json over tokenizer_config.json), F32, "
     "3 layers, weights N(0, 0.2), layer_norm_eps 1e-3",
     dict(SMALL, layers=3, pooling="max", normalize=False, lowercase=True, strip_accents=False, dtype="F32",
          tokenizer_json=True, tokenizer_config_extra={"strip_accents": None}, max_position=64,
          max_seq_length=64, weight_std=0.2, layer_norm_eps=1e-3, seed=3)),
    ("st_mean_stlower", "mean, cased tokenizer + sentence_bert_config do_lower_case, no CJK splitting, BF16, "
     "bert. prefix, hidden 48, 6 heads, 1 layer",
     dict(SMALL, hidden=48, heads=6, intermediate=96, layers=1, pooling="mean", normalize=False,
          lowercase=False, st_lowercase=True, chinese=False, dtype="BF16", bert_prefix=True,
          tokenizer_json=True, max_position=64, max_seq_length=48, seed=4)),
]


def digest(model_dir):
    h = hashlib.sha256()
    for root, _, files in sorted(os.walk(model_dir)):
        for f in sorted(files):
            h.update(os.path.relpath(os.path.join(root, f), model_dir).encode())
            with open(os.path.join(root, f), "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()[:8]


def fetch(cur, sql, args=()):
    cur.execute(sql, args)
    return cur.fetchall()


def load(cur, name, path):
    """load_model(); a model of that name already loaded (an earlier run, same content) is dropped first."""
    if fetch(cur, "SELECT 1 FROM embedding_models WHERE name = %s", (name,)):
        cur.execute("SELECT drop_model(%s)", (name,))
    return fetch(cur, "SELECT load_model(%s, %s, 'sentence-transformers')", (name, path))[0][0]


def check_model(cur, workdir, key, desc, kwargs):
    """Returns the list of failures of one variant (empty: passed)."""
    path = os.path.join(workdir, key)
    make_st_model.make_model(path, **kwargs)
    name = f"{key}_{digest(path)}"
    ref = st_reference.load(path)
    fails = []
    try:
        ret = load(cur, name, path)
    except psycopg2.Error as e:
        print(f"  {name}: load_model failed: {e.pgerror or e}".rstrip())
        return [f"{key}: load_model"]
    view = fetch(cur, "SELECT kind, dimensions, max_seq_length, vocab_size FROM embedding_models "
                      "WHERE name = %s", (name,))
    want = ("sentence-transformers", kwargs["hidden"], kwargs["max_seq_length"])
    if not view or tuple(view[0][:3]) != want:
        fails.append(f"{key}: embedding_models shows {view}, expected (kind, dimensions, max_seq_length) {want}")
    singles, worst, worst_name = [], 0.0, ""
    for sname, text in SENTENCES:
        try:
            ours = fetch(cur, "SELECT embed(%s, %s)::real[]", (name, text))[0][0]
        except psycopg2.Error as e:
            fails.append(f"{key}/{sname}: embed failed: {(e.pgerror or str(e)).strip()}")
            singles.append(None)
            continue
        singles.append(ours)
        want_vec = st_reference.embed(ref, text)
        if len(ours) != len(want_vec):
            fails.append(f"{key}/{sname}: {len(ours)} dimensions, expected {len(want_vec)}")
            continue
        ratio = float(np.abs(np.array(ours, np.float64) - want_vec).max() / np.linalg.norm(want_vec))
        if ratio > worst:
            worst, worst_name = ratio, sname
        if not ratio <= TOLERANCE:
            fails.append(f"{key}/{sname}: max|ours - ref| / ||ref|| = {ratio:.3g}; reference pieces "
                         f"{st_reference.tokenize(ref, text)}")
    try:
        batch = [r[0] for r in fetch(cur, "SELECT e::real[] FROM unnest(embed(%s, %s::text[])) WITH ORDINALITY "
                                          "AS t(e, i) ORDER BY i", (name, [t for _, t in SENTENCES]))]
        # The batch runs its texts through the dense layers together, so the matrix products
        # round differently from one text alone: equal within float32 rounding, not bit for bit.
        def close(b, o):
            if b is None or o is None or len(b) != len(o):
                return False
            b, o = np.array(b, np.float64), np.array(o, np.float64)
            return float(np.abs(b - o).max()) <= BATCH_TOLERANCE * max(float(np.linalg.norm(o)), 1e-30)
        same = len(batch) == len(singles) and all(close(b, o) for b, o in zip(batch, singles))
        if not same:
            bad = [s for (s, _), b, o in zip(SENTENCES, batch + [None] * len(SENTENCES), singles)
                   if not close(b, o)]
            fails.append(f"{key}: embed(text[]) differs from embed(text) for {bad} ({len(batch)} results)")
    except psycopg2.Error as e:
        same = False
        fails.append(f"{key}: embed(text[]) failed: {(e.pgerror or str(e)).strip()}")
    ok = len(SENTENCES) - sum(1 for f in fails if f.startswith(key + "/"))
    print(f"  {name} ({desc}): load_model -> {ret}; view {view[0] if view else None}; "
          f"{ok}/{len(SENTENCES)} sentences within {TOLERANCE:g}*||ref||, worst {worst:.2e} ({worst_name}); "
          f"batch == single (within {BATCH_TOLERANCE:g}): {'yes' if same else 'NO'}")
    return fails


def edit_json(path, fn):
    with open(path, encoding="utf-8") as f:
        obj = json.load(f)
    obj = fn(obj) or obj
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)


def error_cases(workdir):
    """(case, word expected in the error, model directory) for each broken model."""
    base = {"a": os.path.join(workdir, VARIANTS[0][0]), "b": os.path.join(workdir, VARIANTS[1][0])}
    cases = []

    def case(name, word, src, edit):
        path = os.path.join(workdir, "bad_" + name)
        shutil.rmtree(path, ignore_errors=True)
        shutil.copytree(base[src], path)
        edit(path)
        make_st_model.make_readable(path)
        cases.append((name, word, path))

    def pooling(p):
        return {k: (k == "pooling_mode_weightedmean_tokens") if k.startswith("pooling_mode_") else v
                for k, v in p.items()}

    def dense(path):
        os.makedirs(os.path.join(path, "2_Dense"))
        with open(os.path.join(path, "2_Dense", "config.json"), "w") as f:
            json.dump({"in_features": 32, "out_features": 16, "bias": True,
                       "activation_function": "torch.nn.modules.activation.Tanh"}, f)
        edit_json(os.path.join(path, "modules.json"), lambda mods: [
            mods[0], mods[1], {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
            *[dict(m, idx=m["idx"] + 1, name=str(m["idx"] + 1)) for m in mods[2:]]])

    def truncate(path):
        f = os.path.join(path, "model.safetensors")
        os.truncate(f, os.path.getsize(f) * 6 // 10)

    def huge(path):
        """One tensor of finite but huge weights (3e38): the forward pass would overflow to NaN."""
        f = os.path.join(path, "model.safetensors")
        with open(f, "r+b") as fh:
            n = int.from_bytes(fh.read(8), "little")
            entry = json.loads(fh.read(n))["bert.encoder.layer.0.attention.self.query.weight"]
            assert entry["dtype"] == "F32"
            start, end = entry["data_offsets"]
            fh.seek(8 + n + start)
            fh.write(np.full((end - start) // 4, 3e38, "<f4").tobytes())

    def linked_out(path):
        """1_Pooling a symbolic link to a directory outside the model."""
        outside = path + "_outside_pooling"
        shutil.rmtree(outside, ignore_errors=True)
        shutil.move(os.path.join(path, "1_Pooling"), outside)
        os.symlink(outside, os.path.join(path, "1_Pooling"))

    case("roberta", "roberta", "a", lambda p: edit_json(os.path.join(p, "config.json"),
                                                         lambda c: c.update(model_type="roberta")))
    case("relu", "relu", "a", lambda p: edit_json(os.path.join(p, "config.json"),
                                                   lambda c: c.update(hidden_act="relu")))
    case("weightedmean", "pooling", "a", lambda p: edit_json(os.path.join(p, "1_Pooling", "config.json"), pooling))
    case("dense", "Dense", "a", dense)
    case("truncated", "safetensors", "a", truncate)
    case("no_vocab", "vocab.txt", "b", lambda p: os.remove(os.path.join(p, "vocab.txt")))
    case("huge_weights", "too large", "a", huge)
    case("linked_out", "leaves the model directory", "a", linked_out)
    return cases


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", default=os.environ.get("PGPORT"))
    p.add_argument("--host", default=os.environ.get("PGHOST"), help="socket directory")
    p.add_argument("--dbname", default="postgres")
    p.add_argument("--workdir", help="where the models are written (the server's OS user must read it); "
                                     "default: a new temporary directory")
    a = p.parse_args()
    workdir = a.workdir or tempfile.mkdtemp(prefix="st_models_")
    os.chmod(workdir, 0o755)
    print(f"reference self-test: {st_reference.selftest()} tokenizer cases and encoder checks ok")
    conn = psycopg2.connect(host=a.host, port=a.port, dbname=a.dbname)
    conn.autocommit = True
    cur = conn.cursor()
    fails = []
    print(f"models ({len(SENTENCES)} sentences each, in {workdir}):")
    for key, desc, kwargs in VARIANTS:
        fails += check_model(cur, workdir, key, desc, kwargs)
    print("error cases:")
    cases = error_cases(workdir)
    for name, word, path in cases:
        try:
            fetch(cur, "SELECT load_model(%s, %s, 'sentence-transformers')", (f"st_bad_{name}", path))
            cur.execute("SELECT drop_model(%s)", (f"st_bad_{name}",))
            fails.append(f"error case {name}: load_model succeeded")
            print(f"  {name}: NOT refused")
        except psycopg2.Error as e:
            msg = (e.pgerror or str(e)).strip()
            ok = word.lower() in msg.lower()
            print(f"  {name}: {'ok' if ok else 'WRONG MESSAGE'} ({' | '.join(msg.splitlines())})")
            if not ok:
                fails.append(f"error case {name}: message lacks {word!r}: {msg}")
    if fetch(cur, "SELECT 1") != [(1,)]:
        fails.append("server not alive after the error cases")
    for f in fails:
        print("FAIL:", f)
    print(f"{'PASS' if not fails else 'FAIL'}: {len(VARIANTS)} models x {len(SENTENCES)} sentences, "
          f"{len(cases)} error cases, {len(fails)} failures")
    return 0 if not fails else 1


if __name__ == "__main__":
    sys.exit(main())
