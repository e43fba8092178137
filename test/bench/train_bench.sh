#!/usr/bin/env bash
# train_model against fastText 0.9.2 (`fasttext`) and gensim 4.2 (python3-gensim) with the same
# hyperparameters and 2 threads, on a corpus of about 12 million words prepared from Debian
# packages (train_corpus.py). Prints a table a method x system: training words/s, training and
# total seconds, WordSim-353 and SimLex-999 Spearman and analogy accuracy (eval_tool, the same
# evaluator for every system, over models converted by embedding_convert), vocabulary size and
# peak memory (our backend's VmHWM; the others' maximum RSS), then our ratios to the anchors and
# the load average. Not part of the test suite.
# Environment: EMB_TRAIN_BENCH_EPOCHS (5), EMB_TRAIN_BENCH_METHODS ("skipgram cbow subwords"),
# EMB_TRAIN_BENCH_SYSTEMS ("ours fasttext gensim"), EMB_TRAIN_BENCH_DB (embedding_train_bench),
# EMBEDDING_EVAL_DATA (../shared/data).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../scripts/lib.sh
source "$BENCH_DIR/../../scripts/lib.sh"
PYTHON=/usr/bin/python3
EPOCHS=${EMB_TRAIN_BENCH_EPOCHS:-5}
METHODS=${EMB_TRAIN_BENCH_METHODS:-skipgram cbow subwords}
SYSTEMS=${EMB_TRAIN_BENCH_SYSTEMS:-ours fasttext gensim}
DIMS=100 WINDOW=5 MIN_COUNT=5 NEGATIVE=5 THREADS=2
DB=${EMB_TRAIN_BENCH_DB:-embedding_train_bench}
WORK=$EMBEDDING_CACHE/train_bench
DATA=${EMBEDDING_EVAL_DATA:-$ROOT/../shared/data}
export EMBEDDING_EVAL_DATA=$DATA
[ -f "$DATA/wordsim353.tsv" ] || { echo "no evaluation data in $DATA: set EMBEDDING_EVAL_DATA"; exit 1; }

install_missing_packages fasttext python3-gensim dict-gcide postgresql-doc-15 python3.11-doc perl-doc \
  wordnet-base libbenchmark-dev time
mkdir -p "$WORK"
chmod 755 "$EMBEDDING_CACHE" "$WORK"
cmake -S "$ROOT" -B "$ROOT/build/bench" -DEMB_BENCH=ON -DEMB_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$ROOT/build/bench" -j"$JOBS" --target eval_tool embedding_convert >/dev/null
CORPUS=$WORK/corpus.txt
if [ ! -s "$CORPUS" ]; then
  log "corpus: preparing $CORPUS"
  "$PYTHON" "$BENCH_DIR/train_corpus.py" "$CORPUS.part"
  mv "$CORPUS.part" "$CORPUS"
fi
chmod 644 "$CORPUS"
WORDS=$(wc -w <"$CORPUS")
log "corpus: $WORDS words, $(wc -l <"$CORPUS") lines; $EPOCHS epochs, $THREADS threads"

start_cluster
psql_q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql_q -d $DB -c "CREATE EXTENSION embedding" -c "CREATE TABLE corpus (body text)" \
  -c "\\copy corpus FROM '$CORPUS'"

# evaluate NAME VEC: "ws353 simlex analogy vocabulary" of a word2vec text file
evaluate() {
  "$ROOT/build/bench/embedding_convert" --format word2vec "$2" "$WORK/$1.emb" >/dev/null
  "$ROOT/build/bench/eval_tool" "$WORK/$1.emb" | awk '
    /^model:/ { gsub(/\(/, "", $3); vocab = $3 }
    /^wordsim353/ { ws = $3 } /^simlex999/ { sl = $3 }
    /^analogies/ { for (i = 1; i <= NF; i++) if ($i == "accuracy") { an = $(i + 1); break } }
    END { printf "%s %s %s %s", ws, sl, an, vocab }'
  rm -f "$WORK/$1.emb"
}

# Each run_* prints "words_per_second train_seconds total_seconds peak_kb cpu_seconds", then the
# vectors are in $WORK/NAME.vec. CPU seconds are the whole call's (reading the corpus included),
# every thread's: on a shared machine they measure the work where wall-clock words/s measure the
# load as much.
CPU_STAT="SELECT 'cpu ' || (split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint)"
run_ours() {  # name method subwords
  local start end out
  start=$(date +%s.%N)
  out=$(psql_q -d $DB -At -c "SET maintenance_work_mem = '4GB'" \
    -c "SET max_parallel_maintenance_workers = $((THREADS - 1))" \
    -c "SELECT drop_model('$1') FROM embedding_models WHERE name = '$1'" -c "$CPU_STAT" \
    -c "SELECT train_model('$1', 'SELECT body FROM corpus', '$2', $DIMS, $WINDOW, $MIN_COUNT, $NEGATIVE, $EPOCHS, $3)" -c "$CPU_STAT" \
    -c "SELECT (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\\s+(\\d+)'))[1]" 2>&1)
  end=$(date +%s.%N)
  psql_q -d $DB -At -c "SELECT export_model('$1')" | sed '/^$/d' >"$WORK/$1.vec"
  echo "$out" | awk -v total="$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" -v tick="$(getconf CLK_TCK)" '
    /trained in/ { for (i = 1; i <= NF; i++) { if ($i == "in") s = $(i + 1); if ($i == "(") w = $(i + 1) }
                   sub(/^\(/, "", w) }
    /words\/s,/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "words/s,") w = $i; sub(/^\(/, "", w) }
    /^[0-9]+$/ { peak = $1 }
    /^cpu [0-9]+$/ { if (c0 == "") c0 = $2; else c1 = $2 }
    END { printf "%s %s %.2f %s %.2f", w, s, total, peak, (c1 - c0) / tick }'
}

run_fasttext() {  # name method subwords
  local minn=0 maxn=0 lr=0.025 bucket=${BUCKETS:-2000000} log
  [ "$2" = cbow ] && lr=0.05
  [ "$3" = true ] && { minn=3; maxn=6; }
  log=$WORK/$1.log
  /usr/bin/time -f "time %e %M %U %S" fasttext "$2" -input "$CORPUS" -output "$WORK/$1" -dim $DIMS -ws $WINDOW \
    -minCount $MIN_COUNT -neg $NEGATIVE -epoch $EPOCHS -t 1e-3 -lr $lr -thread $THREADS \
    -minn $minn -maxn $maxn -bucket $bucket >"$log" 2>&1
  rm -f "$WORK/$1.bin"
  tr '\r' '\n' <"$log" | awk -v words="$WORDS" -v epochs="$EPOCHS" -v threads="$THREADS" '
    /words\/sec\/thread/ { for (i = 1; i <= NF; i++) if ($i == "words/sec/thread:") w = $(i + 1) * threads }
    /^time / { total = $2; peak = $3; cpu = $4 + $5 }
    END { printf "%.0f %.2f %.2f %s %.2f", w, words * epochs / w, total, peak, cpu }'
}

run_gensim() {  # name method subwords
  "$PYTHON" "$BENCH_DIR/train_gensim.py" "$CORPUS" "$WORK/$1.vec" "$2" $DIMS $WINDOW $MIN_COUNT \
    $NEGATIVE $EPOCHS $THREADS "$3" "${BUCKETS:-2000000}" 2>/dev/null | awk '{ printf "%s %s %s %s %s", $1, $2, $3, $5, $6 }'
}

declare -A speed cpu_speed quality
rows=()
for method in $METHODS; do
  base=$method subwords=false
  [ "$method" = subwords ] && { base=skipgram; subwords=true; }
  for system in $SYSTEMS; do
    name=bench_${system}_${method}
    log "training: $system $method"
    if [ "$system" = ours ] && [ "$subwords" = true ]; then
      # the buckets train_model chose (4 a word, 2^14..2^21) are given to the others
      BUCKETS=""
    fi
    read -r wps train_s total_s peak_kb cpu_s <<<"$(run_$system "$name" "$base" "$subwords")"
    cpu_wps=$(awk -v w="$WORDS" -v e="$EPOCHS" -v c="$cpu_s" 'BEGIN { printf "%.0f", (c > 0 ? w * e / c : 0) }')
    if [ "$system" = ours ] && [ "$subwords" = true ]; then
      vocab=$(psql_q -d $DB -At -c "SELECT vocab_size FROM embedding_models WHERE name = '$name'")
      BUCKETS=$(( vocab * 4 < 16384 ? 16384 : (vocab * 4 > 2097152 ? 2097152 : vocab * 4) ))
    fi
    read -r ws sl an vocab <<<"$(evaluate "$name" "$WORK/$name.vec")"
    rm -f "$WORK/$name.vec"
    speed[$system.$method]=$wps
    cpu_speed[$system.$method]=$cpu_wps
    quality[$system.$method]="$ws $sl $an"
    rows+=("$(printf '%-9s %-9s %10.0f %8.1f %8.1f %8.1f %10.0f %7.4f %7.4f %7.4f %8s %8.0f' "$method" \
      "$system" "$wps" "$train_s" "$total_s" "$cpu_s" "$cpu_wps" "$ws" "$sl" "$an" "$vocab" \
      "$((peak_kb / 1024))")")
    echo "${rows[-1]}"
  done
done

echo
printf '%-9s %-9s %10s %8s %8s %8s %10s %7s %7s %7s %8s %8s\n' method system "words/s" "train s" \
  "total s" "CPU s" "words/CPUs" WS353 SimLex analogy vocab "peak MB"
printf '%s\n' "${rows[@]}"
echo
for method in $METHODS; do
  [ -n "${speed[ours.$method]:-}" ] || continue
  line="$method: ours"
  for other in fasttext gensim; do
    [ -n "${speed[$other.$method]:-}" ] || continue
    line+=$(awk -v a="${speed[ours.$method]}" -v b="${speed[$other.$method]}" -v n="$other" \
      -v c="${cpu_speed[ours.$method]}" -v d="${cpu_speed[$other.$method]}" \
      'BEGIN { printf ", %.2fx %s'"'"'s words/s (%.2fx per CPU second)", a / b, n, (d > 0 ? c / d : 0) }')
  done
  read -r ows osl oan <<<"${quality[ours.$method]}"
  best_ws=-1 best_sl=-1 best_an=-1
  [ -n "${quality[fasttext.$method]:-}${quality[gensim.$method]:-}" ] || { echo "$line"; continue; }
  for other in fasttext gensim; do
    [ -n "${quality[$other.$method]:-}" ] || continue
    read -r a b c <<<"${quality[$other.$method]}"
    best_ws=$(awk -v x="$best_ws" -v y="$a" 'BEGIN { print (y > x ? y : x) }')
    best_sl=$(awk -v x="$best_sl" -v y="$b" 'BEGIN { print (y > x ? y : x) }')
    best_an=$(awk -v x="$best_an" -v y="$c" 'BEGIN { print (y > x ? y : x) }')
  done
  line+=$(awk -v a="$ows" -v b="$osl" -v c="$oan" -v x="$best_ws" -v y="$best_sl" -v z="$best_an" \
    'BEGIN { printf "; quality minus the better anchor: WS353 %+.4f, SimLex %+.4f, analogy %+.4f", a - x, b - y, c - z }')
  echo "$line"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (cores: $(nproc))"
