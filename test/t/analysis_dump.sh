#!/usr/bin/env bash
# PCA and k-means models survive pg_dump and restore (plain and custom formats) with tables whose
# generated columns and expression indexes call pca_project() and kmeans_assign() on them.
source "$(dirname "$0")/../../scripts/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

for db in emb_an_src emb_an_plain emb_an_custom; do
  psql_q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
psql_q -d emb_an_src >/dev/null <<'SQL'
CREATE EXTENSION embedding;
CREATE TABLE docs (id int PRIMARY KEY, v vector(4));
INSERT INTO docs SELECT i, ARRAY[i % 5, (i % 7) * 0.5, random(), (i % 3) * 2]::vector FROM generate_series(1, 500) i;
SELECT pca_fit('docs_pca', 'SELECT v FROM docs', 2, true);
SELECT kmeans_fit('docs_km', 'SELECT v FROM docs', 4, metric => 'cosine');
ALTER TABLE docs ADD COLUMN p vector(2) GENERATED ALWAYS AS (pca_project('docs_pca', v)::vector(2)) STORED,
                 ADD COLUMN c int GENERATED ALWAYS AS (kmeans_assign('docs_km', v)) STORED;
CREATE INDEX ON docs USING hnsw ((pca_project('docs_pca', v)::vector(2)) vector_l2_ops);
SQL

fingerprint() {
  psql_q -At -d "$1" -c "SELECT md5(string_agg(id || '|' || p::text || '|' || c, ',' ORDER BY id))
                               || md5((SELECT string_agg(component || ':' || explained_variance_ratio, ',') FROM pca_info('docs_pca')))
                               || md5((SELECT string_agg(cluster || ':' || center::text || ':' || size, ',') FROM kmeans_centers('docs_km')))
                               || (SELECT count(*) FROM docs WHERE p IS DISTINCT FROM pca_project('docs_pca', v)::vector(2))
                         FROM docs"
}

"$PGBIN/pg_dump" -Fp -d emb_an_src -f "$work/dump.sql"
psql_q -d emb_an_plain -v ON_ERROR_STOP=1 -f "$work/dump.sql" >/dev/null
"$PGBIN/pg_dump" -Fc -d emb_an_src -f "$work/dump.custom"
"$PGBIN/pg_restore" --exit-on-error -d emb_an_custom "$work/dump.custom"

src=$(fingerprint emb_an_src)
status=0
for db in emb_an_plain emb_an_custom; do
  got=$(fingerprint $db)
  if [ -n "$got" ] && [ "$got" = "$src" ]; then echo "ok: $db matches"; else echo "FAIL: $db '$got' != '$src'"; status=1; fi
done
for db in emb_an_src emb_an_plain emb_an_custom; do
  psql_q -d postgres -c "DROP DATABASE $db"
done
exit $status
