#!/usr/bin/env bash
# embedding on a local Citus cluster (a coordinator and two workers, then a third): distributed and
# reference tables of every type, sharded indexes, pushed-down k-NN, GUCs, models, rebalancing, faults.
source "$(dirname "$0")/cluster.bash"
if [ ! -f "$("$PGBIN/pg_config" --pkglibdir)/citus.so" ]; then
  echo "SKIP citus.sh: Citus is not installed in $("$PGBIN/pg_config" --pkglibdir) (scripts/citus.sh installs it)"
  exit 0
fi
C=5585 # coordinator; workers on 5586, 5587 and (for the rebalance) 5588
work=$(mktemp -d)
chmod 755 "$work"
[ "$(id -u)" = 0 ] && chown "$PGOWNER" "$work" # the server writes the COPY files
trap 'for n in citus_w1_restored citus_w3 citus_w2 citus_w1 citus_c; do stop_cluster $n; done; rm -rf "$work"' EXIT
cp "$ROOT"/test/data/models_toy.glove.txt "$work"/
chmod 644 "$work"/*
CITUS_CONF=("shared_preload_libraries = 'citus'" "wal_level = logical" "max_replication_slots = 10"
  "max_wal_senders = 10" "citus.node_conninfo = 'sslmode=disable'" "citus.local_hostname = '$PGHOST'" "max_connections = 60")
node() { # node NAME PORT: a Citus node with both extensions
  new_cluster "$1" "$2" "${CITUS_CONF[@]}"
  q "$2" "CREATE EXTENSION citus; CREATE EXTENSION embedding"
}
qc() { q $C "$1"; }
# must_fail PORT SQL PATTERN WHAT: SQL must fail with an error matching PATTERN.
must_fail() {
  local out
  if out=$("$PGBIN/psql" -X -v ON_ERROR_STOP=1 -qAt -p "$1" -d postgres -c "$2" 2>&1); then
    fail "$4: succeeded"
  fi
  grep -qE "$3" <<<"$out" || fail "$4: $out"
}
# shards SQL: the distinct results of SQL (%s is the shard's name) over every shard of items.
shards() { qc "SELECT string_agg(DISTINCT result, ',') FROM run_command_on_shards('items', \$\$$1\$\$)"; }

# All four nodes at once (the third worker joins later, for the rebalance).
pids=()
for spec in citus_c:$C citus_w1:5586 citus_w2:5587 citus_w3:5588; do
  node "${spec%%:*}" "${spec##*:}" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "a Citus node did not start"; done
qc "SELECT citus_set_coordinator_host('$PGHOST', $C)" >/dev/null
qc "SELECT citus_add_node('$PGHOST', 5586), citus_add_node('$PGHOST', 5587)" >/dev/null

echo "-- models: loaded on the coordinator, served by every worker"
qc "SELECT load_model('toy', '$work/models_toy.glove.txt', 'glove')" >/dev/null
want=$(qc "SELECT embed('toy', 'man woman king')")
for p in 5586 5587; do
  [ "$(q $p "SELECT embed('toy', 'man woman king')")" = "$want" ] || fail "worker $p: embed differs or fails"
done
# The workers' stores keep their guarantees: no direct writes, no pushes but the owner's.
q 5586 "CREATE ROLE mallory LOGIN"
must_fail 5586 "UPDATE \"#embedding\".model_store SET source = 'x'" "UPDATE on .* is not allowed" \
  "worker store accepts UPDATE"
must_fail 5586 "SET ROLE mallory; SELECT \"#embedding\".model_store_apply('evil', 's', 'glove', repeat('0', 64), '\\x00')" \
  "permission denied" "model_store_apply open to others"
must_fail 5586 "SET ROLE mallory; INSERT INTO \"#embedding\".model_store SELECT * FROM \"#embedding\".model_store" \
  "permission denied" "worker store takes a direct INSERT from another role"
must_fail 5586 "SELECT \"#embedding\".model_store_apply('evil', 's', 'glove', repeat('0', 64), '\\x0001')" \
  "does not match its hash" "model_store_apply takes a bad row"

echo "-- distributed table of every type; INSERT, COPY text and binary, generated embed() column"
qc "CREATE TABLE items (id bigint PRIMARY KEY, cat int, body text, embedding vector(16), h halfvec(16),
      s sparsevec(16), b bit(16), e vector(4) GENERATED ALWAYS AS (embed('toy', body)) STORED)"
qc "SELECT create_distributed_table('items', 'id', shard_count => 8)" >/dev/null
qc "CREATE TABLE staging AS SELECT i AS id, i % 5 AS cat,
      (ARRAY['man','woman','king','queen','the man'])[1 + i % 5] || ' ' || i AS body,
      (SELECT array_agg(random())::real[]::vector(16) FROM generate_series(1, 16 + 0 * i)) AS embedding
    FROM generate_series(1, 6000) i"
qc "INSERT INTO items (id, cat, body, embedding, h, s, b)
    SELECT id, cat, body, embedding, embedding::halfvec(16), embedding::sparsevec(16),
           binary_quantize(embedding)::bit(16) FROM staging WHERE id <= 4000"
qc "COPY (SELECT id::bigint, cat, body, embedding, embedding::halfvec(16), embedding::sparsevec(16),
      binary_quantize(embedding)::bit(16) FROM staging WHERE id > 4000 AND id <= 5000) TO '$work/rows.txt'"
qc "COPY (SELECT id::bigint, cat, body, embedding, embedding::halfvec(16), embedding::sparsevec(16),
      binary_quantize(embedding)::bit(16) FROM staging WHERE id > 5000) TO '$work/rows.bin' (FORMAT binary)"
qc "COPY items (id, cat, body, embedding, h, s, b) FROM '$work/rows.txt'"
qc "COPY items (id, cat, body, embedding, h, s, b) FROM '$work/rows.bin' (FORMAT binary)"
[ "$(qc "SELECT count(*) FROM items")" = 6000 ] || fail "row count"
# Every value arrived intact (the join with the local table runs through the coordinator).
bad=$(qc "SELECT count(*) FROM items i JOIN staging s USING (id) WHERE i.embedding <> s.embedding
          OR i.h <> s.embedding::halfvec(16) OR i.s <> s.embedding::sparsevec(16)
          OR i.b <> binary_quantize(s.embedding)::bit(16)")
[ "$bad" = 0 ] || fail "$bad rows differ after INSERT/COPY"
# The generated column was computed on the workers with the coordinator's model.
qc "SELECT id, e FROM items ORDER BY id" >"$work/on_workers"
qc "SELECT id, embed('toy', body) FROM staging ORDER BY id" >"$work/on_coordinator"
cmp -s "$work/on_workers" "$work/on_coordinator" || fail "embed() on the workers differs from the coordinator"
qc "CREATE TABLE items2 (id bigint PRIMARY KEY, v vector(4))"
qc "SELECT create_distributed_table('items2', 'id', colocate_with => 'items')" >/dev/null
qc "INSERT INTO items2 SELECT id, embed('toy', body) FROM items" # embed() runs on the shards
[ "$(qc "SELECT count(*) FROM items2 JOIN items USING (id) WHERE v = e")" = 6000 ] || fail "INSERT ... SELECT embed()"
qc "INSERT INTO items2 SELECT id + 20000, embed('toy', body) FROM staging" # from a local table: on the coordinator
qc "SELECT id - 20000, v FROM items2 WHERE id > 20000 ORDER BY id" >"$work/from_local"
cmp -s "$work/from_local" "$work/on_workers" || fail "INSERT ... SELECT embed() from a local table"

echo "-- reference table with a vector column, joins"
qc "CREATE TABLE cats (cat int PRIMARY KEY, centre vector(16))"
qc "SELECT create_reference_table('cats')" >/dev/null
qc "INSERT INTO cats SELECT c, array_fill(c::real / 5, ARRAY[16])::vector FROM generate_series(0, 4) c"
got=$(qc "SELECT round(sum(i.embedding <-> c.centre)::numeric, 3) FROM items i JOIN cats c USING (cat)")
exp=$(qc "SELECT round(sum(s.embedding <-> array_fill(s.cat::real / 5, ARRAY[16])::vector)::numeric, 3) FROM staging s")
[ "$got" = "$exp" ] || fail "join with the reference table: $got, expected $exp"

echo "-- hnsw on every shard, ORDER BY/LIMIT pushed down, global top k"
qc "CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 4, ef_construction = 16)"
[ "$(shards "SELECT count(*) FROM pg_indexes WHERE tablename = '%s' AND indexdef LIKE '%%USING hnsw%%'")" = 1 ] ||
  fail "hnsw index missing on a shard"
Q="(SELECT embedding FROM staging WHERE id = 17)"
plan=$(qc "EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> '$(qc "SELECT $Q")' LIMIT 10")
grep -q "Custom Scan (Citus Adaptive)" <<<"$plan" || fail "not a distributed plan: $plan"
grep -q "Limit" <<<"$(sed -n '/Task Count/,$p' <<<"$plan")" || fail "LIMIT not pushed to the shards: $plan"
grep -q "Index Scan using items_hnsw_" <<<"$plan" || fail "shards do not use the hnsw index: $plan"
knn() { # knn TXN_SETTINGS ORDER: ids of the 10 nearest to query 17 (the settings are SET LOCAL)
  printf 'BEGIN;\nSET LOCAL citus.propagate_set_commands = local;\n%s\nSELECT id FROM items %s LIMIT 10;\nCOMMIT;\n' "$1" "$2" |
    "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -qAt -p $C -d postgres | tr '\n' ' '
}
V="'$(qc "SELECT $Q")'"
exact=$(knn "" "ORDER BY (embedding <-> $V) + 0, id")
[ "$(knn "SET LOCAL hnsw.ef_search = 400;" "ORDER BY embedding <-> $V")" = "$exact" ] ||
  fail "hnsw top 10 with a large ef_search is not the exact answer"
# ef_search reaches the shards: at 1 each of the 8 shards returns at most 1 row (plain scan).
few=$(knn "SET LOCAL hnsw.ef_search = 1;" "ORDER BY embedding <-> $V" | wc -w)
[ "$few" -le 8 ] || fail "SET LOCAL hnsw.ef_search = 1 did not reach the shards ($few rows)"
# iterative_scan reaches them too: the same ef_search then fills the 10 rows.
many=$(knn "SET LOCAL hnsw.ef_search = 1; SET LOCAL hnsw.iterative_scan = relaxed_order;" "ORDER BY embedding <-> $V" | wc -w)
[ "$many" = 10 ] || fail "SET LOCAL hnsw.iterative_scan did not reach the shards ($many rows)"
# A plain SET of ours does not reach them (Citus propagates SET LOCAL only): documented.
plain=$(printf 'SET hnsw.ef_search = 1;\nSELECT id FROM items ORDER BY embedding <-> %s LIMIT 10;\n' "$V" |
  "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -qAt -p $C -d postgres | wc -l)
echo "plain SET hnsw.ef_search = 1: $plain rows (SET LOCAL: $few)"
# A lasting value: ALTER ROLE ... SET, which Citus propagates to the workers (new connections).
qc "ALTER ROLE $PGUSER SET hnsw.ef_search = 1"
role=$(qc "SELECT id FROM items ORDER BY embedding <-> $V LIMIT 10" | wc -l)
qc "ALTER ROLE $PGUSER RESET hnsw.ef_search"
[ "$role" -le 8 ] || fail "ALTER ROLE ... SET hnsw.ef_search did not reach the shards ($role rows)"
# Filtered: the answer equals the exact filtered one.
fexact=$(knn "" "WHERE cat = 2 ORDER BY (embedding <-> $V) + 0, id")
[ "$(knn "SET LOCAL hnsw.ef_search = 400; SET LOCAL hnsw.iterative_scan = strict_order;" "WHERE cat = 2 ORDER BY embedding <-> $V")" = "$fexact" ] ||
  fail "filtered hnsw query differs from the exact answer"
# hnsw_verify runs where the index has rows: on each shard's index.
[ "$(shards "SELECT hnsw_verify(indexrelid) IS NOT NULL FROM pg_index WHERE indrelid = '%s'::regclass AND indexrelid::regclass::text LIKE 'items_hnsw%%'")" = t ] ||
  fail "hnsw_verify on the shards"
# On the coordinator the index is the empty shell of the distributed table's: verify says so, not an error.
echo "hnsw_verify on the coordinator: $(qc "SELECT hnsw_verify('items_hnsw')")"
qc "REINDEX INDEX items_hnsw"
[ "$(knn "SET LOCAL hnsw.ef_search = 400;" "ORDER BY embedding <-> $V")" = "$exact" ] || fail "after REINDEX"
qc "DROP INDEX items_hnsw"
[ "$(shards "SELECT count(*) FROM pg_indexes WHERE tablename = '%s' AND indexdef LIKE '%%USING hnsw%%'")" = 0 ] ||
  fail "DROP INDEX left an index on a shard"

echo "-- ivfflat on every shard; probes reach the shards"
qc "CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_l2_ops) WITH (lists = 20)"
[ "$(shards "SELECT count(*) FROM ivfflat_info((SELECT indexrelid FROM pg_index WHERE indrelid = '%s'::regclass AND indexrelid::regclass::text LIKE 'items_ivf%%'))")" = 20 ] ||
  fail "ivfflat_info on the shards"
[ "$(knn "SET LOCAL ivfflat.probes = 20;" "ORDER BY embedding <-> $V")" = "$exact" ] ||
  fail "ivfflat with probes = lists is not the exact answer"
low=$(knn "SET LOCAL ivfflat.probes = 1;" "ORDER BY embedding <-> $V")
hits=$(comm -12 <(tr ' ' '\n' <<<"$low" | sort) <(tr ' ' '\n' <<<"$exact" | sort) | grep -c .)
[ "$hits" -lt 10 ] || fail "SET LOCAL ivfflat.probes = 1 did not reach the shards (recall still 10/10)"
echo "ivfflat recall@10: probes 1 $hits/10, probes 20 10/10"
qc "DROP INDEX items_ivf"
qc "CREATE INDEX items_hnsw ON items USING hnsw (embedding vector_l2_ops) WITH (m = 4, ef_construction = 16)"

echo "-- drop_model reaches the workers"
qc "SELECT load_model('toy2', '$work/models_toy.glove.txt', 'glove')" >/dev/null
[ "$(q 5587 "SELECT count(*) FROM embedding_models WHERE name = 'toy2'")" = 1 ] || fail "toy2 not on worker"
qc "SELECT drop_model('toy2')"
must_fail 5587 "SELECT embed('toy2', 'man')" 'model "toy2" does not exist' "toy2 still on a worker"
must_fail $C "SELECT drop_model('toy')" "other objects use it" "drop of a used model not refused"

echo "-- a worker restored from a base backup keeps its models"
backup=$(cluster_dir citus_w1_restored)
rm -rf "$backup"
as_owner "$PGBIN/pg_basebackup" -h "$PGHOST" -p 5586 -D "$backup" -X stream -c fast
as_owner "$PGBIN/pg_ctl" -D "$backup" -o "-p 5589" -l "$backup.log" -w start >/dev/null
[ "$(q 5589 "SELECT embed('toy', 'man woman king')")" = "$want" ] || fail "restored worker: embed"
as_owner "$PGBIN/pg_ctl" -D "$backup" -m immediate -w stop >/dev/null
rm -rf "$backup"

echo "-- rebalance onto a third worker"
qc "SELECT citus_add_node('$PGHOST', 5588)" >/dev/null
[ "$(q 5588 "SELECT count(*) FROM embedding_models WHERE name = 'toy'")" = 0 ] || fail "new worker has models already?"
[ "$(qc "SELECT embedding_sync_models()")" -ge 3 ] || fail "embedding_sync_models"
[ "$(q 5588 "SELECT embed('toy', 'man woman king')")" = "$want" ] || fail "third worker: embed"
before=$(knn "SET LOCAL hnsw.ef_search = 400;" "ORDER BY embedding <-> $V")
qc "SELECT citus_rebalance_start()" >/dev/null
qc "SELECT citus_rebalance_wait()" >/dev/null
moved=$(qc "SELECT count(*) FROM citus_shards WHERE table_name = 'items'::regclass AND nodeport = 5588")
[ "$moved" -gt 0 ] || fail "no shard moved to the third worker"
[ "$(shards "SELECT count(*) FROM pg_indexes WHERE tablename = '%s' AND indexdef LIKE '%%USING hnsw%%'")" = 1 ] ||
  fail "a moved shard lost its index"
[ "$(knn "SET LOCAL hnsw.ef_search = 400;" "ORDER BY embedding <-> $V")" = "$before" ] || fail "answer changed after the rebalance"
[ "$(qc "SELECT count(*) FROM items")" = 6000 ] || fail "rows lost in the rebalance"
# New rows (far from the query, so its answer stays) land on every worker, the third included.
qc "INSERT INTO items (id, cat, body, embedding) SELECT id + 10000, cat, body, array_fill(5, ARRAY[16])::vector FROM staging WHERE id <= 100"
[ "$(qc "SELECT count(*) FROM items WHERE e IS NULL")" = 0 ] || fail "generated column after the rebalance"
echo "$moved of 8 shards on the third worker"

echo "-- a worker stopped mid-query: an error, not a partial answer"
slow="SELECT count(*) FROM items WHERE pg_sleep(0.005)::text IS NOT NULL"
("$PGBIN/psql" -X -qAt -p $C -d postgres -c "$slow" >"$work/slow.out" 2>&1 && echo 0 >"$work/slow.rc" ||
  echo $? >"$work/slow.rc") &
sleep 1.5
as_owner "$PGBIN/pg_ctl" -D "$(cluster_dir citus_w2)" -m immediate -w stop >/dev/null
wait
[ "$(cat "$work/slow.rc")" != 0 ] || fail "query survived a stopped worker: $(cat "$work/slow.out")"
grep -qiE "connection|terminat|server closed" "$work/slow.out" || fail "unclear error: $(cat "$work/slow.out")"
echo "stopped worker: $(grep -m1 ERROR "$work/slow.out")"
start_cluster_dir "$(cluster_dir citus_w2)"
for _ in $(seq 1 50); do qc "SELECT count(*) FROM items" >/dev/null 2>&1 && break; sleep 0.2; done
[ "$(qc "SELECT count(*) FROM items")" = 6100 ] || fail "after the worker restarted"
[ "$(knn "SET LOCAL hnsw.ef_search = 400;" "ORDER BY embedding <-> $V")" = "$before" ] || fail "k-NN after the restart"
echo "citus: all checks passed"
