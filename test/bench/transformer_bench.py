#!/usr/bin/python3
# Driver of the sentence-transformers benchmark (run it through transformer_bench.sh): a random model of
# all-MiniLM-L6-v2's shape, embed() per sentence and in batches against the numpy reference, first call, memory.
"""embed() with a sentence-transformers model of all-MiniLM-L6-v2's shape (random weights), against numpy
(float32, batched with padding and an attention mask) in the same run. Report (Markdown) on stdout."""

import argparse
import datetime
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time

import numpy as np
import psycopg2

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import make_st_model  # noqa: E402
import st_reference  # noqa: E402

BATCHES = (1, 32, 256)  # 1: one SQL call (one numpy forward pass) per sentence


def log(msg):
    print(f"-- {datetime.datetime.now():%H:%M:%S} {msg}", file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database", default="embedding_transformer_bench", help="created when missing")
    p.add_argument("--cache", default=os.environ.get("EMBEDDING_CACHE") or tempfile.gettempdir(),
                   help="where the model directory is generated once (the server's OS user must read it)")
    p.add_argument("--sentences", type=int, default=256, help="sentences per set (short, long)")
    p.add_argument("--connections", type=int, default=20, help="backends of the memory measurement")
    p.add_argument("--repeats", type=int, default=1, help="timed passes per point (the median is reported)")
    p.add_argument("--seed", type=int, default=0, help="of the model's weights and of the sentences")
    p.add_argument("--numpy-only", action="store_true", help="no database: the numpy figures alone")
    return p.parse_args()


def model_dir(cache, seed):
    """The MiniLM-shaped model, generated once (into a temporary name, then renamed)."""
    path = os.path.join(cache, f"st-minilm-l6-shape-random-seed{seed}")
    if not os.path.isdir(path):
        os.makedirs(cache, exist_ok=True)
        log(f"generate {path}")
        tmp = tempfile.mkdtemp(prefix=".st-minilm-", dir=cache)
        make_st_model.make_model(tmp, seed=seed, **make_st_model.MINILM)
        os.rename(tmp, path)
    return path


def sentences(model, n, seed):
    """Two sets: 8-12 words, and 100-128 tokens ([CLS] and [SEP] included). One word in ten is a made-up one
    of 4-8 letters (split into several pieces)."""
    rng = random.Random(seed)
    words = make_st_model.COMMON_WORDS

    def word():
        if rng.random() < 0.1:
            return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 8)))
        return rng.choice(words)

    def text(ws):
        return " ".join(ws).capitalize() + "."

    short = [text([word() for _ in range(rng.randint(8, 12))]) for _ in range(n)]
    long = []
    while len(long) < n:
        target, ws, count = rng.randint(100, 128), [], 3  # [CLS], the final ".", [SEP]
        while count < target:
            ws.append(word())
            count += len(st_reference.tokenize(model, ws[-1])) - 2
        if count <= 128:
            long.append(text(ws))
    return {"short": short, "long": long}


def tokens(model, texts):
    return sum(len(st_reference.tokenize(model, t)) for t in texts)


def chunks(texts, b):
    return [texts[i:i + b] for i in range(0, len(texts), b)]


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def blas_name():
    np.ones((64, 64), np.float32) @ np.ones((64, 64), np.float32)
    with open("/proc/self/maps") as f:
        libs = {os.path.basename(line.split()[-1]) for line in f if "blas" in line or "lapack" in line}
    return ", ".join(sorted(libs)) or "unknown"


def numpy_figures(model32, sets, repeats):
    out = {}
    for name, texts in sets.items():
        st_reference.embed_batch(model32, texts[:4], st_reference.gelu_fast)  # warm
        for b in BATCHES:
            out[(name, b)] = median_seconds(
                lambda: [st_reference.embed_batch(model32, c, st_reference.gelu_fast) for c in chunks(texts, b)],
                repeats)
            log(f"numpy {name} batch {b}: {out[(name, b)]:.2f} s")
    return out


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def one(cur, sql, args=()):
    cur.execute(sql, args)
    row = cur.fetchone()
    return row[0] if row else None


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def smaps(pid):
    """(private kB = Private_Clean + Private_Dirty, Pss kB) of a process, None when unreadable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            kv = {line.split(":")[0]: int(line.split()[1]) for line in f if line.endswith("kB\n")}
        return kv["Private_Clean"] + kv["Private_Dirty"], kv["Pss"]
    except (OSError, KeyError):
        return None


def prepare_database(dbname, path):
    """The database, the extension and the model (loaded once; its name carries the weights' digest).
    Exits with status 3 when load_model() does not take a sentence-transformers model."""
    conn = connect("postgres")
    with conn.cursor() as cur:
        if one(cur, "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)) is None:
            log(f"create database {dbname}")
            cur.execute(f'CREATE DATABASE "{dbname}"')
    conn.close()
    conn = connect(dbname)
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION IF NOT EXISTS embedding")
    with open(os.path.join(path, "model.safetensors"), "rb") as f:
        name = "bench_minilm_" + hashlib.sha256(f.read()).hexdigest()[:8]
    load_s = None
    try:
        if one(cur, "SELECT 1 FROM pg_proc WHERE proname = 'load_model'") is None:
            raise RuntimeError("no load_model() in this database")
        if one(cur, "SELECT 1 FROM embedding_models WHERE name = %s", (name,)) is None:
            log(f"load_model {name}")
            t0 = time.perf_counter()
            cur.execute("SELECT load_model(%s, %s, 'sentence-transformers')", (name, path))
            load_s = time.perf_counter() - t0
    except (psycopg2.Error, RuntimeError) as e:
        log(f"the server cannot load a sentence-transformers model: {str(e).strip()}")
        sys.exit(3)
    conn.close()
    return name, load_s


def ours_figures(dbname, name, sets, repeats):
    out, cpu = {}, {}
    conn = connect(dbname)
    cur = conn.cursor()
    pid = one(cur, "SELECT pg_backend_pid()")
    one(cur, "SELECT embed(%s, 'warm up')", (name,))
    for set_name, texts in sets.items():
        for b in BATCHES:
            def run():
                for c in chunks(texts, b):
                    if b == 1:
                        one(cur, "SELECT embed(%s, %s)", (name, c[0]))
                    else:
                        one(cur, "SELECT embed(%s, %s::text[])", (name, c))
            c0 = cpu_seconds(pid)
            out[(set_name, b)] = median_seconds(run, repeats)
            c1 = cpu_seconds(pid)
            cpu[(set_name, b)] = None if c0 is None else (c1 - c0) / repeats
            log(f"ours {set_name} batch {b}: {out[(set_name, b)]:.2f} s")
    conn.close()
    return out, cpu


def accuracy(dbname, name, model64, texts):
    """max |ours - ref| / ||ref|| over texts (float64 reference, exact GELU)."""
    conn = connect(dbname)
    cur = conn.cursor()
    worst = 0.0
    for t in texts:
        ours = np.array(one(cur, "SELECT embed(%s, %s)::real[]", (name, t)), np.float64)
        ref = st_reference.embed(model64, t)
        worst = max(worst, float(np.abs(ours - ref).max() / np.linalg.norm(ref)))
    conn.close()
    return worst


def first_calls(dbname, name, n=3):
    """(first, second) call seconds in fresh connections, medians of n."""
    first, second = [], []
    for i in range(n):
        conn = connect(dbname)
        cur = conn.cursor()
        for times in (first, second):
            t0 = time.perf_counter()
            one(cur, "SELECT embed(%s, %s)", (name, f"a first sentence number {i}"))
            times.append(time.perf_counter() - t0)
        conn.close()
    return statistics.median(first), statistics.median(second)


def memory(dbname, name, n):
    """Per backend (private kB, Pss kB) of n connections, idle and after one embed() each (all n open)."""
    conns = [connect(dbname) for _ in range(n)]
    pids = [one(c.cursor(), "SELECT pg_backend_pid()") for c in conns]
    idle = [smaps(p) for p in pids]
    for c in conns:
        one(c.cursor(), "SELECT embed(%s, 'one sentence to embed')", (name,))
    used = [smaps(p) for p in pids]
    for c in conns:
        c.close()
    return idle, used


def mb(kb):
    return f"{kb / 1024:.1f}"


def main():
    a = parse_args()
    path = model_dir(a.cache, a.seed)
    model64 = st_reference.load(path)
    model32 = st_reference.load(path, np.float32)
    sets = sentences(model64, a.sentences, a.seed)
    ntok = {k: tokens(model64, v) for k, v in sets.items()}
    name = load_s = None
    if not a.numpy_only:
        name, load_s = prepare_database(a.database, path)
        ours, cpu = ours_figures(a.database, name, sets, a.repeats)
    npy = numpy_figures(model32, sets, a.repeats)

    print("## embed() with a sentence-transformers model of all-MiniLM-L6-v2's shape (random weights)\n")
    print(f"Model: 6 layers, hidden 384, 12 heads, intermediate 1536, 30,522 tokens, mean pooling + Normalize, "
          f"float32 safetensors ({path}). {a.sentences} sentences per set: short = 8-12 words "
          f"({ntok['short'] / a.sentences:.1f} tokens on average), long = 100-128 tokens "
          f"({ntok['long'] / a.sentences:.1f} on average); tokens count [CLS] and [SEP]. Ours: one backend, "
          f"`SELECT embed(m, text)` per sentence or `SELECT embed(m, text[])` per batch. numpy {np.__version__} "
          f"float32, padded batches with an attention mask, BLAS: {blas_name()}, "
          f"{os.cpu_count()} CPUs. Median of {a.repeats} timed pass(es).\n")
    cols = "| set | batch | ours sent/s | ours tokens/s | ours backend CPU | numpy sent/s | numpy tokens/s | ours/numpy |"
    print(cols)
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (set_name, b), t_np in npy.items():
        n, k = len(sets[set_name]), ntok[set_name]
        if name:
            t = ours[(set_name, b)]
            c = cpu[(set_name, b)]
            o = (f"{n / t:.1f} | {k / t:.0f} | " + (f"{100 * c / t:.0f}%" if c is not None else "n/a")
                 + " | ")
            ratio = f"{t_np / t:.2f}"
        else:
            o, ratio = "- | - | - | ", "-"
        print(f"| {set_name} | {b} | {o}{n / t_np:.1f} | {k / t_np:.0f} | {ratio} |")
    if not name:
        return 0
    first, second = first_calls(a.database, name)
    worst = accuracy(a.database, name, model64, sets["short"][:3] + sets["long"][:1])
    print(f"\nFirst embed() in a fresh connection: {first * 1000:.1f} ms (second call {second * 1000:.1f} ms; "
          f"medians of 3)." + (f" load_model(): {load_s:.1f} s." if load_s else "")
          + f" Agreement with the float64 reference on 4 sentences: max |ours - ref| / ||ref|| = {worst:.2e}.")
    idle, used = memory(a.database, name, a.connections)
    if None in idle + used:
        print("\nMemory: /proc/PID/smaps_rollup of the backends is not readable (run as root).")
        return 0
    print(f"\nMemory per backend, {a.connections} connections open at once (/proc/PID/smaps_rollup; private = "
          f"Private_Clean + Private_Dirty), MB:\n")
    print("| backends | private median | private max | Pss median | Pss max | Pss sum |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, rows in (("idle (connected)", idle), ("after one embed() each", used)):
        priv, pss = [r[0] for r in rows], [r[1] for r in rows]
        print(f"| {label} | {mb(statistics.median(priv))} | {mb(max(priv))} | {mb(statistics.median(pss))} | "
              f"{mb(max(pss))} | {mb(sum(pss))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
