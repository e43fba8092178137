#!/usr/bin/env bash
# embed() on hostile inputs: a 100 MB word (or run of '!') under a sentence-transformers model and the default
# model stops at statement_timeout (or ends before it) and keeps the backend's peak memory near the text's size;
# a 16 MB tokenizer.json (a huge vocabulary and long strings) loads with bounded memory, within statement_timeout,
# and leaves no memory behind in the idle backend. Bounds are generous: before the fix a cancel took 23-80 s and
# the peak was 17x the text.
source "$(dirname "$0")/cluster.bash"
P=5541
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster embed_limits; rm -rf "$work"' EXIT
new_cluster embed_limits $P
q $P "CREATE EXTENSION embedding"
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$ROOT/test/models/make_st_model.py" "$work/enc" --hidden 32 \
  --layers 2 --heads 4 --intermediate 64 --vocab 1000 --max-position 128 --seed 3 >/dev/null
chmod -R a+rX "$work/enc"
q $P "SELECT load_model('enc', '$work/enc', 'sentence-transformers')" >/dev/null

# STATUS_SQL 'FIELD:%': that field of the session backend's /proc/self/status, in kB.
STATUS_SQL="SELECT regexp_replace(line, '\\D', '', 'g') FROM regexp_split_to_table(pg_read_file('/proc/self/status'), E'\\n') line WHERE line LIKE"

# run_limited TIMEOUT SQL: runs SQL in a fresh session under statement_timeout; sets $elapsed (ms), $state (the
# SQLSTATE, or 00000) and $hwm (the backend's peak resident memory after the statement, kB).
run_limited() {
  local start out
  start=$(date +%s%N)
  out=$("$PGBIN/psql" -X -qAt -p $P -d postgres -v VERBOSITY=verbose -c "SET statement_timeout = '$1'" \
    -c "$2" -c "RESET statement_timeout" -c "$STATUS_SQL 'VmHWM:%'" 2>&1) || true
  elapsed=$((($(date +%s%N) - start) / 1000000))
  state=$(echo "$out" | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -1)
  state=${state:-00000}
  hwm=$(echo "$out" | tail -1)
  [[ "$hwm" =~ ^[0-9]+$ ]] || fail "no VmHWM in: $out"
}

# The 100 MB texts are made beforehand (compressed in a table, quick to read back): repeat('x', 100000000) alone
# takes a second or two on a busy machine, the whole statement_timeout, and the embedding would then never start.
q $P "CREATE TABLE texts (name text, body text)"
for c in x '!' É x-; do
  q $P "INSERT INTO texts SELECT '$c', repeat(repeat('$c', 100000), 100000000 / 100000 / octet_length('$c'))"
done
text_kib=$((100000000 / 1024))
# check NAME TIMEOUT MAX_MS SQL: cancelled (57014) or finished, within MAX_MS, peak memory under twice the text
# (which is in memory once, detoasted).
check() {
  run_limited "$2" "$4"
  echo "$1: SQLSTATE $state after $elapsed ms, peak $((hwm / 1024)) MB"
  [ "$state" = 57014 ] || [ "$state" = 00000 ] || fail "$1: SQLSTATE $state"
  [ "$elapsed" -lt "$3" ] || fail "$1: took $elapsed ms (statement_timeout $2)"
  [ "$hwm" -lt $((2 * text_kib)) ] || fail "$1: peak memory $((hwm / 1024)) MB for a 95 MB text"
}

check "ST model, a 100 MB word" 1s 5000 "SELECT embed('enc', body) FROM texts WHERE name = 'x'"
[ "$state" = 57014 ] || echo "(finished before the timeout)"
check "ST model, 100 MB of '!'" 1s 5000 "SELECT embed('enc', body) FROM texts WHERE name = '!'"
check "ST model, a 100 MB word of accented capitals" 1s 5000 "SELECT embed('enc', body) FROM texts WHERE name = 'É'"
check "default model, a 100 MB word" 1s 3000 "SELECT embed(body) FROM texts WHERE name = 'x'"
check "default model, a 100 MB hyphenated word" 1s 3000 "SELECT embed(body) FROM texts WHERE name = 'x-'"

# A long word is [UNK] (max_input_chars_per_word 100) and what follows it still counts, as in BERT's tokenizer.
[ "$(q $P "SELECT embed('enc', repeat('x', 1000000) || ' the end')::text = embed('enc', repeat('x', 101) || ' the end')::text")" = t ] ||
  fail "a long word is not one [UNK]"
[ "$(q $P "SELECT embed('enc', repeat('x', 100) || ' the end')::text <> embed('enc', repeat('x', 101) || ' the end')::text")" = t ] ||
  fail "a 100-character word is [UNK]"
echo "ok: a word of a million characters embeds as one [UNK]"

# A 16 MB tokenizer.json: a huge vocabulary and long strings in sections the loader does not use.
/usr/bin/python3 - "$work/enc/tokenizer.json" <<'EOF'
import json, sys
path = sys.argv[1]
with open(path) as f:
    doc = json.load(f)
doc["model"]["vocab"] = {"w%07d" % i: i for i in range(700000)}
doc["added_tokens"] = [{"content": "y" * 1000000, "id": i} for i in range(4)]
with open(path, "w") as f:
    json.dump(doc, f)
EOF
size=$(stat -c %s "$work/enc/tokenizer.json")
echo "tokenizer.json: $((size / 1048576)) MB"
run_limited 1s "SELECT load_model('big', '$work/enc', 'sentence-transformers')"
echo "load_model with it: SQLSTATE $state after $elapsed ms, peak $((hwm / 1024)) MB"
[ "$state" = 00000 ] || [ "$state" = 57014 ] || fail "load_model: SQLSTATE $state"
[ "$elapsed" -lt 2500 ] || fail "load_model took $elapsed ms (statement_timeout 1s)"
[ "$hwm" -lt $((80 * 1024)) ] || fail "load_model peaked at $((hwm / 1024)) MB for a $((size / 1048576)) MB tokenizer.json"
# Memory the load freed goes back to the system: the idle backend is no larger than before it.
rss=$("$PGBIN/psql" -X -qAt -p $P -d postgres -c "$STATUS_SQL 'VmRSS:%'" \
  -c "SELECT load_model('big2', '$work/enc', 'sentence-transformers')" -c "$STATUS_SQL 'VmRSS:%'")
before=$(echo "$rss" | head -1)
after=$(echo "$rss" | tail -1)
echo "idle backend: $((before / 1024)) MB before load_model, $((after / 1024)) MB after"
[ "$after" -lt $((before + 40 * 1024)) ] || fail "the backend keeps $(((after - before) / 1024)) MB after load_model"
[ "$(q $P "SELECT embed('big2', 'the end')::text = embed('enc', 'the end')::text")" = t ] ||
  fail "the model with the large tokenizer.json embeds differently"
echo "ok: a 16 MB tokenizer.json loads in bounded memory"
[ "$(q $P "SELECT 1")" = 1 ] || fail "server not alive"
echo "ok: embed_limits"
