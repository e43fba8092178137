#!/usr/bin/env bash
# An hnsw build reports progress in pg_stat_progress_create_index, and a cancel stops it
# promptly (the worker threads poll a cancel token; the leader checks for interrupts).
source "$(dirname "$0")/cluster.bash"
P=5516
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster build_cancel; rm -rf "$work"' EXIT
new_cluster build_cancel $P "maintenance_work_mem = 1GB"
q $P "CREATE EXTENSION embedding"
q $P "$RANDOM_VECTOR_SQL"
q $P "CREATE TABLE items (id int, v vector(96))"
q $P "INSERT INTO items SELECT i, rv(96) FROM generate_series(1, 150000) i"
"$PGBIN/psql" -X -p $P -d postgres -c "CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops)" >"$work/out" 2>&1 &
build=$!
phase=""
for _ in $(seq 1 300); do
  row=$(q $P "SELECT phase || '|' || tuples_done || '|' || tuples_total || '|' || pid FROM pg_stat_progress_create_index")
  case "$row" in *"building index: loading tuples"*)
    done=$(echo "$row" | cut -d'|' -f2)
    [ "$done" -gt 0 ] && { phase=$row; break; } ;;
  esac
  sleep 0.1
done
[ -n "$phase" ] || fail "no build progress seen in pg_stat_progress_create_index"
echo "progress: $phase"
pid=$(echo "$phase" | cut -d'|' -f4)
cancelled=$(date +%s.%N)
q $P "SELECT pg_cancel_backend($pid)" >/dev/null
wait $build || true
elapsed=$(awk -v a="$cancelled" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
grep -q "canceling statement due to user request" "$work/out" || { cat "$work/out"; fail "the build was not cancelled"; }
echo "the build stopped ${elapsed}s after the cancel"
awk -v e="$elapsed" 'BEGIN { exit !(e < 5) }' || fail "the build took ${elapsed}s to stop"
[ "$(q $P "SELECT count(*) FROM pg_class WHERE relname = 'items_v'")" = 0 ] || fail "a cancelled build left an index"
q $P "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'CREATE INDEX%'" | grep -qx 0 || fail "backend still busy"
echo "ok"
