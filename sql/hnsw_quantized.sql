-- hnsw WITH (quantization = 'rabitq'): neighbour lists carry 1-bit codes that steer the search,
-- every returned row is ordered by its exact distance. Options, supported columns, exactness on
-- a small table, inserts, VACUUM with repair, iterative scans and the verifier.
SET enable_seqscan = off;
CREATE TABLE q (id int, v vector(24), h halfvec(24));
-- 3,000 rows in 6 clusters, from a fixed formula (no random()).
INSERT INTO q SELECT i, v, v::halfvec FROM (
  SELECT i, array_agg(sin(i * 0.37 + d * 1.3) + (i % 6) * 0.8 * cos(d * (i % 6)) ORDER BY d)::vector(24) AS v
  FROM generate_series(1, 3000) i, generate_series(1, 24) d GROUP BY i) s;
CREATE TABLE probes AS SELECT id, v, h FROM q WHERE id % 150 = 7;
-- options
CREATE INDEX ON q USING hnsw (v vector_l2_ops) WITH (quantization = 'pq');
CREATE INDEX q_v ON q USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq');
SELECT reloptions FROM pg_class WHERE relname = 'q_v';
SHOW hnsw.quantized_epsilon;
SET hnsw.quantized_epsilon = -1;
SELECT hnsw_verify('q_v') ~ '^ok:.*1-bit neighbour codes \([1-9][0-9]* checked\)$' AS verified_quantized;
-- the index is used, and with ef_search covering the table the probes get the exact top 10 (the
-- search is approximate: 1-bit codes of 24-d vectors are coarse, so a probe or two may miss one)
EXPLAIN (COSTS OFF) SELECT id FROM q ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]' LIMIT 5;
SET hnsw.ef_search = 400;
CREATE FUNCTION exact_matches(op text, col text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  -- The same ten rows (as sets: the index computes in float, the operator in double, so rows at
  -- almost the same distance may swap).
  EXECUTE format('SELECT count(*) FROM probes p WHERE
    ARRAY(SELECT id FROM (SELECT id FROM q ORDER BY %2$s %1$s p.%2$s LIMIT 10) s ORDER BY id) =
    ARRAY(SELECT id FROM (SELECT id FROM q ORDER BY (%2$s %1$s p.%2$s) + 0 LIMIT 10) s ORDER BY id)',
    op, col)
  INTO n;
  RETURN n;
END $$;
SET enable_seqscan = on;
SELECT count(*) AS probes FROM probes;
SET enable_seqscan = off;
SELECT exact_matches('<->', 'v') >= 18 AS l2_exact;
-- rows come in exact distance order
SELECT bool_and(d <= next) AS ordered FROM (
  SELECT d, lead(d) OVER (ORDER BY n) AS next FROM (
    SELECT row_number() OVER () AS n, d FROM (
      SELECT v <-> (SELECT v FROM probes LIMIT 1) AS d FROM q
      ORDER BY v <-> (SELECT v FROM probes LIMIT 1) LIMIT 200) a) b) c;
DROP INDEX q_v;
CREATE INDEX q_cos ON q USING hnsw (v vector_cosine_ops) WITH (quantization = 'rabitq');
SELECT exact_matches('<=>', 'v') >= 18 AS cosine_exact;
DROP INDEX q_cos;
CREATE INDEX q_ip ON q USING hnsw (v vector_ip_ops) WITH (quantization = 'rabitq');
SELECT exact_matches('<#>', 'v') >= 18 AS ip_exact;
DROP INDEX q_ip;
CREATE INDEX q_h ON q USING hnsw (h halfvec_l2_ops) WITH (quantization = 'rabitq');
SELECT exact_matches('<->', 'h') >= 18 AS halfvec_exact;
DROP INDEX q_h;
-- what codes do not serve
CREATE INDEX ON q USING hnsw (v vector_l1_ops) WITH (quantization = 'rabitq');
CREATE TABLE b (id int, bits bit(24), s sparsevec(24), big vector(2000));
CREATE INDEX ON b USING hnsw (bits bit_hamming_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON b USING hnsw (s sparsevec_l2_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON b USING hnsw (big vector_l2_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON b USING hnsw (big vector_l2_ops) WITH (quantization = 'rabitq', m = 8);
DROP TABLE b;
-- an empty index, then inserts: the codes are taken around the origin
CREATE TABLE e (id int, v vector(24));
CREATE INDEX e_v ON e USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq');
INSERT INTO e SELECT id, v FROM q;
VACUUM e;  -- links the few rows inserts may leave unreachable (see README)
SELECT hnsw_verify('e_v') ~ '^ok:.*1-bit neighbour codes \([1-9][0-9]* checked\)$' AS verified_quantized;
SELECT count(*) >= 18 AS inserted_exact FROM probes p WHERE
  ARRAY(SELECT id FROM (SELECT id FROM e ORDER BY v <-> p.v LIMIT 10) s ORDER BY id) =
  ARRAY(SELECT id FROM (SELECT id FROM e ORDER BY (v <-> p.v) + 0 LIMIT 10) s ORDER BY id);
DROP TABLE e;
-- inserts into a built index, deletes, VACUUM (repair rewrites lists with codes), reuse
CREATE INDEX q_v ON q USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq', m = 8);
INSERT INTO q SELECT id + 3000, v + '[0.01,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]', h FROM q WHERE id % 2 = 0;
DELETE FROM q WHERE id % 3 = 0;
VACUUM q;
SELECT hnsw_verify('q_v') LIKE 'ok:%' AS verified;
DELETE FROM probes WHERE id % 3 = 0;
SELECT exact_matches('<->', 'v') >= 10 AS exact_after_vacuum;  -- 13 to 20 of 20 seen (see issue 23)
INSERT INTO q SELECT id + 9000, v, h FROM q WHERE id % 5 = 1;
VACUUM q;  -- links the few rows inserts may leave unreachable (see README)
SELECT hnsw_verify('q_v') LIKE 'ok:%' AS verified;
-- iterative scans: a filter that removes most rows still gets 5 rows, most of them the true 5
SET hnsw.ef_search = 20;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) AS returned, count(*) FILTER (WHERE id IN (
         SELECT id FROM q WHERE id % 17 = 0
         ORDER BY (v <-> (SELECT v FROM probes LIMIT 1)) + 0 LIMIT 5)) >= 3 AS mostly_exact
  FROM (SELECT id FROM q WHERE id % 17 = 0 ORDER BY v <-> (SELECT v FROM probes LIMIT 1) LIMIT 5) s;
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;
DROP TABLE q, probes;
DROP FUNCTION exact_matches;
