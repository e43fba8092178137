#!/usr/bin/env bash
# load_model() for every file format, the name contract (a name always means the same vectors),
# corrupt files, and models travelling with the database: pg_dump/pg_restore and a physical
# replica both serve a loaded model.
source "$(dirname "$0")/cluster.bash"
P=5517
S=5518
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster models_standby; stop_cluster models; rm -rf "$work"' EXIT
cp "$ROOT"/test/data/models_toy.* "$work"/
chmod 644 "$work"/*
new_cluster models $P
q $P "CREATE EXTENSION embedding"
for spec in "toy_w2v:models_toy.w2v.txt:word2vec" "toy_w2v_bin:models_toy.w2v.bin:word2vec-binary" \
            "toy_glove:models_toy.glove.txt:glove" "toy_fasttext:models_toy.vec:fasttext"; do
  IFS=: read -r name file format <<<"$spec"
  words=$(q $P "SELECT load_model('$name', '$work/$file', '$format')")
  [ "$words" -gt 0 ] || fail "load_model $name returned $words"
  echo "loaded $name ($format): $words words"
done
# Every format gives the same vectors for the same words.
same=$(q $P "SELECT count(DISTINCT embed(m, 'man woman')::text) FROM unnest(ARRAY['toy_w2v','toy_w2v_bin','toy_glove','toy_fasttext']) m")
[ "$same" = 1 ] || fail "formats disagree ($same distinct vectors)"
[ "$(q $P "SELECT count(*) FROM embedding_models WHERE NOT is_default")" = 4 ] || fail "view does not list 4 models"
q $P "SELECT word FROM analogy('man', 'king', 'woman', 1, 'toy_glove')"
# Loading over a name is refused; after a drop, only the same vectors may reuse the name.
out=$("$PGBIN/psql" -X -p $P -d postgres -c "SELECT load_model('toy_glove', '$work/models_toy.glove.txt', 'glove')" 2>&1) || true
echo "$out" | grep -q 'model "toy_glove" already exists' || fail "reload not refused: $out"
q $P "SELECT drop_model('toy_w2v')"
out=$("$PGBIN/psql" -X -p $P -d postgres -c "SELECT embed('toy_w2v', 'man')" 2>&1) || true
echo "$out" | grep -q 'model "toy_w2v" does not exist' || fail "dropped model still served: $out"
sed 's/^man 0.1 -1.0/man 0.2 -1.0/' "$work/models_toy.glove.txt" >"$work/changed.txt"
out=$("$PGBIN/psql" -X -p $P -d postgres -c "SELECT load_model('toy_w2v', '$work/changed.txt', 'glove')" 2>&1) || true
echo "$out" | grep -q 'was used before for different vectors' || fail "name reused for other vectors: $out"
q $P "SELECT load_model('toy_w2v', '$work/models_toy.w2v.txt', 'word2vec')" >/dev/null
# Corrupt and truncated files are clean errors.
head -c 50 "$work/models_toy.w2v.bin" >"$work/truncated.bin"
printf 'not a vector file\x00\x01' >"$work/garbage.txt"
for bad in "truncated.bin:word2vec-binary" "garbage.txt:word2vec" "garbage.txt:glove"; do
  IFS=: read -r file format <<<"$bad"
  out=$("$PGBIN/psql" -X -p $P -d postgres -c "SELECT load_model('bad', '$work/$file', '$format')" 2>&1) || true
  echo "$out" | grep -q "^ERROR:" || fail "corrupt $file accepted: $out"
  echo "corrupt $file ($format): $(echo "$out" | grep ERROR)"
done
[ "$(q $P "SELECT 1")" = 1 ] || fail "server not alive"
expected=$(q $P "SELECT embed('toy_glove', 'king queen')::text")

# pg_dump/pg_restore carries the loaded models.
"$PGBIN/pg_dump" -p $P -Fc -d postgres -f "$work/dump"
q $P "CREATE DATABASE restored"
"$PGBIN/pg_restore" -p $P -d restored "$work/dump"
got=$("$PGBIN/psql" -X -qAt -p $P -d restored -c "SELECT embed('toy_glove', 'king queen')::text")
[ "$got" = "$expected" ] || fail "restored model differs: $got vs $expected"
echo "ok: pg_dump/pg_restore carries models ($(q $P "SELECT count(*) FROM embedding_models WHERE NOT is_default") loaded)"

# A physical replica serves the model (materialising its own cache file).
standby=$(cluster_dir models_standby)
rm -rf "$standby"
as_owner "$PGBIN/pg_basebackup" -h "$PGHOST" -p $P -U "$PGOWNER" -D "$standby" -R -X stream -c fast
sed -i "s/^port = $P/port = $S/" "$standby/postgresql.conf"
rm -rf "$standby/embedding_models"
start_cluster_dir "$standby"
q $P "SELECT load_model('late', '$work/models_toy.vec', 'fasttext')" >/dev/null
wait_for_replay $P $S
[ "$(q $S "SELECT embed('toy_glove', 'king queen')::text")" = "$expected" ] || fail "replica serves other vectors"
[ "$(q $S "SELECT embed('late', 'man')::text")" = "$(q $P "SELECT embed('late', 'man')::text")" ] || fail "replica misses a model loaded after the base backup"
echo "ok: the replica serves loaded models"
