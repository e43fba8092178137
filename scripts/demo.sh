#!/usr/bin/env bash
# The demo: semantic search over the PostgreSQL manual (Debian's postgresql-doc-15). The pages are
# split into passages, embedded inside the database with embed(), indexed with hnsw, and a few
# questions are answered with ORDER BY embedding <=> embed(question) LIMIT 5.
source "$(dirname "$0")/lib.sh"
MANUAL=/usr/share/doc/postgresql-doc-15/html
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

log "demo: split the PostgreSQL manual into passages"
perl "$ROOT/scripts/manual-passages.pl" "$MANUAL" >"$work/passages.tsv"
"$PGBIN/psql" -X -v ON_ERROR_STOP=1 -q -d embedding_demo <<SQL
DROP TABLE IF EXISTS manual;
CREATE TABLE manual (id serial PRIMARY KEY, page text, title text, body text, embedding vector(100));
\copy manual (page, title, body) FROM '$work/passages.tsv'
\timing on
\echo embedding every passage inside the database:
UPDATE manual SET embedding = embed(title || '. ' || body);
\echo building the hnsw index:
CREATE INDEX manual_embedding ON manual USING hnsw (embedding vector_cosine_ops);
\timing off
SELECT count(*) AS passages, count(DISTINCT page) AS pages FROM manual;
SQL

log "demo: questions"
for question in "How do I make a backup of my database?" \
                "Which kinds of indexes can speed up my queries?" \
                "How do I set up a standby server for replication?" \
                "How do I create a user that can log in with a password?"; do
  echo
  echo "Q: $question"
  "$PGBIN/psql" -X -v ON_ERROR_STOP=1 -qAt -F ' | ' -d embedding_demo \
    -v q="$question" <<'SQL'
SELECT title, left(body, 90) || '...' FROM manual ORDER BY embedding <=> embed(:'q') LIMIT 5;
SQL
done
