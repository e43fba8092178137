#!/usr/bin/env bash
# Every live row of an hnsw index stays reachable, and hnsw_verify says so when one is not:
# 1. copies of one vector inserted after a VACUUM (into freed elements on full pages) are all
#    returned by an index scan (they once became separate elements that no list kept: 1,202-1,475
#    of 1,667 found), and hnsw_verify, which walks the graph from the entry point, is ok;
# 2. an element removed from every neighbour list (the file edited while the server is down) is
#    reported by hnsw_verify as unreachable rows ("not ok"), and VACUUM links it again;
# 3. an all-zero page at the end of the index (what a crash leaves after the file grew) is free
#    space for hnsw_verify, and VACUUM makes it an index page that inserts use;
# 4. hnsw_verify by a role that may only SELECT takes ACCESS SHARE (SHARE, which blocks writers,
#    is the owner's), and neither it nor ivfflat_info runs for a role whose rows row-level
#    security hides.
source "$(dirname "$0")/cluster.bash"
P=5551
trap 'stop_cluster hnsw_reachability' EXIT
new_cluster hnsw_reachability $P
q $P "CREATE EXTENSION embedding"
copy="'[$(seq -s, 1 16 | sed 's/[0-9]\+/0.5/g')]'"

# 1. Copies after VACUUM.
q $P "CREATE TABLE dup (id serial PRIMARY KEY, v vector(16)) WITH (autovacuum_enabled = false)"
q $P "SELECT setseed(0.42); INSERT INTO dup (v) SELECT (SELECT array_agg(random()) FROM generate_series(1, 16) WHERE i > 0)::vector FROM generate_series(1, 3000) i" >/dev/null
q $P "CREATE INDEX dup_idx ON dup USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32)"
q $P "INSERT INTO dup (v) SELECT $copy FROM generate_series(1, 1000)"
q $P "DELETE FROM dup WHERE id % 3 = 0"
q $P "VACUUM dup"
q $P "INSERT INTO dup (v) SELECT $copy FROM generate_series(1, 1000)"
[ "$(q $P "SELECT count(*) FROM dup WHERE v = $copy")" = 1667 ] || fail "the table lost copies"
for settings in "" "SET hnsw.ef_search = 1000; SET hnsw.iterative_scan = strict_order;"; do
  found=$(q $P "SET enable_seqscan = off; $settings
    SELECT count(*) FROM (SELECT v FROM dup ORDER BY v <-> $copy LIMIT 1667) s WHERE v = $copy")
  [ "$found" = 1667 ] || fail "an index scan ($settings) found $found of 1667 copies"
done
verify=$(q $P "SELECT hnsw_verify('dup_idx')")
echo "$verify" | grep -q '^ok:' || fail "hnsw_verify: $verify"
echo "ok: 1,667 copies inserted around a VACUUM are all found; $verify"

# 1b. The same under 4 concurrent clients inserting copies and other rows and deleting, with
#     VACUUM every 4 s (once 810 of 1,094 copies were unreachable). About 2,400 copies: up to
#     2 * m full elements of copies (10,640 copies at m 8 and 16-d) stay findable, see README.
work=$(mktemp -d)
chmod 755 "$work"
cat >"$work/mixed.sql" <<SQL
\\set r random(1, 10)
INSERT INTO cc (v) SELECT CASE WHEN :r <= 4 THEN $copy::vector ELSE (SELECT array_agg(random()) FROM generate_series(1, 16))::vector END;
DELETE FROM cc WHERE id = (SELECT max(id) - 7 FROM cc) AND :r >= 9;
SQL
q $P "CREATE TABLE cc (id bigserial PRIMARY KEY, v vector(16))"
q $P "INSERT INTO cc (v) SELECT (SELECT array_agg(random()) FROM generate_series(1, 16) WHERE i > 0)::vector FROM generate_series(1, 2000) i"
q $P "CREATE INDEX cc_idx ON cc USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32)"
touch "$work/running"
(while [ -e "$work/running" ]; do sleep 4; q $P "VACUUM cc"; done) &
vacuums=$!
"$PGBIN/pgbench" -n -h "$PGHOST" -p $P -U "$PGOWNER" -c 4 -j 2 -t 1500 -f "$work/mixed.sql" postgres >"$work/pgbench.log" 2>&1 ||
  { cat "$work/pgbench.log"; fail "pgbench failed"; }
rm "$work/running"
wait $vacuums || fail "a concurrent VACUUM failed"
rm -rf "$work"
copies=$(q $P "SELECT count(*) FROM cc WHERE v = $copy")
found=$(q $P "SET enable_seqscan = off; SET hnsw.ef_search = 1000; SET hnsw.iterative_scan = strict_order;
  SELECT count(*) FROM (SELECT v FROM cc ORDER BY v <-> $copy LIMIT 100000) s WHERE v = $copy")
[ "$copies" -gt 500 ] && [ "$found" = "$copies" ] || fail "concurrent load: $found of $copies copies found"
echo "ok: $copies copies inserted by 4 clients beside deletes and VACUUMs are all found"

# 1c. A build of sparse copies: each element takes as many rows as its own size leaves room for
#     (the build once used the largest sparse size: 5,000 copies made 4,062 elements, 1,812 found).
q $P "CREATE TABLE sp (id serial, v sparsevec(1000))"
q $P "INSERT INTO sp (v) SELECT '{5:1,6:2}/1000' FROM generate_series(1, 5000)"
q $P "INSERT INTO sp (v) SELECT format('{%s:%s,%s:2}/1000', i % 499 + 1, i % 17 + 1, i % 487 + 501)::sparsevec FROM generate_series(1, 500) i"
q $P "CREATE INDEX sp_idx ON sp USING hnsw (v sparsevec_l2_ops)"
verify=$(q $P "SELECT hnsw_verify('sp_idx')")
echo "$verify" | grep -q '^ok:' || fail "sparse copies: $verify"
found=$(q $P "SET enable_seqscan = off; SET hnsw.ef_search = 1000; SET hnsw.iterative_scan = relaxed_order;
  SELECT count(*) FROM (SELECT v FROM sp ORDER BY v <-> '{5:1,6:2}/1000' LIMIT 5000) s WHERE v = '{5:1,6:2}/1000'")
[ "$found" = 5000 ] || fail "sparse copies after a build: $found of 5000 found"
echo "ok: 5,000 sparse copies built into an index are all found; $verify"

# 2. An element no list leads to.
q $P "CREATE TABLE small (id int, v vector(4)) WITH (autovacuum_enabled = false)"
q $P "SELECT setseed(0.5); INSERT INTO small SELECT i, ARRAY[random(), random(), random(), random()] FROM generate_series(1, 300) i" >/dev/null
q $P "CREATE INDEX small_idx ON small USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16)"
q $P "CHECKPOINT"
file=$(cluster_dir hnsw_reachability)/$(q $P "SELECT pg_relation_filepath('small_idx')")
as_owner "$PGBIN/pg_ctl" -D "$(cluster_dir hnsw_reachability)" -m fast -w stop >/dev/null
victim=$(/usr/bin/python3 "$ROOT/test/t/hnsw_unlink.py" "$file") || fail "could not edit the index"
start_cluster_dir "$(cluster_dir hnsw_reachability)"
out=$(q $P "SELECT hnsw_verify('small_idx')")
echo "$out" | grep -q "^not ok: 1 live elements holding 1 visible rows cannot be reached from the entry point, for example ($victim)" ||
  fail "hnsw_verify: $out"
echo "ok: an unlinked element ($victim) is reported"
q $P "VACUUM small"
out=$(q $P "SELECT hnsw_verify('small_idx')")
echo "$out" | grep -q '^ok:' || fail "not ok after VACUUM: $out"
echo "ok: VACUUM linked it again"

# 2b. A quantised index whose list holds a code that does not match its neighbour's vector.
q $P "CREATE INDEX small_q ON small USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16, quantization = 'rabitq')"
q $P "SELECT hnsw_verify('small_q')" | grep -q '^ok:.*neighbour codes' || fail "the quantised index does not verify"
q $P "CHECKPOINT"
file=$(cluster_dir hnsw_reachability)/$(q $P "SELECT pg_relation_filepath('small_q')")
as_owner "$PGBIN/pg_ctl" -D "$(cluster_dir hnsw_reachability)" -m fast -w stop >/dev/null
list=$(/usr/bin/python3 "$ROOT/test/t/hnsw_unlink.py" --garble-code "$file") || fail "could not edit the index"
start_cluster_dir "$(cluster_dir hnsw_reachability)"
out=$(q $P "SELECT hnsw_verify('small_q')" 2>&1) && fail "hnsw_verify accepted a garbled code: $out"
echo "$out" | grep -q "neighbour list ($list) holds a code of .* that does not match its vector" ||
  fail "hnsw_verify: $out"
q $P "REINDEX INDEX small_q"
q $P "SELECT hnsw_verify('small_q')" | grep -q '^ok:' || fail "not ok after REINDEX"
echo "ok: a garbled code in list ($list) is reported, and REINDEX rebuilds the codes"

# 2c. A quantised index in 0.6.0's format (metapage version 2, made here by rewriting the version
# of a current one): every use of it, a search, an insert and VACUUM, asks for a REINDEX, which
# makes it usable again. Its own table, so that no other index can serve the search.
q $P "DROP INDEX small_q"
q $P "CREATE TABLE old_q AS SELECT * FROM small"
q $P "CREATE INDEX old_q_v ON old_q USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16, quantization = 'rabitq')"
q $P "CHECKPOINT"
file=$(cluster_dir hnsw_reachability)/$(q $P "SELECT pg_relation_filepath('old_q_v')")
as_owner "$PGBIN/pg_ctl" -D "$(cluster_dir hnsw_reachability)" -m fast -w stop >/dev/null
/usr/bin/python3 - "$file" <<'PY' || fail "could not edit the metapage"
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
assert struct.unpack_from("<I", data, 24 + 4)[0] == 3, "not a format-3 quantised index"
struct.pack_into("<I", data, 24 + 4, 2)  # MetaPage.version, after the 24-byte page header
open(sys.argv[1], "wb").write(data)
PY
start_cluster_dir "$(cluster_dir hnsw_reachability)"
nearest="SET enable_seqscan = off; SELECT id FROM old_q ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 1"
for sql in "$nearest" "INSERT INTO old_q VALUES (1000, '[1000,1,1,1]')" "VACUUM old_q"; do
  out=$(q $P "$sql" 2>&1) && fail "an index in 0.6.0's quantised format was used: $sql"
  echo "$out" | grep -q 'quantized format of embedding 0.6.0.*REINDEX' || fail "$sql: $out"
done
# The same index back at version 3 but with a code stride that does not match its dimensions: a
# corrupt metapage, refused before any list is sized by it.
as_owner "$PGBIN/pg_ctl" -D "$(cluster_dir hnsw_reachability)" -m fast -w stop >/dev/null
/usr/bin/python3 - "$file" <<'PY' || fail "could not edit the metapage"
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<I", data, 24 + 4, 3)
struct.pack_into("<H", data, 24 + 50, 13)  # MetaPage.code_stride: 1 byte of code, 12 of factors
open(sys.argv[1], "wb").write(data)
PY
start_cluster_dir "$(cluster_dir hnsw_reachability)"
out=$(q $P "$nearest" 2>&1) && fail "an index with a bad code stride was used"
echo "$out" | grep -q 'is not a valid hnsw index (bad metapage)' || fail "bad code stride: $out"
q $P "REINDEX INDEX old_q_v"
[ "$(q $P "$nearest")" = "$(q $P "SELECT id FROM old_q ORDER BY (v <-> '[0.5,0.5,0.5,0.5]') + 0 LIMIT 1")" ] ||
  fail "the quantised index does not answer after REINDEX"
q $P "DROP TABLE old_q"
echo "ok: an index in 0.6.0's quantised format asks for a REINDEX (search, insert, VACUUM), a bad code stride is a bad metapage, and REINDEX makes it work"

# 3. An all-zero page at the end of the index.
q $P "CHECKPOINT"
as_owner "$PGBIN/pg_ctl" -D "$(cluster_dir hnsw_reachability)" -m fast -w stop >/dev/null
start_cluster_dir "$(cluster_dir hnsw_reachability)"
file=$(cluster_dir hnsw_reachability)/$(q $P "SELECT pg_relation_filepath('small_idx')")
pages=$(q $P "SELECT pg_relation_size('small_idx') / 8192")
as_owner "$PGBIN/pg_ctl" -D "$(cluster_dir hnsw_reachability)" -m fast -w stop >/dev/null
head -c 8192 /dev/zero >>"$file"
start_cluster_dir "$(cluster_dir hnsw_reachability)"
verify=$(q $P "SELECT hnsw_verify('small_idx')") || fail "hnsw_verify failed on an all-zero page"
echo "$verify" | grep -q "^ok: $((pages + 1)) pages.*1 empty pages" || fail "hnsw_verify: $verify"
q $P "VACUUM small"
verify=$(q $P "SELECT hnsw_verify('small_idx')")
echo "$verify" | grep -q "empty pages" && fail "VACUUM left the page empty: $verify"
q $P "INSERT INTO small SELECT i, ARRAY[i, 1, 1, 1] FROM generate_series(301, 310) i"
[ "$(q $P "SELECT pg_relation_size('small_idx') / 8192")" = $((pages + 1)) ] ||
  fail "inserts did not use the initialised page"
[ "$(q $P "SET enable_seqscan = off; SELECT id FROM small ORDER BY v <-> '[305,1,1,1]' LIMIT 1")" = 305 ] ||
  fail "a row inserted after VACUUM is not found"
echo "ok: an all-zero page is free space, and VACUUM makes it usable"
# The same for ivfflat, whose lists are chains of pages: a page no chain leads to is never read.
q $P "CREATE INDEX small_ivf ON small USING ivfflat (v vector_l2_ops) WITH (lists = 2)"
q $P "CHECKPOINT"
file=$(cluster_dir hnsw_reachability)/$(q $P "SELECT pg_relation_filepath('small_ivf')")
as_owner "$PGBIN/pg_ctl" -D "$(cluster_dir hnsw_reachability)" -m fast -w stop >/dev/null
head -c 8192 /dev/zero >>"$file"
start_cluster_dir "$(cluster_dir hnsw_reachability)"
[ "$(q $P "SELECT sum(rows) FROM ivfflat_info('small_ivf')")" = 310 ] || fail "ivfflat_info with an all-zero page"
q $P "DELETE FROM small WHERE id = 1"
q $P "VACUUM small"
q $P "INSERT INTO small VALUES (400, '[400,1,1,1]')"
[ "$(q $P "SET enable_seqscan = off; SET ivfflat.probes = 2; SELECT id FROM small ORDER BY v <-> '[400,1,1,1]' LIMIT 1")" = 400 ] ||
  fail "ivfflat after an all-zero page"
echo "ok: ivfflat reads, vacuums and inserts past an all-zero page"

# 4. Locks and row-level security for a role that may only read.
q $P "CREATE ROLE reader; GRANT SELECT ON small TO reader"
# A writer's transaction stays open meanwhile: a reader's check must not wait for it.
"$PGBIN/psql" -X -qAt -p $P -d postgres -c "BEGIN; INSERT INTO small VALUES (0, '[0,0,0,0]'); SELECT pg_sleep(8); ROLLBACK" >/dev/null &
writer=$!
for _ in $(seq 1 50); do
  [ "$(q $P "SELECT count(*) FROM pg_locks WHERE relation = 'small'::regclass AND mode = 'RowExclusiveLock'")" = 1 ] && break
  sleep 0.1
done
q $P "SET lock_timeout = '2s'; SET ROLE reader; SELECT hnsw_verify('small_idx')" | grep -q '^ok:' ||
  fail "a reader's hnsw_verify waited for a writer"
out=$("$PGBIN/psql" -X -qAt -p $P -d postgres -c "SET lock_timeout = '500ms'; SELECT hnsw_verify('small_idx')" 2>&1) &&
  fail "the owner's hnsw_verify did not wait for the writer: $out"
echo "$out" | grep -q "lock timeout" || fail "owner: $out"
wait $writer
q $P "SET ROLE reader; SELECT hnsw_verify('small_idx')" | grep -q "not exact" || fail "a reader's check does not say it is not exact"
q $P "ALTER TABLE small ENABLE ROW LEVEL SECURITY; CREATE POLICY few ON small FOR SELECT USING (id < 10)"
for call in "hnsw_verify('small_idx')" "count(*) FROM ivfflat_info('small_ivf')"; do
  out=$("$PGBIN/psql" -X -qAt -p $P -d postgres -c "SET ROLE reader; SELECT $call" 2>&1) &&
    fail "$call ran past row-level security: $out"
  echo "$out" | grep -q "row-level security" || fail "$call: $out"
done
q $P "SELECT hnsw_verify('small_idx')" | grep -q '^ok:' || fail "the owner's check failed under RLS"
echo "ok: readers take ACCESS SHARE, and row-level security keeps counts from them"
echo "hnsw_reachability: all passed"
