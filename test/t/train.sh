#!/usr/bin/env bash
# train_model() on a small corpus: related words of the corpus end up closer than unrelated ones
# (random vectors fail that), the model survives pg_dump/pg_restore, reaches a physical replica,
# exports in word2vec text format that load_model reads back, and a cancel mid-training (or a
# 100 MB row beyond maintenance_work_mem) leaves no model behind.
source "$(dirname "$0")/cluster.bash"
P=5575
S=5576
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster train_standby; stop_cluster train; rm -rf "$work"' EXIT
new_cluster train $P "maintenance_work_mem = 256MB"
q $P "CREATE EXTENSION embedding"
# Three topics; a row draws 12 words from one topic and a few shared function words.
q $P "CREATE TABLE corpus AS
  WITH topics(t, words) AS (VALUES
    (0, ARRAY['apple','banana','cherry','grape','mango','peach','plum','melon']),
    (1, ARRAY['engine','wheel','brake','clutch','piston','gear','axle','tyre']),
    (2, ARRAY['violin','cello','flute','oboe','trumpet','piano','harp','drum']))
  SELECT r, (SELECT string_agg(CASE WHEN random() < 0.2 THEN (ARRAY['the','and','of','a'])[1 + floor(random() * 4)::int]
                                    ELSE words[1 + floor(random() * 8)::int + 0 * g] END, ' ')
             FROM generate_series(1, 12 + 0 * r) g) AS body
  FROM generate_series(1, 3000) r JOIN topics ON topics.t = r % 3"
words=$(q $P "SELECT sum(array_length(regexp_split_to_array(body, ' '), 1)) FROM corpus")
echo "corpus: 3000 rows, $words words"

# Mean cosine similarity within a topic minus across topics; near 0 for random vectors.
margin_sql() {
  cat <<SQL
WITH w(word, t) AS (VALUES ('apple',0),('banana',0),('cherry',0),('grape',0),
                          ('engine',1),('wheel',1),('brake',1),('clutch',1),
                          ('violin',2),('cello',2),('flute',2),('oboe',2)),
     pairs AS (SELECT a.t = b.t AS same, 1 - (word_vector(a.word, '$1') <=> word_vector(b.word, '$1')) AS sim
               FROM w a JOIN w b ON a.word < b.word)
SELECT round((avg(sim) FILTER (WHERE same) - avg(sim) FILTER (WHERE NOT same))::numeric, 3) FROM pairs
SQL
}
for spec in "sg:skipgram:false" "cb:cbow:false" "ft:skipgram:true"; do
  IFS=: read -r name method subwords <<<"$spec"
  q $P "SELECT train_model('$name', 'SELECT body FROM corpus', '$method', dimensions => 32,
                           min_count => 2, epochs => 5, subwords => $subwords)" >/dev/null
  margin=$(q $P "$(margin_sql "$name")")
  echo "$name ($method, subwords $subwords): within-topic minus across-topic similarity $margin"
  awk -v m="$margin" 'BEGIN { exit !(m > 0.2) }' || fail "$name: related words are not closer ($margin)"
done
# The same check on random vectors of the same words fails (the margin is near zero).
q $P "CREATE FUNCTION rv(int) RETURNS vector LANGUAGE sql VOLATILE AS 'SELECT array_agg(random() - 0.5)::real[]::vector FROM generate_series(1, \$1)'"
random_margin=$(q $P "WITH w(word, t) AS (VALUES ('a',0),('b',0),('c',0),('d',0),('e',1),('f',1),('g',1),('h',1),('i',2),('j',2),('k',2),('l',2)),
  v AS (SELECT word, t, rv(32) AS v FROM w),
  pairs AS (SELECT a.t = b.t AS same, 1 - (a.v <=> b.v) AS sim FROM v a JOIN v b ON a.word < b.word)
  SELECT round((avg(sim) FILTER (WHERE same) - avg(sim) FILTER (WHERE NOT same))::numeric, 3) FROM pairs")
echo "random vectors: $random_margin"
awk -v m="$random_margin" 'BEGIN { exit !(m < 0.2) }' || echo "(random vectors happened to pass; the check is statistical)"
[ "$(q $P "SELECT word_vector('apples', 'ft') IS NOT NULL AND word_vector('apples', 'sg') IS NULL")" = t ] ||
  fail "the subword model does not answer an unseen word"
echo "ok: related words end up closer; the subword model answers unseen words"

# export_model in word2vec text format, read back by load_model, gives the same directions.
"$PGBIN/psql" -X -qAt -p $P -d postgres -c "SELECT export_model('sg')" | sed '/^$/d' >"$work/sg.vec"
chmod 644 "$work/sg.vec"
head -1 "$work/sg.vec" | grep -qx "[0-9]* 32" || fail "bad export header: $(head -1 "$work/sg.vec")"
q $P "SELECT load_model('sg_copy', '$work/sg.vec', 'word2vec')" >/dev/null
[ "$(q $P "SELECT max(word_vector(word, 'sg') <=> word_vector(word, 'sg_copy')) < 1e-6 FROM (VALUES ('apple'),('violin'),('the')) v(word)")" = t ] ||
  fail "exported vectors differ"
echo "ok: export_model round trip through load_model"

# pg_dump/pg_restore carries the trained models (the subword section too).
expected=$(q $P "SELECT word_vector('apple', 'sg')::text || word_vector('apples', 'ft')::text")
"$PGBIN/pg_dump" -p $P -Fc -d postgres -f "$work/dump"
q $P "CREATE DATABASE restored"
"$PGBIN/pg_restore" -p $P -d restored "$work/dump"
got=$("$PGBIN/psql" -X -qAt -p $P -d restored -c "SELECT word_vector('apple', 'sg')::text || word_vector('apples', 'ft')::text")
[ "$got" = "$expected" ] || fail "restored trained model differs"
echo "ok: pg_dump/pg_restore carries trained models"

# A physical replica serves a model trained after its base backup.
standby=$(cluster_dir train_standby)
rm -rf "$standby"
as_owner "$PGBIN/pg_basebackup" -h "$PGHOST" -p $P -U "$PGOWNER" -D "$standby" -R -X stream -c fast
sed -i "s/^port = $P/port = $S/" "$standby/postgresql.conf"
rm -rf "$standby/embedding_models"
start_cluster_dir "$standby"
q $P "SELECT train_model('late', 'SELECT body FROM corpus', dimensions => 16, epochs => 1, subwords => true)" >/dev/null
wait_for_replay $P $S
for expr in "word_vector('apple', 'late')" "word_vector('apples', 'late')" "word_vector('apple', 'ft')"; do
  [ "$(q $S "SELECT $expr::text")" = "$(q $P "SELECT $expr::text")" ] || fail "replica differs on $expr"
done
echo "ok: the replica serves trained models"

# A cancel mid-training stops it promptly and leaves no model.
q $P "CREATE TABLE big AS SELECT body FROM corpus, generate_series(1, 40)"
"$PGBIN/psql" -X -p $P -d postgres -c "SELECT train_model('cancelled', 'SELECT body FROM big', epochs => 200)" >"$work/out" 2>&1 &
job=$!
for _ in $(seq 1 200); do
  grep -q "train_model: epoch" "$work/out" && break
  sleep 0.1
done
grep -q "train_model: epoch" "$work/out" || { cat "$work/out"; fail "no progress NOTICE while training"; }
grep "train_model: epoch" "$work/out" | head -1
pid=$(q $P "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT train_model(''cancelled''%'")
cancelled=$(date +%s.%N)
q $P "SELECT pg_cancel_backend($pid)" >/dev/null
wait $job || true
elapsed=$(awk -v a="$cancelled" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
grep -q "canceling statement due to user request" "$work/out" || { cat "$work/out"; fail "training was not cancelled"; }
echo "training stopped ${elapsed}s after the cancel"
awk -v e="$elapsed" 'BEGIN { exit !(e < 2) }' || fail "training took ${elapsed}s to stop"
[ "$(q $P "SELECT count(*) FROM \"#embedding\".model_store WHERE name = 'cancelled'")" = 0 ] || fail "a cancelled training left a model"
echo "ok: a cancel stops training and leaves no model"

# A 100 MB row beyond maintenance_work_mem: a clear error, nothing stored, the server alive.
out=$("$PGBIN/psql" -X -p $P -d postgres -c "SET maintenance_work_mem = '64MB'" \
  -c "SELECT train_model('huge', \$\$SELECT repeat('alpha beta gamma delta ', 4500000)\$\$)" 2>&1) || true
echo "$out" | grep -q "does not fit in maintenance_work_mem" || fail "100 MB row: $out"
[ "$(q $P "SELECT count(*) FROM \"#embedding\".model_store WHERE name = 'huge'")" = 0 ] || fail "the 100 MB row left a model"
echo "ok: a 100 MB row beyond maintenance_work_mem: $(echo "$out" | grep ERROR)"
