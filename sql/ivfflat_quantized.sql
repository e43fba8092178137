-- ivfflat WITH (quantization = 'rabitq'): options and errors, exact top 10 with probes = lists
-- (vector and halfvec; l2, inner product, cosine), rows in exact distance order, iterative scans.
SET client_min_messages = warning;
SELECT setseed(0.23);
-- 8 clusters of 2,000 rows in 16 dimensions (2-bit codes) and 1,000 rows in 300 (1-bit codes).
CREATE TABLE iq (id int PRIMARY KEY, v vector(16), h halfvec(16), w vector(300));
INSERT INTO iq
SELECT i, v, v::halfvec(16), w FROM (
  SELECT s.i,
         (SELECT array_agg(d * 0 + (s.i % 8) * 2 - 7 + random()) FROM generate_series(1, 16) d)::vector(16) v,
         (SELECT array_agg(d * 0 + (s.i % 8) - 4 + random() * 3) FROM generate_series(1, 300) d)::vector(300) w
  FROM generate_series(1, 2000) s(i)) x;
UPDATE iq SET w = NULL WHERE id > 1000;
VACUUM iq;
CREATE TABLE iq_queries (qid int, v vector(16), w vector(300));
INSERT INTO iq_queries
SELECT q, (SELECT array_agg(d * 0 + q - 4 + random() * 2) FROM generate_series(1, 16) d)::vector(16),
          (SELECT array_agg(d * 0 + q % 4 - 2 + random() * 2) FROM generate_series(1, 300) d)::vector(300)
FROM generate_series(1, 5) q;

-- The top `k` ids for a query, with and without the index (probes = lists).
CREATE FUNCTION iq_top(expr text, query text, use_index bool, k int DEFAULT 10) RETURNS int[]
LANGUAGE plpgsql AS $$
DECLARE
  ids int[];
BEGIN
  EXECUTE format('SET LOCAL enable_seqscan = %s', NOT use_index);
  EXECUTE format('SET LOCAL enable_indexscan = %s', use_index);
  EXECUTE format('SET LOCAL enable_bitmapscan = off');
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM iq WHERE %s IS NOT NULL ORDER BY %s %s LIMIT %s) s',
                 split_part(expr, ' ', 1), expr, query, k) INTO ids;
  RETURN ids;
END $$;
-- Every query's top 10, with or without the index.
CREATE FUNCTION iq_all(expr text, col text, use_index bool, cast_to text DEFAULT '') RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  q int;
  lit text;
  tops text := '';
BEGIN
  FOR q IN SELECT qid FROM iq_queries ORDER BY qid LOOP
    EXECUTE format('SELECT quote_literal(%I::text) || %L FROM iq_queries WHERE qid = $1', col, cast_to)
      USING q INTO lit;
    tops := tops || iq_top(expr, lit, use_index)::text || ' ';
  END LOOP;
  RETURN tops;
END $$;
-- Whether every query's top 10 from the index is the exact top 10.
CREATE FUNCTION iq_exact(expr text, col text, cast_to text DEFAULT '') RETURNS bool
LANGUAGE sql AS $$
  SELECT iq_all(expr, col, true, cast_to) = iq_all(expr, col, false, cast_to)
$$;

-- All rows through the index by l2 distance to the all-ones vector: how many, whether in order.
CREATE FUNCTION iq_order(OUT rows bigint, OUT ordered bool) LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL enable_seqscan = off;
  SELECT count(*), bool_and(d >= prev) INTO rows, ordered FROM (
    SELECT d, lag(d, 1, '-Infinity') OVER () prev FROM (
      SELECT v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' d FROM iq
      ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]') s) s;
END $$;

-- Options and errors.
CREATE INDEX ON iq USING ivfflat (v vector_l2_ops) WITH (quantization = 'pq');
CREATE TABLE iq_wide (v vector(2000));
CREATE INDEX ON iq_wide USING ivfflat (v vector_l2_ops) WITH (lists = 4, quantization = 'rabitq');
DROP TABLE iq_wide;
CREATE INDEX ON iq USING ivfflat ((binary_quantize(v)::bit(16)) bit_hamming_ops) WITH (lists = 4, quantization = 'rabitq');
CREATE INDEX iq_v_none ON iq USING ivfflat (v vector_l2_ops) WITH (lists = 8, quantization = 'none');

SET ivfflat.probes = 8;
-- vector, l2. The codes take pages of their own.
CREATE INDEX iq_v ON iq USING ivfflat (v vector_l2_ops) WITH (lists = 8, quantization = 'rabitq');
SELECT pg_relation_size('iq_v') > pg_relation_size('iq_v_none') AS has_code_pages;
DROP INDEX iq_v_none;
SELECT iq_exact('v <->', 'v');
EXPLAIN (COSTS OFF) SELECT id FROM iq ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 5;
-- Rows come out in exact distance order, all of them.
SELECT * FROM iq_order();
-- The order comes from the codes' bounds: with epsilon 0 (estimates, not bounds) it breaks.
SET ivfflat.quantized_epsilon = 0;
SELECT * FROM iq_order();
RESET ivfflat.quantized_epsilon;
-- Inserts: 600 more rows, their codes in the lists' last code blocks and new ones.
INSERT INTO iq
SELECT s.i, (SELECT array_agg(d * 0 + (s.i % 8) * 2 - 7 + random()) FROM generate_series(1, 16) d)::vector(16)
FROM generate_series(2001, 2600) s(i);
SELECT iq_exact('v <->', 'v');
SELECT * FROM iq_order();
-- Inserts into an index built on an empty table: every code chain starts with an insert.
CREATE TABLE iq_empty (id int, v vector(16));
CREATE INDEX iq_empty_v ON iq_empty USING ivfflat (v vector_l2_ops) WITH (lists = 2, quantization = 'rabitq');
INSERT INTO iq_empty SELECT id, v FROM iq ORDER BY id;
SET enable_indexscan = off;
CREATE TEMP TABLE iq_empty_ref AS SELECT array_agg(id) AS ids FROM (SELECT id FROM iq_empty
  ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 10) s;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM iq_empty ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]') s;
SELECT array_agg(id) = (SELECT ids FROM iq_empty_ref) AS exact_top
FROM (SELECT id FROM iq_empty ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 10) s;
RESET enable_seqscan;
DROP TABLE iq_empty, iq_empty_ref;
DROP INDEX iq_v;
-- vector, inner product and cosine; halfvec, l2, inner product and cosine; 300 dimensions (1-bit
-- codes), l2 and cosine: a quantised index on `col` with `opclass`, its top 10s against the exact
-- ones.
CREATE FUNCTION iq_check(col text, opclass text, op text, qcol text, cast_to text DEFAULT '')
RETURNS bool LANGUAGE plpgsql AS $$
DECLARE
  ok bool;
BEGIN
  EXECUTE format('CREATE INDEX iq_check_idx ON iq USING ivfflat (%I %s) WITH (lists = 8, quantization = rabitq)',
                 col, opclass);
  ok := iq_exact(col || ' ' || op, qcol, cast_to);
  DROP INDEX iq_check_idx;
  RETURN ok;
END $$;
SELECT opclass, iq_check(col, opclass, op, qcol, cast_to) FROM (VALUES
  ('v', 'vector_ip_ops', '<#>', 'v', ''), ('v', 'vector_cosine_ops', '<=>', 'v', ''),
  ('h', 'halfvec_l2_ops', '<->', 'v', '::halfvec(16)'),
  ('h', 'halfvec_ip_ops', '<#>', 'v', '::halfvec(16)'),
  ('w', 'vector_l2_ops', '<->', 'w', ''), ('w', 'vector_cosine_ops', '<=>', 'w', ''))
  AS c(col, opclass, op, qcol, cast_to);
-- halfvec cosine: an index stores unit vectors rounded to halves, whose distances differ from
-- the column's in the last bits; the reference is the unquantised index's exact order.
CREATE INDEX iq_h ON iq USING ivfflat (h halfvec_cosine_ops) WITH (lists = 8);
CREATE TEMP TABLE iq_ref AS SELECT iq_all('h <=>', 'v', true, '::halfvec(16)') AS tops;
DROP INDEX iq_h;
CREATE INDEX iq_h ON iq USING ivfflat (h halfvec_cosine_ops) WITH (lists = 8, quantization = 'rabitq');
SELECT iq_all('h <=>', 'v', true, '::halfvec(16)') = tops FROM iq_ref;
DROP INDEX iq_h;

-- Iterative scan: one probe, a filter that most rows fail; more lists are read until 20 rows pass.
CREATE INDEX iq_v ON iq USING ivfflat (v vector_l2_ops) WITH (lists = 8, quantization = 'rabitq');
SET ivfflat.probes = 1;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM iq WHERE id % 8 = 3
  ORDER BY v <-> '[7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7]' LIMIT 20) s;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM iq WHERE id % 8 = 3
  ORDER BY v <-> '[7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7]' LIMIT 20) s;
RESET ivfflat.iterative_scan;
RESET enable_seqscan;
-- VACUUM: a third of the rows deleted; their code rows and entries go, the other entries stay
-- where their code rows say; then new rows take the freed slots.
SET ivfflat.probes = 8;
DELETE FROM iq WHERE id % 3 = 0;
VACUUM (INDEX_CLEANUP on) iq;
SELECT iq_exact('v <->', 'v');
SELECT * FROM iq_order();
INSERT INTO iq
SELECT s.i, (SELECT array_agg(d * 0 + (s.i % 8) * 2 - 7 + random()) FROM generate_series(1, 16) d)::vector(16)
FROM generate_series(3001, 3500) s(i);
SELECT iq_exact('v <->', 'v');
SELECT * FROM iq_order();
SELECT count(*) AS rows FROM iq;
DROP TABLE iq, iq_queries;
DROP FUNCTION iq_top, iq_all, iq_exact, iq_check, iq_order;

-- Churn: rounds of half the rows deleted, as many inserted, VACUUM. Inserts reuse the code rows
-- and entry line pointers VACUUM freed, so the index stops growing after the first round (it
-- grew by a page of codes every ~190 inserts, and entry pages filled with unused line pointers).
CREATE TABLE iq_churn (id serial, v vector(16)) WITH (autovacuum_enabled = off);
CREATE FUNCTION iq_churn_rows(n int) RETURNS void LANGUAGE sql AS $$
  INSERT INTO iq_churn (v)
  SELECT (SELECT array_agg(random() + d * 0) FROM generate_series(1, 16) d WHERE d > s * 0)::vector(16)
  FROM generate_series(1, n) s;
$$;
CREATE FUNCTION iq_churn_round() RETURNS void LANGUAGE sql AS $$
  DELETE FROM iq_churn WHERE id IN (SELECT id FROM iq_churn ORDER BY random() LIMIT 2000);
  SELECT iq_churn_rows(2000);
$$;
SELECT iq_churn_rows(4000);
CREATE INDEX iq_churn_v ON iq_churn USING ivfflat (v vector_l2_ops) WITH (lists = 2, quantization = 'rabitq');
SELECT iq_churn_round();
VACUUM iq_churn;
CREATE TEMP TABLE iq_churn_size AS SELECT pg_relation_size('iq_churn_v') AS first_round;
SELECT iq_churn_round();
VACUUM iq_churn;
SELECT iq_churn_round();
VACUUM iq_churn;
SELECT iq_churn_round();
VACUUM iq_churn;
SELECT iq_churn_round();
VACUUM iq_churn;
SELECT iq_churn_round();
VACUUM iq_churn;
SELECT pg_relation_size('iq_churn_v') <= first_round * 1.1 AS no_growth FROM iq_churn_size;
SET ivfflat.probes = 2;
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM iq_churn ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]') s;
RESET enable_seqscan;
DROP TABLE iq_churn;
DROP FUNCTION iq_churn_rows, iq_churn_round;
