#!/usr/bin/env bash
# pg_dump/pg_restore (plain and custom formats) and binary COPY of a table with vectors give
# identical rows, bit for bit.
source "$(dirname "$0")/../../scripts/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

for db in emb_dump_src emb_dump_plain emb_dump_custom emb_dump_copy; do
  psql_q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
psql_q -d emb_dump_src <<'SQL'
CREATE EXTENSION embedding;
CREATE TABLE items (id int PRIMARY KEY, v vector(5), any_v vector);
INSERT INTO items
  SELECT i, array_to_vector(ARRAY(SELECT (random() - 0.5) * 10 ^ (random() * 40 - 20)
                                     FROM generate_series(1, 5 + i * 0)), 5, true),
         CASE WHEN i % 7 = 0 THEN NULL
              ELSE array_to_vector(ARRAY(SELECT random() FROM generate_series(1, 1 + i % 50)), -1, true) END
  FROM generate_series(1, 2000) i;
INSERT INTO items VALUES (-1, '[-0,1e-45,3.4028235e38,-3.4028235e38,1.1754944e-38]', '[0.1]');
CREATE INDEX ON items (v);
SQL

fingerprint() {
  psql_q -At -d "$1" -c "SELECT count(*) || ':' || md5(string_agg(id || '|' || coalesce(encode(vector_send(v), 'hex'), 'N')
                           || '|' || coalesce(encode(vector_send(any_v), 'hex'), 'N'), ',' ORDER BY id)) FROM items"
}

"$PGBIN/pg_dump" -Fp -d emb_dump_src -f "$work/dump.sql"
psql_q -d emb_dump_plain -f "$work/dump.sql" >/dev/null
"$PGBIN/pg_dump" -Fc -d emb_dump_src -f "$work/dump.custom"
"$PGBIN/pg_restore" -d emb_dump_custom "$work/dump.custom"
psql_q -d emb_dump_copy -c "CREATE EXTENSION embedding" \
  -c "CREATE TABLE items (id int PRIMARY KEY, v vector(5), any_v vector)"
psql_q -d emb_dump_src -c "\\copy items TO '$work/items.bin' WITH (FORMAT binary)"
psql_q -d emb_dump_copy -c "\\copy items FROM '$work/items.bin' WITH (FORMAT binary)"

src=$(fingerprint emb_dump_src)
status=0
for db in emb_dump_plain emb_dump_custom emb_dump_copy; do
  got=$(fingerprint $db)
  if [ "$got" = "$src" ]; then echo "ok: $db matches ($src)"; else echo "FAIL: $db $got != $src"; status=1; fi
done
for db in emb_dump_src emb_dump_plain emb_dump_custom emb_dump_copy; do
  psql_q -d postgres -c "DROP DATABASE $db"
done
exit $status
