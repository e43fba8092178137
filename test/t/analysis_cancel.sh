#!/usr/bin/env bash
# Long analysis runs report progress and stop at a cancel: kmeans_fit, pca_fit and
# embedding_map(method => 'tsne') each print a per-step progress NOTICE, then pg_cancel_backend
# from a second session ends them within ~1 s with the cancel error, and no model row is stored.
source "$(dirname "$0")/cluster.bash"
P=5587
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster analysis_cancel; rm -rf "$work"' EXIT
new_cluster analysis_cancel $P "maintenance_work_mem = 1GB"
q $P "CREATE EXTENSION embedding"
q $P "$RANDOM_VECTOR_SQL"
# Random rows: a flat spectrum keeps the PCA eigensolver iterating, and k-means keeps moving.
q $P "CREATE TABLE pts AS SELECT i, rv(512) AS v FROM generate_series(1, 48000) i"

# run_and_cancel NAME SQL NOTICE: runs SQL, waits for a NOTICE matching NOTICE, cancels it.
run_and_cancel() {
  local name=$1 sql=$2 notice=$3 out="$work/$1.out" pid="" started elapsed
  "$PGBIN/psql" -X -p $P -d postgres -c "$sql" >"$out" 2>&1 &
  local session=$!
  for _ in $(seq 1 1200); do
    grep -q "$notice" "$out" && break
    kill -0 $session 2>/dev/null || break
    sleep 0.05
  done
  grep -q "$notice" "$out" || { cat "$out"; fail "$name: no progress NOTICE matching '$notice'"; }
  pid=$(q $P "SELECT pid FROM pg_stat_activity WHERE query = \$q\$$sql\$q\$")
  [ -n "$pid" ] || { cat "$out"; fail "$name: finished before the cancel (make the run longer)"; }
  started=$(date +%s.%N)
  q $P "SELECT pg_cancel_backend($pid)" >/dev/null
  wait $session || true
  elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  grep -q "canceling statement due to user request" "$out" || { cat "$out"; fail "$name: not cancelled"; }
  echo "$(grep -m1 "$notice" "$out" | sed 's/^NOTICE: *//'); stopped ${elapsed}s after the cancel"
  awk -v e="$elapsed" 'BEGIN { exit !(e < 1.5) }' || fail "$name took ${elapsed}s to stop"
}

run_and_cancel kmeans_fit "SELECT kmeans_fit('cancel_km', 'SELECT v FROM pts', 300, max_iterations => 10000)" \
  "kmeans_fit: iteration"
run_and_cancel pca_fit "SELECT pca_fit('cancel_pca', 'SELECT v FROM pts', 100)" "pca_fit: eigensolver step"
run_and_cancel embedding_map "SELECT embedding_map('SELECT v, i::text FROM pts LIMIT 6000', method => 'tsne')" \
  "embedding_map: t-SNE iteration"
[ "$(q $P "SELECT count(*) FROM embedding_models WHERE name LIKE 'cancel%'")" = 0 ] ||
  fail "a cancelled fit stored a model"
q $P "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'" |
  grep -qx 0 || fail "a backend is still busy"
echo "ok: kmeans_fit, pca_fit and t-SNE report progress and stop at a cancel"
