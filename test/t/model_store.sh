#!/usr/bin/env bash
# The model store as an attacker and an operator meet it: nobody changes it except through
# load_model()/drop_model() (plain roles, pg_read_server_files members, even superusers), cache
# files are named by the server's SHA-256 and never followed, trusted or written outside
# $PGDATA/embedding_models, planted files are replaced, FIFOs never hang, statement_timeout
# stops long calls, formats and case follow the file, drop_model refuses models that tables use,
# and a dump restores every row of tables whose generated columns call embed() on a loaded model
# (in a schema sorting before "#embedding", with the README's store-first restore).
source "$(dirname "$0")/cluster.bash"
P=5521
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster model_store; rm -rf "$work" /tmp/emb_pwned' EXIT
cp "$ROOT"/test/data/models_toy.* "$work"/
chmod 644 "$work"/*
new_cluster model_store $P
data_dir=$(cluster_dir model_store)
psql_p() { "$PGBIN/psql" -X -qAt -p $P "$@"; }
# err DB ROLE SQL: runs SQL as ROLE (NONE: the cluster owner) and prints its error, or "OK".
err() {
  local db=$1 role=$2 sql=$3 out
  [ "$role" = NONE ] || sql="SET ROLE $role; $sql"
  out=$(psql_p -d "$db" -v ON_ERROR_STOP=1 -c "$sql" 2>&1) && echo OK || echo "$out" | grep -m1 ERROR
}
expect_error() {  # expect_error WHAT PATTERN OUTPUT
  echo "$3" | grep -q -- "$2" || fail "$1: expected /$2/, got: $3"
  echo "ok: $1 -> $3"
}

q $P "CREATE EXTENSION embedding"
q $P "CREATE ROLE eve LOGIN; CREATE ROLE reader LOGIN; GRANT pg_read_server_files TO reader"
q $P "SELECT load_model('m', '$work/models_toy.glove.txt', 'glove')" >/dev/null
expected=$(q $P "SELECT embed('m', 'king queen')::text")
hash=$(q $P "SELECT checksum FROM \"#embedding\".model_store WHERE name = 'm'")
[ "$hash" = "$(q $P "SELECT encode(sha256(data), 'hex') FROM \"#embedding\".model_store WHERE name = 'm'")" ] ||
  fail "the stored hash is not the SHA-256 of the model's bytes"
dboid=$(q $P "SELECT oid FROM pg_database WHERE datname = 'postgres'")
cache=$data_dir/embedding_models/$dboid
[ -f "$cache/$hash.emb" ] || fail "no cache file $cache/$hash.emb"
echo "ok: cache file named by the SHA-256 of the model"

# 1. Direct changes to the store, by every kind of role.
for role in eve reader; do
  for sql in "UPDATE \"#embedding\".model_store SET checksum = '../../../../tmp/emb_pwned/x'" \
             "UPDATE \"#embedding\".model_store SET dropped = true" \
             "DELETE FROM \"#embedding\".model_store" \
             "TRUNCATE \"#embedding\".model_store" \
             "INSERT INTO \"#embedding\".model_store SELECT 'n', source, format, dims, vocab_size, checksum, false, data FROM \"#embedding\".model_store"; do
    expect_error "$role: ${sql:0:50}" "permission denied" "$(err postgres $role "$sql")"
  done
done
for sql in "UPDATE \"#embedding\".model_store SET checksum = '../../../../tmp/emb_pwned/x'" \
           "UPDATE \"#embedding\".model_store SET data = data || '\\x00'::bytea" \
           "SET session_replication_role = replica; UPDATE \"#embedding\".model_store SET dims = 5" \
           "DELETE FROM \"#embedding\".model_store" \
           "SET session_replication_role = replica; DELETE FROM \"#embedding\".model_store" \
           "TRUNCATE \"#embedding\".model_store"; do
  expect_error "superuser: ${sql:0:60}" "is not allowed" "$(err postgres NONE "$sql")"
done
expect_error "superuser INSERT with a traversal hash" "does not match its hash" \
  "$(err postgres NONE "INSERT INTO \"#embedding\".model_store SELECT 'n', source, format, dims, vocab_size, '../../../../tmp/emb_pwned/x', false, data FROM \"#embedding\".model_store")"
expect_error "superuser INSERT of other bytes under a hash" "does not match its hash" \
  "$(err postgres NONE "INSERT INTO \"#embedding\".model_store SELECT 'n', source, format, dims, vocab_size, checksum, false, data || '\\x00'::bytea FROM \"#embedding\".model_store")"
expect_error "superuser INSERT of a forged model" "corrupt model file" \
  "$(err postgres NONE "INSERT INTO \"#embedding\".model_store SELECT 'n', source, format, dims, vocab_size, encode(sha256(overlay(data placing '\\xff'::bytea from 700)), 'hex'), false, overlay(data placing '\\xff'::bytea from 700) FROM \"#embedding\".model_store")"
[ "$(q $P "SELECT embed('m', 'king queen')::text")" = "$expected" ] || fail "embed('m') changed"
[ ! -e /tmp/emb_pwned ] || fail "a file was created outside the cache directory"
# The revived or replaced name contract holds through the functions too.
q $P "SELECT drop_model('m')"
[ ! -e "$cache/$hash.emb" ] || fail "drop_model left the cache file"
expect_error "dropped model" "does not exist" "$(err postgres NONE "SELECT embed('m', 'king')")"
sed 's/^man 0.1 -1.0/man 0.2 -1.0/' "$work/models_toy.glove.txt" >"$work/changed.txt"
chmod 644 "$work/changed.txt"
expect_error "name reused for other vectors" "was used before for different vectors" \
  "$(err postgres NONE "SELECT load_model('m', '$work/changed.txt', 'glove')")"
q $P "SELECT load_model('m', '$work/models_toy.glove.txt', 'glove')" >/dev/null
[ "$(q $P "SELECT embed('m', 'king queen')::text")" = "$expected" ] || fail "reloaded model differs"
# A pg_read_server_files member loads and drops through the functions.
[ "$(err postgres reader "SELECT load_model('by_reader', '$work/models_toy.vec', 'fasttext')")" = OK ] ||
  fail "pg_read_server_files member cannot load"
[ "$(err postgres reader "SELECT drop_model('by_reader')")" = OK ] || fail "member cannot drop"
expect_error "plain role load_model" "permission denied" \
  "$(err postgres eve "SELECT load_model('x', '$work/models_toy.vec', 'fasttext')")"
echo "ok: only load_model()/drop_model() change the store"

# 2. Planted cache files: garbage, a FIFO, a link to another model; each is replaced.
q $P "SELECT load_model('other', '$work/changed.txt', 'glove')" >/dev/null
q $P "SELECT embed('m', 'king')" >/dev/null
other_hash=$(q $P "SELECT checksum FROM \"#embedding\".model_store WHERE name = 'other'")
q $P "SELECT embed('other', 'king')" >/dev/null
for plant in garbage fifo symlink; do
  as_owner rm -f "$cache/$hash.emb"
  case $plant in
    garbage) as_owner sh -c "head -c 4096 /dev/urandom > '$cache/$hash.emb'" ;;
    fifo) as_owner mkfifo "$cache/$hash.emb" ;;
    symlink) cp "$cache/$other_hash.emb" "$work/evil.emb"; chmod 644 "$work/evil.emb"; as_owner ln -s "$work/evil.emb" "$cache/$hash.emb" ;;
  esac
  got=$(timeout 20 "$PGBIN/psql" -X -qAt -p $P -d postgres -c "SELECT embed('m', 'king queen')::text") ||
    fail "embed() with a planted $plant failed or hung"
  [ "$got" = "$expected" ] || fail "a planted $plant was served: $got"
  [ -f "$cache/$hash.emb" ] && [ ! -L "$cache/$hash.emb" ] || fail "planted $plant not replaced"
  echo "ok: planted $plant replaced by the model's own bytes"
done
# A load rolled back after use leaves no cache file.
before=$(ls "$cache" | wc -l)
q $P "BEGIN; SELECT load_model('rolled_back', '$work/models_toy.w2v.txt', 'word2vec'); SELECT embed('rolled_back', 'king'); ROLLBACK" >/dev/null
[ "$(ls "$cache" | wc -l)" = "$before" ] || fail "a rolled-back load left a cache file: $(ls "$cache")"
echo "ok: no cache file outlives a rolled-back load"
[ -z "$(find "$data_dir/embedding_models" -name '*.tmp.*')" ] || fail "temporary files left"

# 3. FIFOs and long calls: statement_timeout = 1s stops each within 2 s.
mkfifo "$work/fifo"
chmod 666 "$work/fifo"
timed() {  # timed SQL: prints the error and the milliseconds taken
  local start end out
  start=$(date +%s%N)
  out=$(timeout 60 "$PGBIN/psql" -X -qAt -p $P -d postgres -c "SET statement_timeout = '1s'" -c "$1" 2>&1 >/dev/null)
  end=$(date +%s%N)
  echo "$(echo "$out" | grep -m1 ERROR) ($(((end - start) / 1000000)) ms)"
}
within2s() {  # within2s WHAT PATTERN RESULT
  local ms
  ms=$(echo "$3" | sed -E 's/.*\(([0-9]+) ms\)$/\1/')
  echo "$3" | grep -q -- "$2" || fail "$1: expected /$2/, got: $3"
  [ "$ms" -lt 2000 ] || fail "$1 took $ms ms"
  echo "ok: $1 -> $3"
}
within2s "load_model on a FIFO" "not a regular file" "$(timed "SELECT load_model('f', '$work/fifo', 'glove')")"
perl -e 'srand(1); for my $w (1..120000) { print "w$w"; printf(" %.6f", rand() - 0.5) for 1..100; print "\n" }' >"$work/big.txt"
chmod 644 "$work/big.txt"
echo "big.txt: $(du -m "$work/big.txt" | cut -f1) MB"
within2s "load_model of a large file" "statement timeout" "$(timed "SELECT load_model('big', '$work/big.txt', 'glove')")"
within2s "embed() of 240 MB of text" "statement timeout" "$(timed "SELECT embed('m', repeat('king queen ', 22000000)) IS NULL")"
[ "$(q $P "SELECT count(*) FROM embedding_models WHERE name = 'big'")" = 0 ] || fail "cancelled load stored"

# 4. Formats follow their header lines; case follows the vocabulary.
expect_error "fastText file given as glove" "'fasttext'" \
  "$(psql_p -d postgres -c "SELECT load_model('x', '$work/models_toy.vec', 'glove')" 2>&1 | grep -A1 ERROR | tr '\n' ' ')"
expect_error "format wink" "unknown model format" "$(err postgres NONE "SELECT load_model('x', '$work/models_toy.vec', 'wink')")"
printf 'the 0.1 0.1 0.1\nworld 1 0 0\nWORLD 0 1 0\nhello 0 0 1\n' >"$work/cased.txt"
chmod 644 "$work/cased.txt"
q $P "SELECT load_model('cased', '$work/cased.txt', 'glove')" >/dev/null
[ "$(q $P "SELECT embed('cased', 'WORLD') = embed('cased', 'world')")" = f ] || fail "WORLD and world embed alike"
[ "$(q $P "SELECT embed('cased', 'Hello') = embed('cased', 'hello')")" = t ] || fail "Hello does not fall back to hello"
echo "ok: a case-sensitive vocabulary is looked up exactly first"

# 5. Dump and restore: generated columns on a loaded model, tables sorting before and after the
# store, in public and in other schemas.
q $P "CREATE SCHEMA app; CREATE SCHEMA \"Analytics\""
for t in public.aaa public.zzz public.\"AAA\" app.docs \"Analytics\".docs; do
  q $P "CREATE TABLE $t (id int PRIMARY KEY, body text, e vector(4) GENERATED ALWAYS AS (embed('m', body)) STORED,
        CHECK (embed('cased', 'world') IS NOT NULL))"
  q $P "INSERT INTO $t (id, body) SELECT i, (ARRAY['king', 'queen', 'man woman', 'blue cat'])[i % 4 + 1] FROM generate_series(1, 50) i"
done
q $P "CREATE INDEX ON public.zzz ((embed('m', body)))"
# Dropping a model these tables use is refused: every later INSERT would fail, and so would the
# restore of a dump made after it (the table's COPY, leaving it empty).
for model in m cased; do
  expect_error "drop_model('$model') while tables use it" "because other objects use it" \
    "$(err postgres NONE "SELECT drop_model('$model')")"
done
fingerprint() {
  psql_p -d "$1" -c "SELECT string_agg(t || ':' || n || ':' || h, ' ' ORDER BY t) FROM (
    SELECT 'aaa' t, count(*) n, md5(string_agg(e::text, ',' ORDER BY id)) h FROM public.aaa UNION ALL
    SELECT 'zzz', count(*), md5(string_agg(e::text, ',' ORDER BY id)) FROM public.zzz UNION ALL
    SELECT 'AAA', count(*), md5(string_agg(e::text, ',' ORDER BY id)) FROM public.\"AAA\" UNION ALL
    SELECT 'app', count(*), md5(string_agg(e::text, ',' ORDER BY id)) FROM app.docs UNION ALL
    SELECT 'An', count(*), md5(string_agg(e::text, ',' ORDER BY id)) FROM \"Analytics\".docs) s"
}
source_print=$(fingerprint postgres)
"$PGBIN/pg_dump" -p $P -Fc -d postgres -f "$work/dump.custom"
"$PGBIN/pg_dump" -p $P -Fp -d postgres -f "$work/dump.sql"
q $P "CREATE DATABASE restored_custom"; q $P "CREATE DATABASE restored_plain"
"$PGBIN/pg_restore" -p $P -e -d restored_custom "$work/dump.custom" || fail "pg_restore reported errors"
psql_p -v ON_ERROR_STOP=1 -d restored_plain -f "$work/dump.sql" >/dev/null || fail "plain restore failed"
for db in restored_custom restored_plain; do
  got=$(fingerprint $db)
  [ "$got" = "$source_print" ] || fail "$db differs: $got vs $source_print"
done
echo "ok: restores keep every row: $source_print"

# 6. Schemas whose names sort before "#embedding" (here "!early"): pg_dump orders table data by
# schema and table name, and no dependency puts the models' rows first, so a one-step restore runs
# the COPY of "!early".docs before the store has its models and loses its rows (a known limitation,
# README). The documented two-step restore, with the store's data moved first, keeps every row.
q $P "CREATE DATABASE early_src"
psql_p -v ON_ERROR_STOP=1 -d early_src >/dev/null <<SQL
CREATE EXTENSION embedding;
SELECT load_model('m', '$work/models_toy.glove.txt', 'glove');
CREATE SCHEMA "!early";
CREATE TABLE "!early".docs (id int PRIMARY KEY, body text,
                            e vector(4) GENERATED ALWAYS AS (embed('m', body)) STORED);
INSERT INTO "!early".docs (id, body) SELECT i, (ARRAY['king', 'queen', 'man woman'])[i % 3 + 1]
  FROM generate_series(1, 30) i;
SQL
early_print() { psql_p -d "$1" -c "SELECT count(*) || ':' || coalesce(md5(string_agg(e::text, ',' ORDER BY id)), '-') FROM \"!early\".docs"; }
early_source=$(early_print early_src)
"$PGBIN/pg_dump" -p $P -Fc -d early_src -f "$work/early.custom"
q $P "CREATE DATABASE early_one_step"
"$PGBIN/pg_restore" -p $P -d early_one_step "$work/early.custom" 2>/dev/null &&
  echo "note: the one-step restore of \"!early\" now succeeds: update README" ||
  echo "known limitation: a one-step restore of \"!early\" keeps $(early_print early_one_step | cut -d: -f1) of 30 rows"
# Its data alone, restored again after the failed COPY (the README's other way).
"$PGBIN/pg_restore" -p $P -e -d early_one_step --data-only -n '!early' -t docs "$work/early.custom" ||
  fail "restoring the data of \"!early\".docs again failed"
[ "$(early_print early_one_step)" = "$early_source" ] ||
  fail "restoring the table's data again lost rows: $(early_print early_one_step) vs $early_source"
echo "ok: the failed table's data restored again keeps every row"
q $P "CREATE DATABASE early_two_steps"
"$PGBIN/pg_restore" -l "$work/early.custom" >"$work/all.list"
{ grep 'TABLE DATA #embedding model_store ' "$work/all.list"
  grep -v 'TABLE DATA #embedding model_store ' "$work/all.list"; } >"$work/ordered.list"
"$PGBIN/pg_restore" -p $P -e -d early_two_steps --section=pre-data "$work/early.custom" ||
  fail "pre-data restore failed"
"$PGBIN/pg_restore" -p $P -e -d early_two_steps --section=data --section=post-data \
  -L "$work/ordered.list" "$work/early.custom" || fail "the store-first data restore failed"
[ "$(early_print early_two_steps)" = "$early_source" ] ||
  fail "the README's store-first restore lost rows: $(early_print early_two_steps) vs $early_source"
echo "ok: the store-first restore (README) keeps every row of \"!early\".docs: $early_source"
