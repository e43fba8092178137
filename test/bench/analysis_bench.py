"""Same-run comparison of the analysis core with scikit-learn and scipy (analysis_bench.sh runs it):
PCA (explained variance and components against scikit-learn's exact solver on float64 input, time
against its default solver and the exact one), k-means (inertia and time against KMeans(n_init=1)
started from our k-means++ seeding), Spearman against scipy, retrieval metrics against a plain
Python reference written here. Every timed run uses the same thread count on both sides."""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.stats import spearmanr
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from threadpoolctl import threadpool_limits


def log(message):
    print(message, file=sys.stderr, flush=True)


def tool(args, *rest):
    out = subprocess.run([args.tool, *map(str, rest)], capture_output=True, text=True, check=True)
    return out.stdout


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def load(path, rows):
    x = np.load(path, mmap_mode="r")
    return np.ascontiguousarray(x[:rows] if rows else x, dtype=np.float32)


def covariance_reference(x):
    """The exact top eigenpairs in float64 (the covariance summed over chunks, then eigh): what
    svd_solver='full' computes, affordable on all 341k x 1,536 rows."""
    n, d = x.shape
    mean = x.mean(axis=0, dtype=np.float64)
    scatter = np.zeros((d, d))
    for start in range(0, n, 20000):
        chunk = x[start:start + 20000].astype(np.float64) - mean
        scatter += chunk.T @ chunk
    values, vectors = np.linalg.eigh(scatter / (n - 1))
    order = np.argsort(values)[::-1]
    return values[order], vectors[:, order].T, float(np.trace(scatter) / (n - 1))


def pca_case(args, work, name, path, rows, components, full_rows=0):
    """full_rows: time svd_solver='full' on the first full_rows rows only (0: all), where it is
    too slow on all of them; the accuracy reference is then the float64 covariance's eigh."""
    x = load(path, rows)
    n, d = x.shape
    log(f"PCA {name}: {n} x {d}, {components} components")
    prefix = os.path.join(work, "pca")
    ours = json.loads(tool(args, "pca", path, n, components, args.threads, prefix))
    variance = np.fromfile(prefix + ".variance", dtype=np.float64)
    basis = np.fromfile(prefix + ".components", dtype=np.float32).reshape(components, d)
    with threadpool_limits(args.threads):
        auto, auto_s = timed(lambda: PCA(n_components=components, random_state=0).fit(x))
    result = {"case": f"PCA {name} {n}x{d} -> {components}", "ours_s": ours["seconds"],
              "sklearn_auto_s": auto_s, "sklearn_auto_solver": auto._fit_svd_solver,
              "speedup_vs_auto": auto_s / ours["seconds"]}
    log(json.dumps(result))
    if full_rows and full_rows < n:
        subset = x[:full_rows]
        sub = json.loads(tool(args, "pca", path, full_rows, components, args.threads, prefix + "s"))
        with threadpool_limits(args.threads):
            _, exact_s = timed(lambda: PCA(n_components=components, svd_solver="full").fit(subset))
        result.update({"full_rows": full_rows, "ours_subset_s": sub["seconds"], "sklearn_full_s": exact_s,
                       "speedup_vs_full": exact_s / sub["seconds"]})
        with threadpool_limits(args.threads):
            ref_var, ref_components, ref_total = covariance_reference(x)
        ref_var, ref_components = ref_var[:components], ref_components[:components]
        ref_ratio = ref_var / ref_total
        result["reference"] = "float64 covariance, numpy eigh"
    else:
        with threadpool_limits(args.threads):
            _, exact_s = timed(lambda: PCA(n_components=components, svd_solver="full").fit(x))
        result.update({"sklearn_full_s": exact_s, "speedup_vs_full": exact_s / ours["seconds"]})
        reference = PCA(n_components=components, svd_solver="full").fit(x.astype(np.float64))
        ref_var, ref_components = reference.explained_variance_, reference.components_
        ref_ratio = reference.explained_variance_ratio_
        result["reference"] = "sklearn svd_solver='full' on float64"
    signs = np.sign(np.sum(basis * ref_components, axis=1))
    result.update({
        "variance_rel_error": float(np.max(np.abs(variance - ref_var) / ref_var)),
        "ratio_rel_error": float(np.max(np.abs(variance / ours["total_variance"] - ref_ratio) / ref_ratio)),
        "component_max_abs_error": float(np.max(np.abs(basis * signs[:, None] - ref_components)))})
    return result


def kmeans_case(args, work, name, path, rows, k, iterations):
    """Against KMeans(n_init=1) from our k-means++ seeds (like for like: the Lloyd passes), and,
    for the whole fit, against KMeans(n_init=1) with its own k-means++ (seeding timed on both sides)."""
    x = load(path, rows)
    n, d = x.shape
    log(f"k-means {name}: {n} x {d}, k {k}, {iterations} iterations")
    prefix = os.path.join(work, "km")
    ours = json.loads(tool(args, "kmeans", path, n, k, iterations, 1, args.threads, prefix))
    seeds = np.fromfile(prefix + ".seeds", dtype=np.float32).reshape(k, d)
    with threadpool_limits(args.threads):
        theirs, their_s = timed(lambda: KMeans(n_clusters=k, init=seeds, n_init=1, max_iter=iterations,
                                               algorithm="lloyd").fit(x))
        own, own_s = timed(lambda: KMeans(n_clusters=k, init="k-means++", n_init=1, max_iter=iterations,
                                          algorithm="lloyd", random_state=0).fit(x))
    return {"case": f"k-means {name} {n}x{d} k={k}", "ours_s": ours["seconds"], "sklearn_s": their_s,
            "speedup": their_s / ours["seconds"], "ours_seeding_s": ours["seeding_seconds"],
            "speedup_passes": their_s / (ours["seconds"] - ours["seeding_seconds"]),
            "ours_inertia": ours["inertia"],
            "sklearn_inertia": float(theirs.inertia_),
            "inertia_rel_diff": (ours["inertia"] - theirs.inertia_) / theirs.inertia_,
            "ours_iterations": ours["iterations"], "sklearn_iterations": int(theirs.n_iter_),
            "sklearn_own_seeding_s": own_s, "speedup_whole_fit": own_s / ours["seconds"],
            "sklearn_own_seeding_inertia": float(own.inertia_)}


def spearman_case(args, work):
    rng = np.random.default_rng(5)
    x = rng.integers(0, 50, 20000).astype(float)  # many ties
    y = x + rng.integers(0, 30, 20000)
    path = os.path.join(work, "pairs.txt")
    np.savetxt(path, np.column_stack([x, y]), fmt="%.17g")
    ours = float(tool(args, "spearman", path))
    theirs = float(spearmanr(x, y).correlation)
    return {"case": "Spearman 20,000 pairs with ties", "ours": ours, "scipy": theirs, "abs_diff": abs(ours - theirs)}


def reference_retrieval(run, qrels, k):
    """trec_eval's definitions, written plainly: queries with a relevant judgement."""
    judged = {}
    for q, doc, rel in qrels:
        judged.setdefault(q, {})[doc] = rel
    ranked = {}
    for q, doc, rank in sorted(run, key=lambda r: (r[0], r[2], r[1])):
        docs = ranked.setdefault(q, [])
        if doc not in docs:
            docs.append(doc)
    out = {}
    for q, docs in judged.items():
        relevant = [r for r in docs.values() if r > 0]
        if not relevant:
            continue
        top = ranked.get(q, [])[:k]
        gains = [docs.get(doc, 0) for doc in top]
        recall = sum(1 for g in gains if g > 0) / len(relevant)
        mrr = next((1 / (i + 1) for i, g in enumerate(gains) if g > 0), 0.0)
        dcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains) if g > 0)
        ideal = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(sorted(relevant, reverse=True)[:k]))
        out[q] = (recall, mrr, dcg / ideal)
    return out


def retrieval_case(args, work):
    rnd = random.Random(9)
    run, qrels = [], []
    for q in range(500):
        for doc in rnd.sample(range(200), 30):
            run.append((f"q{q}", f"d{doc}", rnd.randint(1, 40)))
        for doc in rnd.sample(range(200), 8):
            qrels.append((f"q{q}", f"d{doc}", rnd.randint(0, 3)))
    for name, rows in (("run", run), ("qrels", qrels)):
        with open(os.path.join(work, name + ".tsv"), "w") as f:
            f.writelines(f"{a}\t{b}\t{c}\n" for a, b, c in rows)
    k = 10
    ours = {}
    for line in tool(args, "retrieval", os.path.join(work, "run.tsv"), os.path.join(work, "qrels.tsv"), k).splitlines():
        q, *values = line.split()
        ours[q] = tuple(map(float, values))
    reference = reference_retrieval(run, qrels, k)
    diff = max(abs(a - b) for q in reference for a, b in zip(ours[q], reference[q]))
    assert set(ours) == set(reference)
    return {"case": f"retrieval metrics, {len(reference)} queries, k={k}", "max_abs_diff": diff}


def top10(base, queries, ids, k=10):
    """Exact L2 top k of each query among the base rows, the query's own row left out."""
    norms = np.einsum("ij,ij->i", base, base)
    out = []
    for start in range(0, len(queries), 100):
        scores = 2 * (queries[start:start + 100] @ base.T) - norms  # larger is nearer
        scores[np.arange(len(scores)), ids[start:start + 100]] = -np.inf
        part = np.argpartition(-scores, k, axis=1)[:, :k]
        out.extend(set(row) for row in part)
    return out


def recall_case(args, work, components_list, query_count=1000):
    """What a PCA reduction costs in recall@10: exact top 10 by L2 in the reduced space against the
    exact top 10 in the full space, for query_count rows drawn with a fixed seed. L2, because PCA
    centres the rows: with every component kept it preserves L2 distances exactly (cosine ones not),
    so what is lost is what the dropped components held."""
    x = load(args.glove100, 0)
    n, d = x.shape
    ids = np.random.default_rng(42).choice(n, size=query_count, replace=False)
    truth = top10(x, x[ids], ids)
    rows = []
    for components in components_list:
        prefix = os.path.join(work, "recall")
        tool(args, "pca", args.glove100, n, components, args.threads, prefix)
        basis = np.fromfile(prefix + ".components", dtype=np.float32).reshape(components, d)
        reduced = (x - x.mean(axis=0, dtype=np.float64).astype(np.float32)) @ basis.T
        found = top10(reduced, reduced[ids], ids)
        recall = float(np.mean([len(a & b) / 10 for a, b in zip(found, truth)]))
        rows.append({"components": components, "recall_at_10": recall})
        log(f"PCA to {components}: recall@10 {recall:.3f}")
    return {"case": f"PCA recall@10 glove100 {n} rows, {query_count} queries", "rows": rows}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True)
    parser.add_argument("--glove100", required=True)
    parser.add_argument("--glove1536", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows1536", type=int, default=0, help="rows of the 1,536-d set (0: all)")
    parser.add_argument("--full-rows1536", type=int, default=30000,
                        help="rows on which sklearn's 'full' PCA solver is timed at 1,536-d (too slow on all)")
    parser.add_argument("--quick", action="store_true", help="small slices, to check the script")
    parser.add_argument("--recall", action="store_true", help="only the recall@10 cost of PCA reductions")
    args = parser.parse_args()
    if args.recall:
        with tempfile.TemporaryDirectory() as work:
            result = recall_case(args, work, [75, 50, 25, 10])
        print(json.dumps(result, indent=1))
        print("| components | recall@10 |\n|---|---|")
        for row in result["rows"]:
            print(f"| {row['components']} | {row['recall_at_10']:.3f} |")
        return
    rows100 = 20000 if args.quick else 0
    rows1536 = 5000 if args.quick else args.rows1536
    results = []
    cases = [lambda w: spearman_case(args, w), lambda w: retrieval_case(args, w),
             lambda w: pca_case(args, w, "glove100", args.glove100, rows100, 50),
             lambda w: pca_case(args, w, "glove1536", args.glove1536, rows1536, 64,
                                args.full_rows1536 if not args.quick else 2000),
             lambda w: kmeans_case(args, w, "glove100", args.glove100, rows100, 100, 50),
             lambda w: kmeans_case(args, w, "glove1536", args.glove1536, rows1536, 100, 20)]
    with tempfile.TemporaryDirectory() as work:
        for case in cases:
            results.append(case(work))
            log(json.dumps(results[-1]))  # each result as it comes: a long run can be read midway
    load = os.getloadavg()
    print(json.dumps({"threads": args.threads, "loadavg": load, "results": results}, indent=1))
    print(f"\n| case | ours s | reference s | speed-up | accuracy |  (load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    print("|---|---|---|---|---|")
    for r in results:
        if r["case"].startswith("PCA"):
            full = (f"full {r['sklearn_full_s']:.2f}" + (f" (first {r['full_rows']:,} rows: ours {r['ours_subset_s']:.2f})"
                                                         if "full_rows" in r else ""))
            print(f"| {r['case']} | {r['ours_s']:.2f} | sklearn {r['sklearn_auto_solver']} {r['sklearn_auto_s']:.2f}, "
                  f"{full} | {r['speedup_vs_auto']:.1f}x / {r['speedup_vs_full']:.1f}x | "
                  f"variance rel {r['variance_rel_error']:.1e}, ratio rel {r['ratio_rel_error']:.1e}, "
                  f"components {r['component_max_abs_error']:.1e} ({r['reference']}) |")
        elif r["case"].startswith("k-means"):
            print(f"| {r['case']} | {r['ours_s']:.2f} ({r['ours_iterations']} it; seeding "
                  f"{r['ours_seeding_s']:.2f}) | sklearn from our seeds "
                  f"{r['sklearn_s']:.2f} ({r['sklearn_iterations']} it); with its own k-means++ "
                  f"{r['sklearn_own_seeding_s']:.2f} | {r['speedup']:.1f}x (passes alone "
                  f"{r['speedup_passes']:.1f}x) / {r['speedup_whole_fit']:.1f}x | "
                  f"inertia {r['inertia_rel_diff']:+.2%} (its own seeding: "
                  f"{(r['ours_inertia'] - r['sklearn_own_seeding_inertia']) / r['sklearn_own_seeding_inertia']:+.2%}) |")
        elif r["case"].startswith("Spearman"):
            print(f"| {r['case']} | | scipy | | |diff| {r['abs_diff']:.1e} |")
        else:
            print(f"| {r['case']} | | Python reference | | max |diff| {r['max_abs_diff']:.1e} |")


if __name__ == "__main__":
    main()
