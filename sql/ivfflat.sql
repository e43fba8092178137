-- ivfflat: pgvector's DDL, options and GUCs with their limits and messages; every opclass
-- returns the exact order when all lists are probed; probes, iterative scans, NULL and zero
-- queries, inserts after the build, unlogged tables, TRUNCATE, the dimension limits and
-- ivfflat_info().
SET enable_seqscan = off;
CREATE TABLE iv (id int, v vector(3), h halfvec(3));
INSERT INTO iv VALUES (1, '[0,0,0]', '[0,0,0]'), (2, '[1,2,3]', '[1,2,3]'), (3, '[1,1,1]', '[1,1,1]'),
  (4, NULL, NULL);
-- the default opclass for vector is vector_l2_ops, as in pgvector
CREATE INDEX iv_l2 ON iv USING ivfflat (v) WITH (lists = 1);
INSERT INTO iv VALUES (5, '[1,2,4]', '[1,2,4]');
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v <-> '[3,3,3]';
SELECT id, v FROM iv ORDER BY v <-> '[3,3,3]';
SELECT count(*) FROM (SELECT id FROM iv ORDER BY v <-> NULL) t;
DROP INDEX iv_l2;
CREATE INDEX iv_ip ON iv USING ivfflat (v vector_ip_ops) WITH (lists = 1);
SELECT id FROM iv ORDER BY v <#> '[3,3,3]';
DROP INDEX iv_ip;
CREATE INDEX iv_cos ON iv USING ivfflat (v vector_cosine_ops) WITH (lists = 1);
SELECT id FROM iv ORDER BY v <=> '[3,3,3]';
SELECT count(*) FROM (SELECT id FROM iv ORDER BY v <=> '[0,0,0]') t;
DROP INDEX iv_cos;
CREATE INDEX iv_h ON iv USING ivfflat (h halfvec_l2_ops) WITH (lists = 1);
SELECT id FROM iv ORDER BY h <-> '[3,3,3]';
DROP INDEX iv_h;
CREATE INDEX iv_hc ON iv USING ivfflat (h halfvec_cosine_ops) WITH (lists = 1);
SELECT id FROM iv ORDER BY h <=> '[3,3,3]';
DROP INDEX iv_hc;
TRUNCATE iv;
SELECT id FROM iv ORDER BY v <-> '[3,3,3]';
DROP TABLE iv;

-- On a larger table, with every list probed, each opclass gives the exact order (halfvec
-- cosine within the rounding of the normalised halfs the index stores, as pgvector's does).
-- (autovacuum off: an automatic ANALYZE's snapshot would keep the VACUUM below from removing rows)
CREATE TABLE ivl (id int, v vector(8), h halfvec(8)) WITH (autovacuum_enabled = false);
INSERT INTO ivl SELECT i, v, v::halfvec
FROM (SELECT i, ARRAY[sin(i), cos(i), sin(2 * i), cos(3 * i), sin(5 * i), cos(7 * i),
                      sin(11 * i), cos(13 * i)]::vector(8) AS v
      FROM generate_series(1, 2000) i) t;
CREATE FUNCTION ivf_exact(opclass text, col text, op text, q text) RETURNS boolean AS $$
DECLARE
  exact float8[];
  indexed float8[];
BEGIN
  EXECUTE format('CREATE INDEX probe ON ivl USING ivfflat (%s %s) WITH (lists = 20)', col, opclass);
  SET LOCAL enable_seqscan = off;
  SET LOCAL ivfflat.probes = 20;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT %s %s %L AS d FROM ivl ORDER BY %s %s %L LIMIT 10) t',
                 col, op, q, col, op, q) INTO indexed;
  SET LOCAL enable_indexscan = off;
  SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array_agg(d) FROM (SELECT %s %s %L AS d FROM ivl ORDER BY %s %s %L LIMIT 10) t',
                 col, op, q, col, op, q) INTO exact;
  DROP INDEX probe;
  RETURN (SELECT bool_and(abs(a - b) < 1e-3) FROM unnest(indexed, exact) AS t(a, b));
END $$ LANGUAGE plpgsql;
SELECT opclass, ivf_exact(opclass, col, op, '[0.5,0.5,0.5,0.5,-0.5,-0.5,0.1,0]') FROM (VALUES
  ('vector_l2_ops', 'v', '<->'), ('vector_ip_ops', 'v', '<#>'), ('vector_cosine_ops', 'v', '<=>'),
  ('halfvec_l2_ops', 'h', '<->'), ('halfvec_ip_ops', 'h', '<#>'), ('halfvec_cosine_ops', 'h', '<=>')) t(opclass, col, op);
DROP FUNCTION ivf_exact;

-- probes: one list returns that list's rows only; iterative scans go on to the next lists.
CREATE INDEX ivl_v ON ivl USING ivfflat (v) WITH (lists = 20);
SELECT count(*) = 20 AS lists, sum(rows) = 2000 AS all_rows, min(rows) > 0 AS none_empty
FROM ivfflat_info('ivl_v');
SET ivfflat.probes = 1;
SELECT count(*) < 2000 AS one_list FROM (SELECT id FROM ivl ORDER BY v <-> '[1,0,0,0,0,0,0,0]') t;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) AS iterative FROM (SELECT id FROM ivl ORDER BY v <-> '[1,0,0,0,0,0,0,0]') t;
SET ivfflat.max_probes = 2;
SELECT count(*) < 2000 AS capped FROM (SELECT id FROM ivl ORDER BY v <-> '[1,0,0,0,0,0,0,0]') t;
RESET ivfflat.max_probes;
SELECT count(*) AS filtered FROM (SELECT id FROM ivl WHERE id % 100 = 0 ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 30) t;
RESET ivfflat.iterative_scan;
RESET ivfflat.probes;
-- inserts go to the nearest list, also when its page is full; VACUUM removes deleted rows
INSERT INTO ivl SELECT i, ARRAY[1, i * 0.001, 0, 0, 0, 0, 0, 0]::vector(8), NULL FROM generate_series(2001, 3000) i;
SELECT sum(rows) AS rows FROM ivfflat_info('ivl_v');
SET ivfflat.probes = 20;
SELECT id FROM ivl ORDER BY v <-> '[1,0.5,0,0,0,0,0,0]' LIMIT 3;
DELETE FROM ivl WHERE id > 2500;
VACUUM ivl;
SELECT sum(rows) AS rows FROM ivfflat_info('ivl_v');
SELECT id FROM ivl ORDER BY v <-> '[1,0.5,0,0,0,0,0,0]' LIMIT 3;
RESET ivfflat.probes;
SELECT * FROM ivfflat_info('ivl');  -- the table, not its index
DROP TABLE ivl;

-- bit strings: hamming lists (k-means on bits, centers by majority), exact with every list probed
CREATE TABLE ivb (id int, b bit(24), vb varbit(24));
INSERT INTO ivb SELECT i, (i * 2654435761 % 16777216)::bit(24), NULL FROM generate_series(1, 3000) i;
CREATE INDEX ivb_b ON ivb USING ivfflat (b bit_hamming_ops) WITH (lists = 10);
SET ivfflat.probes = 10;
SELECT array_agg(d ORDER BY n) AS by_index FROM (
  SELECT b <~> B'101010101010101010101010' AS d, row_number() OVER () AS n FROM (
    SELECT b FROM ivb ORDER BY b <~> B'101010101010101010101010' LIMIT 8) t) u;
RESET ivfflat.probes;
SET enable_indexscan = off;
SET enable_seqscan = on;
SELECT array_agg(d) AS exact FROM (
  SELECT b <~> B'101010101010101010101010' AS d FROM ivb ORDER BY 1 LIMIT 8) t;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT sum(rows) = 3000 AS all_rows FROM ivfflat_info('ivb_b');
CREATE INDEX ON ivb USING ivfflat (vb bit_hamming_ops);
CREATE INDEX ON ivb USING ivfflat (b bit_jaccard_ops);
DROP TABLE ivb;

-- unlogged
CREATE UNLOGGED TABLE ivu (v vector(3));
INSERT INTO ivu VALUES ('[0,0,0]'), ('[1,2,3]'), ('[1,1,1]');
CREATE INDEX ON ivu USING ivfflat (v vector_l2_ops) WITH (lists = 1);
SELECT v FROM ivu ORDER BY v <-> '[3,3,3]';
DROP TABLE ivu;

-- options, GUCs and limits, with pgvector's messages
CREATE TABLE ivo (v vector(3), b bit(3), s sparsevec(3), n vector);
CREATE INDEX ON ivo USING ivfflat (v vector_l2_ops) WITH (lists = 0);
CREATE INDEX ON ivo USING ivfflat (v vector_l2_ops) WITH (lists = 32769);
CREATE INDEX ON ivo USING ivfflat (s sparsevec_l2_ops);
CREATE INDEX ON ivo USING ivfflat (n vector_l2_ops);
SHOW ivfflat.probes;
SET ivfflat.probes = 0;
SET ivfflat.probes = 32769;
SHOW ivfflat.iterative_scan;
SET ivfflat.iterative_scan = on;
SHOW ivfflat.max_probes;
SET ivfflat.max_probes = 0;
DROP TABLE ivo;
CREATE TABLE ivd (v vector(2000), w vector(2001), h halfvec(4000), hh halfvec(4001));
CREATE INDEX ON ivd USING ivfflat (v vector_l2_ops);
CREATE INDEX ON ivd USING ivfflat (w vector_l2_ops);
CREATE INDEX ON ivd USING ivfflat (h halfvec_l2_ops);
CREATE INDEX ON ivd USING ivfflat (hh halfvec_l2_ops);
DROP TABLE ivd;
-- the sample (and the centers) must fit in maintenance_work_mem: 200 rows of 8 kB do not fit in 1 MB
SET maintenance_work_mem = '1MB';
CREATE TABLE ivm (v vector(2000));
INSERT INTO ivm VALUES (array_fill(0, ARRAY[2000]));
CREATE INDEX ON ivm USING ivfflat (v vector_l2_ops) WITH (lists = 10);
INSERT INTO ivm SELECT array_fill(i, ARRAY[2000]) FROM generate_series(1, 200) i;
CREATE INDEX ON ivm USING ivfflat (v vector_l2_ops) WITH (lists = 1);
RESET maintenance_work_mem;
DROP TABLE ivm;
