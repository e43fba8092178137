-- What must come out the same after the move: every row's text, and the nearest neighbours.
-- test/t/pgvector_migration.sh runs it twice: exact (no index scans) and through the indexes
-- (hnsw.ef_search covers the whole table), and both must give the exact answers pgvector gives.
SELECT count(*), md5(string_agg(concat_ws('|', id, title, v, h, s, b), ',' ORDER BY id)) FROM docs;
SELECT string_agg(id::text, ',') FROM (SELECT id FROM docs ORDER BY v <=> (SELECT v FROM docs WHERE id = 7) LIMIT 8) t;
SELECT string_agg(id::text, ',') FROM (SELECT id FROM docs ORDER BY h <-> (SELECT h FROM docs WHERE id = 11) LIMIT 8) t;
SELECT string_agg(id::text, ',') FROM (SELECT id FROM docs ORDER BY s <-> (SELECT s FROM docs WHERE id = 5) LIMIT 8) t;
SELECT string_agg(id::text || ':' || round((s <#> q)::numeric, 4), ',') FROM (
  SELECT id, s, '{1:1,62:1,123:-1,500:0.5}/1000'::sparsevec AS q FROM docs WHERE s IS NOT NULL
  ORDER BY s <#> '{1:1,62:1,123:-1,500:0.5}/1000', id LIMIT 5) t;
SELECT string_agg(id::text || ':' || (b <~> '1010101010101010')::text, ',') FROM (SELECT id, b FROM docs ORDER BY b <~> '1010101010101010', id LIMIT 8) t;
SELECT string_agg(id::text, ',') FROM (SELECT id FROM docs ORDER BY v LIMIT 5) t;
SELECT round((v <-> h::vector)::numeric, 3), round(l2_norm(s)::numeric, 4), b <%> '1111000011110000'
FROM docs WHERE id = 42;
SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'docs';
