#!/usr/bin/env bash
# sentence-transformers models: random BERT variants loaded with load_model(..., 'sentence-transformers'), embed()
# against the numpy reference (test/models/check_st_models.py, st_reference.py), and broken models refused; then
# one model through pg_dump/pg_restore and a physical replica, in a generated column and an expression index,
# refused to a plain role, a cancel of a long batch, and a very long text.
source "$(dirname "$0")/cluster.bash"
P=5531
S=5532
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster transformer_standby; stop_cluster transformer_models; rm -rf "$work"' EXIT
new_cluster transformer_models $P
q $P "CREATE EXTENSION embedding"
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$ROOT/test/models/check_st_models.py" --host "$PGHOST" --port $P \
  --dbname postgres --workdir "$work" || fail "check_st_models.py"
[ "$(q $P "SELECT 1")" = 1 ] || fail "server not alive"

# One more model for the checks below: 4 layers, hidden 64, 512 positions.
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$ROOT/test/models/make_st_model.py" "$work/enc" --hidden 64 \
  --layers 4 --heads 4 --intermediate 128 --vocab 2000 --max-position 512 --max-seq-length 512 --seed 7 >/dev/null
chmod -R a+rX "$work/enc"
q $P "SELECT load_model('enc', '$work/enc', 'sentence-transformers')" >/dev/null
sentence="The quick brown fox jumps over the lazy dog."
expected=$(q $P "SELECT embed('enc', '$sentence')::text")

# Generated column and expression index (embed() is IMMUTABLE: a model name always means the same weights).
q $P "CREATE TABLE docs (id int, body text, v vector(64) GENERATED ALWAYS AS (embed('enc', body)) STORED)"
q $P "INSERT INTO docs (id, body) SELECT i, 'document number ' || i FROM generate_series(1, 200) i"
q $P "INSERT INTO docs (id, body) VALUES (0, '$sentence')"
q $P "CREATE INDEX ON docs USING hnsw (v vector_cosine_ops)"
q $P "CREATE INDEX docs_expr ON docs USING hnsw ((embed('enc', body)::vector(64)) vector_cosine_ops)"
[ "$(q $P "SELECT v::text FROM docs WHERE id = 0")" = "$expected" ] || fail "generated column differs from embed()"
top=$(q $P "SET enable_seqscan = off; SELECT id FROM docs ORDER BY embed('enc', body)::vector(64) <=> embed('enc', '$sentence') LIMIT 1")
[ "$top" = 0 ] || fail "expression index search found $top, not the same text"
plan=$(q $P "SET enable_seqscan = off; EXPLAIN SELECT id FROM docs ORDER BY embed('enc', body)::vector(64) <=> embed('enc', 'x') LIMIT 1")
echo "$plan" | grep -q docs_expr || fail "the expression index is not used: $plan"
echo "ok: generated column and expression index"

# A plain role may embed but not load or drop models.
q $P "CREATE ROLE plain LOGIN"
[ "$("$PGBIN/psql" -X -qAt -p $P -U plain -d postgres -c "SELECT embed('enc', '$sentence')::text")" = "$expected" ] ||
  fail "plain role gets other vectors"
out=$("$PGBIN/psql" -X -p $P -U plain -d postgres -c "SELECT load_model('x', '$work/enc', 'sentence-transformers')" 2>&1) || true
echo "$out" | grep -q "permission denied to load a model" || fail "plain role loaded a model: $out"
echo "ok: a plain role embeds, cannot load"

# A cancel (statement_timeout) stops a long batch within 100 ms of the timeout.
start=$(date +%s%N)
out=$("$PGBIN/psql" -X -p $P -d postgres -c "SET statement_timeout = '500ms'" \
  -c "SELECT cardinality(embed('enc', array_agg(repeat('word piece ', 60) || i))) FROM generate_series(1, 20000) i" 2>&1) || true
elapsed=$((($(date +%s%N) - start) / 1000000))
echo "$out" | grep -q "canceling statement due to statement timeout" || fail "batch not cancelled: $out"
[ "$elapsed" -lt 1000 ] || fail "cancel took $elapsed ms (timeout 500 ms)"
echo "ok: a 20,000-text batch stops at statement_timeout 500 ms ($elapsed ms including connection start)"

# A 50 MB text costs no more than max_seq_length tokens: truncated as sentence-transformers does.
long=$(q $P "SELECT embed('enc', repeat('$sentence ', 1200000))::text = embed('enc', repeat('$sentence ', 60))::text")
[ "$long" = t ] || fail "a long text is not truncated to max_seq_length"
echo "ok: a 53 MB text embeds as its first 510 pieces"

# pg_dump/pg_restore carries the model (the store's guard checks the restored row against its data).
"$PGBIN/pg_dump" -p $P -Fc -d postgres -f "$work/dump"
q $P "CREATE DATABASE restored"
"$PGBIN/pg_restore" -p $P -d restored "$work/dump"
got=$("$PGBIN/psql" -X -qAt -p $P -d restored -c "SELECT embed('enc', '$sentence')::text")
[ "$got" = "$expected" ] || fail "restored model differs"
[ "$("$PGBIN/psql" -X -qAt -p $P -d restored -c "SELECT kind || ' ' || max_seq_length FROM embedding_models WHERE name = 'enc'")" = "sentence-transformers 512" ] ||
  fail "restored view row differs"
echo "ok: pg_dump/pg_restore carries the encoder"

# A physical replica serves it from its own cache file.
standby=$(cluster_dir transformer_standby)
rm -rf "$standby"
as_owner "$PGBIN/pg_basebackup" -h "$PGHOST" -p $P -U "$PGOWNER" -D "$standby" -R -X stream -c fast
sed -i "s/^port = $P/port = $S/" "$standby/postgresql.conf"
rm -rf "$standby/embedding_models"
start_cluster_dir "$standby"
wait_for_replay $P $S
[ "$(q $S "SELECT embed('enc', '$sentence')::text")" = "$expected" ] || fail "replica serves other vectors"
echo "ok: the replica serves the encoder"
