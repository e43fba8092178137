-- avg and sum over vectors, including parallel plans that use the combine functions.
SELECT avg(v) FROM unnest(ARRAY['[1,2,3]', '[3,5,7]']::vector[]) v;
SELECT avg(v) FROM unnest(ARRAY['[1,2,3]', NULL, '[3,5,7]']::vector[]) v;
SELECT avg(v) FROM unnest(ARRAY[]::vector[]) v;
SELECT avg(v) FROM unnest(ARRAY[NULL]::vector[]) v;
SELECT sum(v) FROM unnest(ARRAY['[1,2,3]', '[3,5,7]', NULL]::vector[]) v;
SELECT sum(v) FROM unnest(ARRAY[]::vector[]) v;
SELECT avg(v) FROM unnest(ARRAY['[1,2]', '[1]']::vector[]) v;
SELECT sum(v) FROM unnest(ARRAY['[1,2]', '[1]']::vector[]) v;
SELECT avg(v) FROM unnest(ARRAY['[3e38]', '[3e38]']::vector[]) v;
SELECT sum(v) FROM unnest(ARRAY['[3e38]', '[3e38]']::vector[]) v;
SELECT avg(v) FROM unnest(ARRAY['[1e30]', '[-1e30]', '[2]']::vector[]) v;
SELECT g, avg(v), sum(v) FROM (VALUES (1, '[1,1]'::vector), (1, '[3,3]'), (2, '[10,0]')) t(g, v)
  GROUP BY g ORDER BY g;
-- parallel aggregation gives the same answer as serial
CREATE TABLE t_agg (v vector(4));
INSERT INTO t_agg SELECT ARRAY[i % 7, i % 11, -(i % 13), 1]::vector FROM generate_series(1, 200000) i;
ANALYZE t_agg;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM t_agg;
SELECT avg(v), sum(v) FROM t_agg;
SET max_parallel_workers_per_gather = 0;
SELECT avg(v), sum(v) FROM t_agg;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE t_agg;
