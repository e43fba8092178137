# Citus bench driver (run by citus_bench.sh): the same rows in a local table on the coordinator and in a
# distributed table of 32 shards on the workers; build time, recall/QPS/p50/p99 and where the time goes.
import argparse
import io
import os
import sys
import time

import numpy as np
import psycopg2

K = 10


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def connect(port, host):
    conn = psycopg2.connect(host=host, port=port, dbname="postgres", user=os.environ.get("PGUSER", "postgres"))
    conn.autocommit = True
    return conn


def literal(v):
    return "[" + ",".join(f"{x:.7g}" for x in v) + "]"


def copy_rows(conn, table, vectors, ids):
    """COPY id, vector text rows in blocks (through the coordinator for the distributed table)."""
    cur = conn.cursor()
    block = 20000
    for start in range(0, len(ids), block):
        rows = "".join(f"{i}\t{literal(vectors[i])}\n" for i in ids[start : start + block])
        cur.copy_expert(f"COPY {table} (id, embedding) FROM STDIN", io.StringIO(rows))


def exact_top(vectors, base_ids, query_ids):
    base = vectors[base_ids].astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True) + 1e-30
    truth = []
    for q in query_ids:
        v = vectors[q].astype(np.float32)
        v /= np.linalg.norm(v) + 1e-30
        scores = base @ v
        top = np.argpartition(-scores, K)[:K]
        truth.append(set(base_ids[top].tolist()))
    return truth


def search(conn, table, queries, ef, distributed):
    """Latencies (s) and result ids of each query at ef_search (SET LOCAL reaches the shards)."""
    cur = conn.cursor()
    lat, results = [], []
    for q in queries:
        t0 = time.perf_counter()
        cur.execute("BEGIN")
        if distributed:
            cur.execute("SET LOCAL citus.propagate_set_commands = local")
        cur.execute(f"SET LOCAL hnsw.ef_search = {ef}")
        cur.execute(f"SELECT id FROM {table} ORDER BY embedding <=> %s::vector LIMIT {K}", (q,))
        ids = [r[0] for r in cur.fetchall()]
        cur.execute("COMMIT")
        lat.append(time.perf_counter() - t0)
        results.append(ids)
    return np.array(lat), results


def recall(results, truth):
    return float(np.mean([len(set(r) & t) / K for r, t in zip(results, truth)]))


def timed(conn, sql):
    t0 = time.perf_counter()
    conn.cursor().execute(sql)
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--npy", required=True)
    p.add_argument("--rows", type=int, default=0, help="first N rows only (0: all)")
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--coordinator", type=int, required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--shards", type=int, default=32)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--ef-construction", type=int, default=64)
    p.add_argument("--target", type=float, default=0.95)
    p.add_argument("--efs", default="10,20,40,80,160,320")
    p.add_argument("--cached-conns", type=int, default=16, help="citus.max_cached_conns_per_worker")
    args = p.parse_args()

    vectors = np.load(args.npy, mmap_mode="r")
    n = args.rows or len(vectors)
    dims = vectors.shape[1]
    rng = np.random.default_rng(42)
    query_ids = rng.choice(n, size=args.queries, replace=False)
    mask = np.ones(n, dtype=bool)
    mask[query_ids] = False
    base_ids = np.flatnonzero(mask)
    log(f"{os.path.basename(args.npy)}: {len(base_ids):,} rows of {dims}-d, {args.queries} queries, k {K}")
    truth = exact_top(vectors, base_ids, query_ids)
    queries = [literal(vectors[q]) for q in query_ids]

    conn = connect(args.coordinator, args.host)
    cur = conn.cursor()
    # Keep the connections the executor opens to each worker (the default keeps 1, so every query
    # would start new worker backends for its parallel shard tasks).
    cur.execute(f"SET citus.max_cached_conns_per_worker = {args.cached_conns}")
    cur.execute("SELECT nodeport FROM pg_dist_node WHERE groupid <> 0 ORDER BY nodeport")
    workers = [r[0] for r in cur.fetchall()]
    log(f"workers: {workers}")
    report = {}
    for name, distributed in (("one node", False), (f"{args.shards} shards", True)):
        table = "bench_dist" if distributed else "bench_local"
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, embedding vector({dims}))")
        if distributed:
            cur.execute(f"SELECT create_distributed_table('{table}', 'id', shard_count => {args.shards})")
        t0 = time.perf_counter()
        copy_rows(conn, table, vectors, base_ids)
        load_s = time.perf_counter() - t0
        build_s = timed(conn, f"CREATE INDEX ON {table} USING hnsw (embedding vector_cosine_ops) "
                              f"WITH (m = {args.m}, ef_construction = {args.ef_construction})")
        cur.execute(f"VACUUM ANALYZE {table}")
        log(f"{name}: COPY {load_s:.1f} s, index build {build_s:.1f} s")
        search(conn, table, queries[:50], 40, distributed)  # warm the caches
        chosen = None
        for ef in [int(x) for x in args.efs.split(",")]:
            lat, res = search(conn, table, queries, ef, distributed)
            r = recall(res, truth)
            log(f"{name}: ef_search {ef}: recall {r:.3f}, QPS {len(lat) / lat.sum():.0f}, "
                f"p50 {np.percentile(lat, 50) * 1e3:.2f} ms, p99 {np.percentile(lat, 99) * 1e3:.2f} ms")
            if r >= args.target:
                chosen = (ef, r, lat)
                break
        report[name] = (load_s, build_s, chosen)

    # Where the time goes, at the distributed run's ef: one shard's search run directly on its worker,
    # and the fan-out alone (the same 32 tasks, each an empty primary-key probe).
    ef = report[f"{args.shards} shards"][2][0] if report[f"{args.shards} shards"][2] else 40
    cur.execute("SELECT shardid, nodeport FROM citus_shards WHERE table_name = 'bench_dist'::regclass "
                "ORDER BY shardid LIMIT 1")
    shardid, port = cur.fetchone()
    wconn = connect(port, args.host)
    shard_lat, _ = search(wconn, f"bench_dist_{shardid}", queries, ef, False)
    fan_lat = []
    for _ in range(len(queries)):
        t0 = time.perf_counter()
        cur.execute("SELECT id FROM bench_dist WHERE id < 0 ORDER BY id LIMIT 10")
        cur.fetchall()
        fan_lat.append(time.perf_counter() - t0)
    fan_lat = np.array(fan_lat)

    print()
    print(f"## {os.path.basename(args.npy)}: {len(base_ids):,} rows, {dims}-d, hnsw m {args.m}, "
          f"ef_construction {args.ef_construction}, k {K}, {args.queries} queries, recall target {args.target}")
    print("| layout | COPY s | build s | ef_search | recall | QPS (1 client) | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (load_s, build_s, chosen) in report.items():
        if chosen is None:
            print(f"| {name} | {load_s:.1f} | {build_s:.1f} | not reached | | | | |")
            continue
        ef_, r, lat = chosen
        print(f"| {name} | {load_s:.1f} | {build_s:.1f} | {ef_} | {r:.3f} | {len(lat) / lat.sum():.0f} | "
              f"{np.percentile(lat, 50) * 1e3:.2f} | {np.percentile(lat, 99) * 1e3:.2f} |")
    print(f"\nwhere the time goes (ef_search {ef}): one shard's search on its worker p50 "
          f"{np.percentile(shard_lat, 50) * 1e3:.2f} ms (mean {shard_lat.mean() * 1e3:.2f}); "
          f"the {args.shards}-task fan-out alone (empty probes: connections, planning, network, merge) p50 "
          f"{np.percentile(fan_lat, 50) * 1e3:.2f} ms (mean {fan_lat.mean() * 1e3:.2f}); "
          f"{len(workers)} workers, {os.cpu_count()} cores shared by all nodes; load {os.getloadavg()[0]:.2f}")
    cur.execute("DROP TABLE IF EXISTS bench_local, bench_dist")


if __name__ == "__main__":
    sys.exit(main())
