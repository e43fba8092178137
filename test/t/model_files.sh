#!/usr/bin/env bash
# load_model() while someone else changes the source file: a word2vec text file and a sentence-transformers
# model.safetensors (tens of MB each) are truncated and overwritten in the background during the load, with
# several delays. The server must not restart (a mapped file that shrinks kills the backend with SIGBUS and the
# postmaster restarts every session); each call either loads the same model as an untouched copy or fails with
# a clear error.
source "$(dirname "$0")/cluster.bash"
P=5551
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster model_files; rm -rf "$work"' EXIT
new_cluster model_files $P
log_file=$(cluster_dir model_files).log
log_start=$(($(stat -c %s "$log_file") + 1))  # pg_ctl appends: this run's lines start here
q $P "CREATE EXTENSION embedding"
started=$(q $P "SELECT pg_postmaster_start_time()")

# 60,000 words x 100 dimensions of word2vec text (about 60 MB), and a BERT of about 45 MB of float32 weights.
/usr/bin/python3 - "$work/big.w2v.txt" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(1)
words, dims = 60000, 100
v = rng.normal(0, 1, (words, dims)).astype(np.float32)
with open(sys.argv[1], "w") as f:
    f.write(f"{words} {dims}\n")
    for i in range(words):
        f.write(f"w{i} " + " ".join(f"{x:.6f}" for x in v[i]) + "\n")
PY
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$ROOT/test/models/make_st_model.py" "$work/st" --hidden 256 --layers 4 \
  --heads 4 --intermediate 1024 --vocab 30000 --max-position 128 --seed 3 >/dev/null
cp -r "$work/st" "$work/st_ref"
cp "$work/big.w2v.txt" "$work/ref.w2v.txt"
chmod -R a+rX "$work"
q $P "SELECT load_model('ref_words', '$work/ref.w2v.txt', 'word2vec')" >/dev/null
q $P "SELECT load_model('ref_st', '$work/st_ref', 'sentence-transformers')" >/dev/null
echo "sources: $(du -h "$work/big.w2v.txt" | cut -f1) word2vec text, $(du -h "$work/st/model.safetensors" | cut -f1) model.safetensors"

# change FILE ORIGINAL DELAY: after DELAY seconds, truncate FILE to 1000 bytes, then alternately restore it with cp
# (which truncates and rewrites it in place) and truncate it again, until killed.
change() {
  sleep "$3"
  while :; do
    truncate -s 1000 "$1"
    sleep 0.05
    cp "$2" "$1"
  done
}

# attempt NAME SOURCE FILE ORIGINAL FORMAT REFERENCE CHECK_SQL DELAY
attempt() {
  local name=$1 source=$2 file=$3 original=$4 format=$5 reference=$6 check=$7 delay=$8 out pid
  change "$file" "$original" "$delay" &
  pid=$!
  out=$("$PGBIN/psql" -X -qAt -p $P -d postgres -c "SELECT load_model('$name', '$source', '$format')" 2>&1) || true
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  cp "$original" "$file"
  [ "$(q $P "SELECT pg_postmaster_start_time()")" = "$started" ] || fail "$name (delay $delay): the server restarted: $out"
  if echo "$out" | grep -q "^ERROR:"; then
    echo "$out" | grep -Eqi "changed while|truncated|corrupt|invalid|lacks|not valid|missing|could not" ||
      fail "$name (delay $delay): unclear error: $out"
    echo "  delay $delay: refused: $(echo "$out" | head -1)"
  else
    [ "$(q $P "$(printf "$check" "$name" "$reference")")" = t ] || fail "$name (delay $delay): loaded other vectors"
    echo "  delay $delay: loaded, same vectors as the untouched copy"
    q $P "SELECT drop_model('$name')" >/dev/null
  fi
}

words_check="SELECT embed('%s', 'w1 w17 w59999')::text = embed('%s', 'w1 w17 w59999')::text"
st_check="SELECT embed('%s', 'the quick brown fox')::text = embed('%s', 'the quick brown fox')::text"
i=0
echo "word2vec text changed during load_model:"
for delay in 0 0.1 0.3 0.6 1.0; do
  i=$((i + 1))
  attempt "words_$i" "$work/big.w2v.txt" "$work/big.w2v.txt" "$work/ref.w2v.txt" word2vec ref_words "$words_check" $delay
done
echo "model.safetensors changed during load_model:"
for delay in 0 0.05 0.2 0.4 0.8; do
  i=$((i + 1))
  attempt "st_$i" "$work/st" "$work/st/model.safetensors" "$work/st_ref/model.safetensors" sentence-transformers \
    ref_st "$st_check" $delay
done
# The default model ships in the share directory, which a package upgrade rewrites: backends map
# their own copy under $PGDATA/embedding_models, never the shipped file.
maps=$(q $P "SELECT embed('hello world') IS NOT NULL; SELECT pg_read_file('/proc/self/maps')")
echo "$maps" | grep -q "/extension/embedding/" && fail "a backend maps the shipped default model file"
echo "$maps" | grep -q "embedding_models/default/" || fail "the default model is not served from the cache"
echo "ok: the default model is served from a copy in the cache, not the shipped file"
died=$(tail -c +$log_start "$log_file" | grep "terminated by signal") || true
[ -z "$died" ] || fail "a backend died: $died"
echo "ok: no backend died while the source files changed under load_model"
