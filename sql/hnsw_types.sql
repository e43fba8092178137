-- hnsw on halfvec, bit and sparsevec: every opclass returns the exact order on a small table
-- (built, then after inserts), the expression indexes of pgvector's README (binary quantisation
-- with re-ranking, a halfvec index over a vector column), and the size limits.
CREATE TABLE items (id int PRIMARY KEY, v vector(8), h halfvec(8), b bit(16), s sparsevec(8));
INSERT INTO items SELECT i, v, v::halfvec, binary_quantize(v || v)::bit(16),
  (v * ARRAY[i % 2, 1, (i + 1) % 2, 0, 1, i % 3, 1, 0]::vector(8))::sparsevec
FROM (SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i), sin(5 * i), cos(7 * i),
                      sin(11 * i), cos(13 * i)]::vector(8) AS v
      FROM generate_series(1, 300) i) t;
SET hnsw.ef_search = 300;

-- The index order equals the exact order (id breaks ties the same way in both lists only when
-- distances differ, so compare distance lists, which ties cannot reorder).
CREATE FUNCTION same_order(q text, opclass text, col text, op text) RETURNS boolean AS $$
DECLARE
  exact float8[];
  indexed float8[];
BEGIN
  EXECUTE format('CREATE INDEX probe ON items USING hnsw (%s %s)', col, opclass);
  SET LOCAL enable_seqscan = off;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT %s %s %L AS d FROM items ORDER BY %s %s %L LIMIT 10) t',
                 col, op, q, col, op, q) INTO indexed;
  SET LOCAL enable_indexscan = off;
  SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT %s %s %L AS d FROM items ORDER BY %s %s %L LIMIT 10) t',
                 col, op, q, col, op, q) INTO exact;
  DROP INDEX probe;
  RETURN indexed = exact;
END $$ LANGUAGE plpgsql;

SELECT opclass, same_order(q, opclass, col, op) FROM (VALUES
  ('halfvec_l2_ops', 'h', '<->', '[0.5,0.5,0.5,0.5,-0.5,-0.5,0.1,0]'),
  ('halfvec_ip_ops', 'h', '<#>', '[0.5,0.5,0.5,0.5,-0.5,-0.5,0.1,0]'),
  ('halfvec_cosine_ops', 'h', '<=>', '[0.5,0.5,0.5,0.5,-0.5,-0.5,0.1,0]'),
  ('halfvec_l1_ops', 'h', '<+>', '[0.5,0.5,0.5,0.5,-0.5,-0.5,0.1,0]'),
  ('bit_hamming_ops', 'b', '<~>', '1011001110001111'),
  ('bit_jaccard_ops', 'b', '<%>', '1011001110001111'),
  ('sparsevec_l2_ops', 's', '<->', '{1:0.5,2:0.5,5:-0.5,7:0.1}/8'),
  ('sparsevec_ip_ops', 's', '<#>', '{1:0.5,2:0.5,5:-0.5,7:0.1}/8'),
  ('sparsevec_cosine_ops', 's', '<=>', '{1:0.5,2:0.5,5:-0.5,7:0.1}/8'),
  ('sparsevec_l1_ops', 's', '<+>', '{1:0.5,2:0.5,5:-0.5,7:0.1}/8')) t(opclass, col, op, q);

-- Inserts into existing indexes, then the same check through the index.
CREATE INDEX items_h ON items USING hnsw (h halfvec_l2_ops);
CREATE INDEX items_b ON items USING hnsw (b bit_hamming_ops);
CREATE INDEX items_s ON items USING hnsw (s sparsevec_cosine_ops);
INSERT INTO items SELECT i, v, v::halfvec, binary_quantize(v || v)::bit(16),
  (v * ARRAY[1, i % 2, 0, 1, 1, 0, i % 3, 1]::vector(8))::sparsevec
FROM (SELECT i, ARRAY[cos(i), sin(i), cos(2 * i), sin(3 * i), cos(5 * i), sin(7 * i),
                      cos(11 * i), sin(13 * i)]::vector(8) AS v
      FROM generate_series(301, 600) i) t;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY h <-> '[1,0,0,0,0,0,0,0]' LIMIT 5;
SELECT array_agg(id) AS by_index FROM (SELECT id FROM items ORDER BY h <-> '[1,0,0,0,0,0,0,0]' LIMIT 5) t;
SELECT array_agg(id) AS by_index FROM (SELECT id FROM items ORDER BY b <~> '1111111100000000', id LIMIT 5) t;
SELECT array_agg(id) AS by_index FROM (SELECT id FROM items ORDER BY s <=> '{1:1,4:1,8:-1}/8' LIMIT 5) t;
RESET enable_seqscan;
SELECT array_agg(id) AS exact FROM (SELECT id FROM items ORDER BY h <-> '[1,0,0,0,0,0,0,0]' LIMIT 5) t;
SELECT array_agg(id) AS exact FROM (SELECT id FROM items ORDER BY s <=> '{1:1,4:1,8:-1}/8' LIMIT 5) t;
SELECT hnsw_verify('items_h') LIKE 'ok:%' AS h_ok, hnsw_verify('items_b') LIKE 'ok:%' AS b_ok,
       hnsw_verify('items_s') LIKE 'ok:%' AS s_ok;
DROP INDEX items_h, items_b, items_s;

-- pgvector's README patterns: a binary-quantised expression index with re-ranking, and a
-- halfvec index over a vector column.
CREATE INDEX items_bq ON items USING hnsw ((binary_quantize(v)::bit(8)) bit_hamming_ops);
CREATE INDEX items_hv ON items USING hnsw ((v::halfvec(8)) halfvec_cosine_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT id FROM (SELECT * FROM items ORDER BY binary_quantize(v)::bit(8) <~> binary_quantize('[1,1,1,1,-1,-1,-1,-1]'::vector) LIMIT 40) t
ORDER BY v <=> '[1,1,1,1,-1,-1,-1,-1]' LIMIT 5;
SELECT array_agg(id) AS reranked FROM (SELECT id FROM (
  SELECT * FROM items ORDER BY binary_quantize(v)::bit(8) <~> binary_quantize('[1,1,1,1,-1,-1,-1,-1]'::vector) LIMIT 40) t
  ORDER BY v <=> '[1,1,1,1,-1,-1,-1,-1]' LIMIT 3) u;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v::halfvec(8) <=> '[1,1,1,1,-1,-1,-1,-1]' LIMIT 5;
SELECT array_agg(id) AS by_index FROM (SELECT id FROM items ORDER BY v::halfvec(8) <=> '[1,1,1,1,-1,-1,-1,-1]' LIMIT 5) t;
RESET enable_seqscan;
SELECT array_agg(id) AS exact FROM (SELECT id FROM items ORDER BY v::halfvec(8) <=> '[1,1,1,1,-1,-1,-1,-1]' LIMIT 5) t;

-- A zero query under cosine and a NULL query order nothing but still return rows.
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v::halfvec(8) <=> '[0,0,0,0,0,0,0,0]' LIMIT 7) t;
SELECT count(*) FROM (SELECT id FROM items ORDER BY b <~> NULL LIMIT 7) t;
RESET enable_seqscan;
-- A query of another length is an error, not a wrong answer.
CREATE INDEX items_b ON items USING hnsw (b bit_hamming_ops);
SET enable_seqscan = off;
SELECT id FROM items ORDER BY b <~> '101' LIMIT 1;
RESET enable_seqscan;
DROP TABLE items;

-- sparsevec: at most 1,000 non-zero elements in an index (build and insert), any number in a
-- query; the dimension may be as large as the type allows.
CREATE TABLE sp (s sparsevec(100000));
INSERT INTO sp SELECT ('{' || string_agg((i * 97 % 100000 + 1) || ':' || i, ',' ORDER BY i * 97 % 100000) || '}/100000')::sparsevec
  FROM generate_series(1, 1000) i;
INSERT INTO sp VALUES ('{1:1,50000:2,100000:3}/100000'), ('{}/100000');
CREATE INDEX sp_idx ON sp USING hnsw (s sparsevec_l2_ops);
INSERT INTO sp SELECT ('{' || string_agg(i || ':1', ',') || '}/100000')::sparsevec FROM generate_series(1, 1001) i;
SET enable_seqscan = off;
SELECT s FROM sp ORDER BY s <-> '{1:1,50000:2,100000:2}/100000' LIMIT 1;
SELECT count(*) FROM (SELECT s FROM sp ORDER BY s <-> (SELECT ('{' || string_agg(i || ':1', ',') || '}/100000')::sparsevec
  FROM generate_series(1, 2000) i) LIMIT 3) t;
RESET enable_seqscan;
SELECT hnsw_verify('sp_idx') LIKE 'ok:%' AS ok;
DROP INDEX sp_idx;
INSERT INTO sp SELECT ('{' || string_agg(i || ':1', ',') || '}/100000')::sparsevec FROM generate_series(1, 1001) i;
CREATE INDEX ON sp USING hnsw (s sparsevec_l2_ops);
CREATE TABLE sp2 (s sparsevec);
CREATE INDEX ON sp2 USING hnsw (s sparsevec_l2_ops);
DROP TABLE sp, sp2;

-- limits: 4,000 halfs, 64,000 bits; no dimensions, varbit and a metric of another type are refused
CREATE TABLE lim (h halfvec(4000), h2 halfvec(4001), b bit(64000), b2 bit(64001), vb varbit(8), hn halfvec);
INSERT INTO lim (h, b) VALUES (array_fill(1, ARRAY[4000])::halfvec, repeat('1', 64000)::bit(64000));
CREATE INDEX ON lim USING hnsw (h halfvec_l2_ops);
CREATE INDEX ON lim USING hnsw (b bit_jaccard_ops);
CREATE INDEX ON lim USING hnsw (h2 halfvec_l2_ops);
CREATE INDEX ON lim USING hnsw (b2 bit_hamming_ops);
CREATE INDEX ON lim USING hnsw (vb bit_hamming_ops);
CREATE INDEX ON lim USING hnsw (hn halfvec_l2_ops);
CREATE INDEX ON lim USING hnsw (h vector_l2_ops);
INSERT INTO lim (h, b) VALUES (array_fill(2, ARRAY[4000])::halfvec, repeat('10', 32000)::bit(64000));
SET enable_seqscan = off;
SELECT b <%> repeat('1', 64000)::bit(64000) AS jaccard FROM lim ORDER BY b <%> repeat('1', 64000)::bit(64000);
RESET enable_seqscan;
DROP TABLE lim;
DROP FUNCTION same_order;
