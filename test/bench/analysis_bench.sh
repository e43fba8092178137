#!/usr/bin/env bash
# Same-run comparison of the analysis core (PCA, k-means, Spearman, retrieval metrics) with
# scikit-learn (with OpenBLAS) and scipy on GloVe 100-d (341k rows) and its 1,536-d projection (all
# rows, or the first --rows1536), everyone on 2 threads; prints a JSON record and a table.
# Needs python3-sklearn and the caches of hnsw_sql_bench.sh (glove100_f32.npy, glove1536_*.npy).
# Not part of the test suite. Options go to analysis_bench.py (--quick: small slices).
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
PYTHON=/usr/bin/python3 # Debian's python: the one python3-sklearn installs into
CACHE=${EMBEDDING_BENCH_CACHE:-/var/cache/embedding/bench}
GLOVE100=$CACHE/glove100_f32.npy
GLOVE1536=$CACHE/glove1536_seed1536_f32.npy
for f in "$GLOVE100" "$GLOVE1536"; do
  [ -s "$f" ] || { echo "missing $f: run test/bench/hnsw_sql_bench.sh once to make it" >&2; exit 1; }
done
# scikit-learn as a Debian user has it: with OpenBLAS (numpy finds it through the libblas.so.3
# alternative; without it numpy runs on the one-thread reference BLAS, 10-50x slower).
packages=""
"$PYTHON" -c 'import sklearn, scipy, threadpoolctl' 2>/dev/null || packages="python3-sklearn"
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || packages="$packages libopenblas0-pthread"
if [ -n "$packages" ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $packages >&2
fi
# Two threads for everyone: OpenBLAS, OpenMP (scikit-learn's k-means) and ours (--threads).
export OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2
BUILD=$ROOT/build/bench
cmake -S "$ROOT" -B "$BUILD" -DEMB_BENCH=ON -DEMB_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$BUILD" --target analysis_tool -j2 >&2
exec "$PYTHON" "$BENCH_DIR/analysis_bench.py" --tool "$BUILD/analysis_tool" --glove100 "$GLOVE100" \
  --glove1536 "$GLOVE1536" "$@"
