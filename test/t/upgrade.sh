#!/usr/bin/env bash
# ALTER EXTENSION embedding UPDATE from every earlier version gives the same objects as a fresh
# install (compared through pg_dump --binary-upgrade, which lists extension members), and a
# loaded model survives the update with the same vectors.
source "$(dirname "$0")/cluster.bash"
P=5523
work=$(mktemp -d)
chmod 755 "$work"
trap 'stop_cluster upgrade; rm -rf "$work"' EXIT
cp "$ROOT"/test/data/models_toy.glove.txt "$work"/
chmod 644 "$work"/*
new_cluster upgrade $P
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ROOT/embedding.control")
psql_db() { "$PGBIN/psql" -X -qAt -v ON_ERROR_STOP=1 -p $P -d "$@"; }

q $P "CREATE DATABASE fresh"
psql_db fresh -c "CREATE EXTENSION embedding"
psql_db fresh -c "SELECT load_model('m', '$work/models_toy.glove.txt', 'glove')" >/dev/null
expected=$(psql_db fresh -c "SELECT embed('m', 'king queen')::text")
model_base64=$(psql_db fresh -c "SELECT encode(data, 'base64') FROM \"#embedding\".model_store WHERE name = 'm'")
# Its SHA-256: from 0.2.0 on, the store accepts a direct INSERT (as a restore does) only with it.
model_sha=$(psql_db fresh -c "SELECT checksum FROM \"#embedding\".model_store WHERE name = 'm'")

# Only the objects, without the OIDs that binary-upgrade mode pins.
objects() {
  "$PGBIN/pg_dump" -p $P --schema-only --binary-upgrade -d "$1" |
    grep -v -E "binary_upgrade_set_next|^-- (Name|Dumped)|^\\\\(un)?restrict |^SET |^SELECT pg_catalog.set_config|^$" |
    sed -E -e "s/$1/DB/g" -e "s/[0-9]{5,}/OID/g"
}

for script in "$ROOT"/sql/versions/embedding--*--*.sql; do
  from=$(basename "$script" .sql | sed -E 's/^embedding--([^-]+)--.*/\1/')
  db=from_${from//./_}
  q $P "CREATE DATABASE $db"
  psql_db $db -c "CREATE EXTENSION embedding VERSION '$from'"
  # A model stored by that version (written directly: its load_model() needs its own library).
  table=$(psql_db $db -c "SELECT c.oid::regclass FROM pg_class c JOIN pg_depend d ON d.objid = c.oid
                          WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'embedding')
                            AND c.relname LIKE '%model_store'")
  psql_db $db -c "INSERT INTO $table (name, source, format, dims, vocab_size, checksum, data)
                  SELECT 'm', 'toy', 'glove', 4, 14, '$model_sha', decode('$model_base64', 'base64')"
  psql_db $db -c "ALTER EXTENSION embedding UPDATE"
  [ "$(psql_db $db -c "SELECT extversion FROM pg_extension WHERE extname = 'embedding'")" = "$current" ] ||
    fail "$db did not reach $current"
  if ! diff <(objects fresh) <(objects $db) >"$work/diff"; then
    head -40 "$work/diff"
    fail "the update from $from gives other objects than a fresh install of $current"
  fi
  [ "$(psql_db $db -c "SELECT embed('m', 'king queen')::text")" = "$expected" ] ||
    fail "the model stored by $from gives other vectors after the update"
  # The updated drop_model refuses to drop a model that a generated column uses (from 0.5.0 on).
  psql_db $db -c "CREATE TABLE uses_m (body text, e vector GENERATED ALWAYS AS (embed('m', body)) STORED)"
  out=$(psql_db $db -c "SELECT drop_model('m')" 2>&1) && fail "$db: drop_model dropped a model in use"
  echo "$out" | grep -q "because other objects use it" || fail "$db: drop_model said: $out"
  echo "ok: $from -> $current gives a fresh install's objects; its model still embeds the same"
done
