#!/usr/bin/env bash
# SQL-level benchmark of embed() (not part of the test suite): bulk UPDATE of 100,000 documents,
# the first embed() call in a fresh connection, and the memory of 20 connections that called
# embed() compared with idle ones. Uses the cluster of scripts/lib.sh and the PostgreSQL manual
# (postgresql-doc-15) as text. Usage: test/bench/embed_sql_bench.sh [documents]
source "$(dirname "$0")/../../scripts/lib.sh"
DOCS=${1:-100000}
start_cluster
work=$(mktemp -d)
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT
chmod 755 "$work"
DB=embedding_embed_bench
psql_q -d postgres -tc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 || psql_q -d postgres -c "CREATE DATABASE $DB"
psql_q -d $DB -c "CREATE EXTENSION IF NOT EXISTS embedding"
perl "$ROOT/scripts/manual-passages.pl" /usr/share/doc/postgresql-doc-15/html >"$work/passages.tsv"

echo "## bulk UPDATE docs SET embedding = embed(body), $DOCS documents"
"$PGBIN/psql" -X -v ON_ERROR_STOP=1 -q -d $DB <<SQL
DROP TABLE IF EXISTS passages, docs;
CREATE TABLE passages (page text, title text, body text);
\copy passages FROM '$work/passages.tsv'
CREATE TABLE docs (id int PRIMARY KEY, body text, embedding vector(100));
INSERT INTO docs SELECT i, p.body FROM generate_series(1, $DOCS) i
  JOIN (SELECT row_number() OVER () AS n, body FROM passages) p ON p.n = 1 + (i - 1) % (SELECT count(*) FROM passages);
VACUUM ANALYZE docs;
SELECT count(*) AS documents, sum(array_length(regexp_split_to_array(trim(body), '\s+'), 1)) AS words,
       pg_size_pretty(sum(length(body))) AS text FROM docs \gset
\echo documents :documents, whitespace-separated words :words, text :text
\timing on
UPDATE docs SET embedding = embed(body);
\timing off
SELECT count(*) FILTER (WHERE embedding IS NULL) AS without_vector FROM docs;
SQL

echo
echo "## first embed() call in a fresh connection (10 connections)"
for i in $(seq 1 10); do
  "$PGBIN/psql" -X -q -d $DB -c '\timing on' -c "SELECT embed('how do I create an index') IS NOT NULL" | grep -E '^Time'
done

echo
echo "## memory: 20 connections after embed() vs 20 that only loaded the extension library"
for i in $(seq 1 20); do
  "$PGBIN/psql" -X -q -d $DB -c "SELECT embed(body) FROM docs WHERE id = $i" -c "SELECT pg_sleep(20)" >/dev/null &
  "$PGBIN/psql" -X -q -d $DB -c "SELECT '[1,2]'::vector" -c "SELECT pg_sleep(20) /* idle */" >/dev/null &
done
sleep 4
report() {
  local label=$1 pattern=$2
  local pids
  pids=$(psql_q -d $DB -Atc "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(20)$pattern'")
  local n=0 rss=0 pss=0 uss=0
  for pid in $pids; do
    n=$((n + 1))
    rss=$((rss + $(awk '/^Rss:/ {print $2}' /proc/$pid/smaps_rollup)))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup)))
    uss=$((uss + $(awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' /proc/$pid/smaps_rollup)))
  done
  [ $n -gt 0 ] && echo "$label: $n backends, mean RSS $((rss / n)) kB, PSS $((pss / n)) kB, private $((uss / n)) kB"
}
report "after embed()" ""
report "idle         " " /* idle */"
wait
