-- hnsw index DDL: options and their checks, every opclass, unsupported columns, NULL and zero
-- vectors, duplicates, unlogged tables, REINDEX, CREATE INDEX CONCURRENTLY, and the verifier.
SET enable_seqscan = off;
CREATE TABLE t (id int, v vector(3));
INSERT INTO t VALUES (1, '[1,1,1]'), (2, '[2,2,2]'), (3, '[1,1,2]'), (4, NULL), (5, '[0,0,0]'), (6, '[-1,-2,3]');
-- options
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (m = 1);
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (m = 101);
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (ef_construction = 3);
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (ef_construction = 1001);
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 31);
CREATE INDEX ON t USING hnsw (v vector_l2_ops) WITH (lists = 10);
CREATE INDEX ON t USING hnsw (v);
-- every opclass gives the exact order on a small table
CREATE INDEX t_l2 ON t USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
SELECT hnsw_verify('t_l2') LIKE 'ok:%' AS verified;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> '[1,1,1]' LIMIT 3;
SELECT id FROM t ORDER BY v <-> '[1,1,1]' LIMIT 10;
DROP INDEX t_l2;
CREATE INDEX t_ip ON t USING hnsw (v vector_ip_ops);
SELECT id FROM t ORDER BY v <#> '[1,1,1]' LIMIT 10;
DROP INDEX t_ip;
-- cosine: the zero vector is not indexed (its distance is NaN)
CREATE INDEX t_cos ON t USING hnsw (v vector_cosine_ops);
SELECT id FROM t ORDER BY v <=> '[1,1,1]' LIMIT 10;
-- a zero query has no direction: the indexed rows, in no particular order (as pgvector)
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <=> '[0,0,0]' LIMIT 10) s;
DROP INDEX t_cos;
CREATE INDEX t_l1 ON t USING hnsw (v vector_l1_ops);
SELECT id FROM t ORDER BY v <+> '[1,1,1]' LIMIT 10;
-- the index is only used for ORDER BY <op> ... LIMIT, ascending
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <+> '[1,1,1]' DESC LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM t WHERE v <+> '[1,1,1]' < 1;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> '[1,1,1]' LIMIT 3;
-- inserts after the build, NULLs, and a dimension mismatch
INSERT INTO t VALUES (7, '[1,1,1.5]'), (8, NULL);
SELECT id FROM t ORDER BY v <+> '[1,1,1]' LIMIT 3;
SELECT hnsw_verify('t_l1') LIKE 'ok:%' AS verified;
DROP TABLE t;
-- unsupported columns
CREATE TABLE t_nodim (v vector);
CREATE INDEX ON t_nodim USING hnsw (v vector_l2_ops);
DROP TABLE t_nodim;
CREATE TABLE t_big (v vector(2001));
CREATE INDEX ON t_big USING hnsw (v vector_l2_ops);
DROP TABLE t_big;
-- 2000 dimensions are indexable (element and neighbour list on separate pages)
CREATE TABLE t_2000 (id int, v vector(2000));
INSERT INTO t_2000 SELECT i, array_fill(i::real, ARRAY[2000])::vector FROM generate_series(1, 20) i;
CREATE INDEX ON t_2000 USING hnsw (v vector_l2_ops);
INSERT INTO t_2000 SELECT i, array_fill(i::real, ARRAY[2000])::vector FROM generate_series(21, 30) i;
SELECT id FROM t_2000 ORDER BY v <-> array_fill(25.2::real, ARRAY[2000])::vector LIMIT 3;
SELECT hnsw_verify('t_2000_v_idx') LIKE 'ok:%' AS verified;
DROP TABLE t_2000;
-- duplicates: 100 rows with one vector are all returned
CREATE TABLE t_dup (id int, v vector(2));
INSERT INTO t_dup SELECT i, '[1,1]' FROM generate_series(1, 100) i;
INSERT INTO t_dup SELECT 100 + i, ARRAY[i, i] FROM generate_series(2, 50) i;
CREATE INDEX ON t_dup USING hnsw (v vector_l2_ops);
SET hnsw.ef_search = 200;
SELECT count(*) FROM (SELECT id FROM t_dup ORDER BY v <-> '[1,1]' LIMIT 100) s WHERE id <= 100;
INSERT INTO t_dup SELECT 200 + i, '[1,1]' FROM generate_series(1, 20) i;
SELECT count(*) FROM (SELECT id FROM t_dup ORDER BY v <-> '[1,1]' LIMIT 120) s WHERE id <= 100 OR id > 200;
RESET hnsw.ef_search;
DROP TABLE t_dup;
-- a very common vector: 2,000 identical rows, found with the default ef_search even with m = 4
-- (autovacuum off: an automatic ANALYZE's snapshot would keep the VACUUM below from removing rows)
CREATE TABLE t_common (id int, v vector(3)) WITH (autovacuum_enabled = false);
INSERT INTO t_common SELECT i, CASE WHEN i <= 2000 THEN '[1,2,3]'::vector ELSE ARRAY[i, -i, 1]::vector END
  FROM generate_series(1, 2500) i;
CREATE INDEX t_common_idx ON t_common USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
SELECT count(*) FROM (SELECT id FROM t_common ORDER BY v <-> '[1,2,3]' LIMIT 2000) s WHERE id <= 2000;
SELECT hnsw_verify('t_common_idx') LIKE 'ok:%' AS verified;
DELETE FROM t_common WHERE id % 2 = 0;
VACUUM t_common;
SELECT count(*) FROM (SELECT id FROM t_common ORDER BY v <-> '[1,2,3]' LIMIT 2000) s WHERE id <= 2000;
DROP TABLE t_common;
-- unlogged tables use the init fork; REINDEX and CREATE INDEX CONCURRENTLY rebuild the graph
CREATE UNLOGGED TABLE t_unlogged (id int, v vector(2));
CREATE INDEX t_unlogged_idx ON t_unlogged USING hnsw (v vector_l2_ops);
INSERT INTO t_unlogged SELECT i, ARRAY[i, -i] FROM generate_series(1, 50) i;
SELECT id FROM t_unlogged ORDER BY v <-> '[10.1,-10]' LIMIT 3;
REINDEX INDEX t_unlogged_idx;
SELECT id FROM t_unlogged ORDER BY v <-> '[10.1,-10]' LIMIT 3;
DROP TABLE t_unlogged;
CREATE TABLE t_conc (id int, v vector(2));
INSERT INTO t_conc SELECT i, ARRAY[i, i * 2] FROM generate_series(1, 200) i;
CREATE INDEX CONCURRENTLY t_conc_idx ON t_conc USING hnsw (v vector_l2_ops);
SELECT id FROM t_conc ORDER BY v <-> '[100.1,200]' LIMIT 3;
REINDEX INDEX CONCURRENTLY t_conc_idx;
SELECT id FROM t_conc ORDER BY v <-> '[100.1,200]' LIMIT 3;
SELECT hnsw_verify('t_conc_idx') LIKE 'ok:%' AS verified;
SELECT hnsw_verify('t_conc');
DROP TABLE t_conc;
-- GUCs
SHOW hnsw.ef_search;
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SET hnsw.iterative_scan = strict_order;
SET hnsw.iterative_scan = bogus;
SHOW hnsw.max_scan_tuples;
SHOW hnsw.scan_mem_multiplier;
SET hnsw.unknown_setting = 1;
RESET ALL;
