#!/usr/bin/env bash
# The demo: a few vectors, nearest neighbours by each distance operator.
source "$(dirname "$0")/lib.sh"

log "demo: nearest neighbours"
"$PGBIN/psql" -X -v ON_ERROR_STOP=1 -d embedding_demo <<'SQL'
DROP TABLE IF EXISTS demo_items;
CREATE TABLE demo_items (id bigserial PRIMARY KEY, name text, embedding vector(3));
INSERT INTO demo_items (name, embedding) VALUES
  ('red', '[1,0,0]'), ('orange', '[1,0.5,0]'), ('green', '[0,1,0]'), ('blue', '[0,0,1]'), ('white', '[1,1,1]');
SELECT name, embedding, round((embedding <-> '[1,0.2,0]')::numeric, 4) AS l2,
       round((embedding <=> '[1,0.2,0]')::numeric, 4) AS cosine
  FROM demo_items ORDER BY embedding <-> '[1,0.2,0]' LIMIT 3;
SELECT avg(embedding), sum(embedding) FROM demo_items;
SQL
