#!/usr/bin/env bash
# sentence-transformers models: random BERT variants loaded with load_model(..., 'sentence-transformers'), embed()
# against the numpy reference (test/models/check_st_models.py, st_reference.py), and broken models refused.
source "$(dirname "$0")/cluster.bash"
P=5531
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster transformer_models; rm -rf "$work"' EXIT
new_cluster transformer_models $P
q $P "CREATE EXTENSION embedding"
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$ROOT/test/models/check_st_models.py" --host "$PGHOST" --port $P \
  --dbname postgres --workdir "$work" || fail "check_st_models.py"
[ "$(q $P "SELECT 1")" = 1 ] || fail "server not alive"
