#!/usr/bin/env bash
# An hnsw build reports progress in pg_stat_progress_create_index, and a cancel stops it
# promptly (the worker threads poll a cancel token; the leader checks for interrupts). A cancel in
# each phase (loading tuples, linking the graph, writing pages) leaves no leak: one backend
# cancelled four times in a phase keeps its anonymous memory (RssAnon) within 1 MB of where the
# second cancel left it (a leaked page plan alone would add 2.6 MB a cancel).
source "$(dirname "$0")/cluster.bash"
P=5516
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster build_cancel; rm -rf "$work"' EXIT
# One malloc arena for every thread, and a fixed mmap threshold (glibc otherwise raises it after
# large frees and keeps later large blocks in the heap), so that freed memory is returned or
# reused and anything that stays is a leak.
export MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=131072
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
  case "$row" in *"building index: linking the graph"*)
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
echo "ok: a cancel stops the build"

# One backend, cancelled in each phase: its memory must not grow from cancel to cancel.
q $P "CREATE FUNCTION rss_anon_kb() RETURNS bigint LANGUAGE sql AS
  \$\$ SELECT (regexp_match(pg_read_file('/proc/self/status'), 'RssAnon:\\s+(\\d+)'))[1]::bigint \$\$"
for target in "loading tuples" "linking the graph" "writing pages"; do
  {
    echo "SELECT 'pid', pg_backend_pid();"
    for attempt in 1 2 3 4; do
      echo "DROP INDEX IF EXISTS items_v;"
      echo "CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops);"
      echo "SELECT 'rss', rss_anon_kb();"
    done
  } >"$work/session.sql"
  "$PGBIN/psql" -X -qAt -p $P -d postgres -f "$work/session.sql" >"$work/session.out" 2>&1 &
  session=$!
  cancels=0
  for _ in $(seq 1 6000); do
    row=$(q $P "SELECT pid || '|' || phase || '|' || blocks_done FROM pg_stat_progress_create_index")
    case "$row" in *"building index: $target|"*)
      if [ "$target" != "loading tuples" ] || [ "$(echo "$row" | cut -d'|' -f3)" -gt 0 ]; then
        q $P "SELECT pg_cancel_backend(${row%%|*})" >/dev/null
        cancels=$((cancels + 1))
        # The next build starts at once: wait for this one's error before watching again.
        for _ in $(seq 1 500); do
          [ "$(grep -c 'canceling statement' "$work/session.out")" -ge "$cancels" ] && break
          sleep 0.01
        done
      fi ;;
    esac
    kill -0 $session 2>/dev/null || break
    sleep 0.01
  done
  wait $session || true
  [ "$cancels" = 4 ] || { cat "$work/session.out"; fail "$target: $cancels of 4 builds cancelled in that phase"; }
  [ "$(grep -c 'canceling statement due to user request' "$work/session.out")" = 4 ] ||
    { cat "$work/session.out"; fail "$target: not every build was cancelled"; }
  rss=$(grep '^rss|' "$work/session.out" | cut -d'|' -f2 | tr '\n' ' ')
  first=$(echo "$rss" | awk '{print $2}')  # after two cancels: the allocator has settled
  last=$(echo "$rss" | awk '{print $NF}')
  echo "$target: RssAnon after each cancel (kB): $rss"
  [ $((last - first)) -lt 1024 ] || fail "$target: the backend grew by $((last - first)) kB over 2 cancels"
done
echo "ok: no cancel leaks memory"
