-- What pgvector's own hnsw tests check, ported: NULL and zero query vectors, duplicates inserted
-- one by one, index scans counted in the statistics, hnsw_verify's privileges and its verdict
-- on an invalid index, and the planner's choices under filters, LIMIT, joins and partial
-- indexes (pgvector 0.8.6 test/sql/hnsw_vector.sql, test/t/015, 017 and 039).
SET enable_seqscan = off;
CREATE TABLE t (val vector(3));
INSERT INTO t (val) VALUES ('[0,0,0]'), ('[1,2,3]'), ('[1,1,1]'), (NULL);
CREATE INDEX t_l2 ON t USING hnsw (val vector_l2_ops);
CREATE INDEX t_ip ON t USING hnsw (val vector_ip_ops);
CREATE INDEX t_cos ON t USING hnsw (val vector_cosine_ops);
CREATE INDEX t_l1 ON t USING hnsw (val vector_l1_ops);
INSERT INTO t (val) VALUES ('[1,2,4]');
-- A NULL query returns every indexed row (in no particular order), as pgvector does.
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> (SELECT NULL::vector)) t2;
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <#> (SELECT NULL::vector)) t2;
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <+> (SELECT NULL::vector)) t2;
-- Under cosine the zero vector is not indexed; a zero or NULL query returns the other rows.
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <=> '[0,0,0]') t2;
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <=> (SELECT NULL::vector)) t2;
SELECT * FROM t CROSS JOIN LATERAL (SELECT * FROM t t2 ORDER BY val <=> t.val LIMIT 1) t2
  WHERE t.val != '[0,0,0]' ORDER BY t.val;
-- Index scans are counted, as for every PostgreSQL index.
SELECT pg_stat_force_next_flush();
SELECT idx_scan AS before FROM pg_stat_user_indexes WHERE indexrelname = 't_l2' \gset
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> '[3,3,3]' LIMIT 2) t2;
SELECT COUNT(*) FROM (SELECT * FROM t ORDER BY val <-> '[1,1,1]' LIMIT 2) t2;
SELECT pg_stat_force_next_flush();
SELECT pg_stat_clear_snapshot();
SELECT idx_scan - :before AS counted FROM pg_stat_user_indexes WHERE indexrelname = 't_l2';
DROP TABLE t;
-- Identical vectors inserted one by one share an element, so each stays reachable.
CREATE TABLE dup (i int, v vector(3));
CREATE INDEX dup_idx ON dup USING hnsw (v vector_l2_ops);
INSERT INTO dup VALUES (1, '[1,1,1]');
INSERT INTO dup VALUES (2, '[1,1,1]');
INSERT INTO dup VALUES (3, '[1,1,1]');
INSERT INTO dup VALUES (4, '[1,1,1]');
INSERT INTO dup VALUES (5, '[1,1,1]');
INSERT INTO dup VALUES (6, '[1,1,1]');
INSERT INTO dup VALUES (7, '[1,1,1]');
INSERT INTO dup VALUES (8, '[1,1,1]');
INSERT INTO dup VALUES (9, '[1,1,1]');
INSERT INTO dup VALUES (10, '[1,1,1]');
SET hnsw.ef_search = 1;
SELECT COUNT(*) FROM (SELECT * FROM dup ORDER BY v <-> '[1,1,1]') t2;
RESET hnsw.ef_search;
SELECT hnsw_verify('dup_idx') LIKE 'ok:%' AS verified;
-- hnsw_verify is for roles that may read the table.
CREATE ROLE regress_hnsw_reader;
SET ROLE regress_hnsw_reader;
SELECT hnsw_verify('dup_idx');
RESET ROLE;
GRANT SELECT ON dup TO regress_hnsw_reader;
SET ROLE regress_hnsw_reader;
SELECT hnsw_verify('dup_idx') LIKE 'ok:%' AS verified;
RESET ROLE;
REVOKE SELECT ON dup FROM regress_hnsw_reader;
DROP ROLE regress_hnsw_reader;
SELECT hnsw_verify('dup');
-- An invalid index (what a cancelled CREATE INDEX CONCURRENTLY leaves) is reported as such.
UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'dup_idx'::regclass;
SELECT hnsw_verify('dup_idx');
UPDATE pg_index SET indisvalid = true WHERE indexrelid = 'dup_idx'::regclass;
DROP TABLE dup;
RESET enable_seqscan;
-- The planner sees what pgvector's cost estimate shows it: the selectivity of other quals,
-- LIMIT, m from the index.
SELECT setseed(0.5);
CREATE TABLE tst (i int4, v vector(3), c int4, t text);
CREATE TABLE cat (i int4 PRIMARY KEY, t text, b boolean);
INSERT INTO tst SELECT i, ARRAY[random(), random(), random()], i % 50, 'test ' || i
  FROM generate_series(1, 10000) i;
INSERT INTO cat SELECT i, 'cat ' || i, i % 5 = 0 FROM generate_series(1, 50) i;
CREATE INDEX idx ON tst USING hnsw (v vector_l2_ops);
ANALYZE tst;
ANALYZE cat;
-- A filter that keeps 1 row in 50: another plan, which returns all 20 rows.
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE c = 7 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
SELECT COUNT(*) FROM (SELECT i FROM tst WHERE c = 7 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20) s;
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE c < 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE t LIKE '%other%' ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
-- Filters that remove few rows, and distance filters: the index.
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE c != 7 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE c >= 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE t LIKE '%test%' ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE v <-> '[0.5,0.5,0.5]' < 1 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
-- No ORDER BY, or no LIMIT: a seq scan.
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE v <-> '[0.5,0.5,0.5]' < 1;
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE v <-> '[0.5,0.5,0.5]' < 1 ORDER BY v <-> '[0.5,0.5,0.5]';
-- Joins.
EXPLAIN (COSTS OFF) SELECT cat.t FROM cat INNER JOIN tst ON cat.i = tst.c ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
EXPLAIN (COSTS OFF) SELECT cat.t FROM cat INNER JOIN tst ON cat.i = tst.c WHERE cat.b = 't' ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
-- A btree on the filtered column, then a partial hnsw index for that value.
CREATE INDEX attribute_idx ON tst (c);
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE c = 7 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
CREATE INDEX partial_idx ON tst USING hnsw (v vector_l2_ops) WHERE (c = 7);
EXPLAIN (COSTS OFF) SELECT i FROM tst WHERE c = 7 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20;
SELECT COUNT(*) FROM (SELECT i FROM tst WHERE c = 7 ORDER BY v <-> '[0.5,0.5,0.5]' LIMIT 20) s;
DROP TABLE tst, cat;
