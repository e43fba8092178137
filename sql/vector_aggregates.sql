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
-- No row in a parallel plan: each worker's partial aggregate is the initial state, the leader
-- combines empty states, and avg and sum return NULL (pgvector's 018_aggregates), for every type.
-- (Not analyzed, so the planner expects rows and chooses partial aggregates.)
CREATE TABLE t_agg_empty (r float8, v vector(3), h halfvec(3)) WITH (autovacuum_enabled = off);
INSERT INTO t_agg_empty SELECT i, ARRAY[i, 1, 2], ARRAY[i, 1, 2] FROM generate_series(1, 1000) i;
SET force_parallel_mode = on;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v), avg(h), sum(h) FROM t_agg_empty WHERE r < 0;
SELECT avg(v), sum(v), avg(h), sum(h) FROM t_agg_empty WHERE r < 0;
SELECT avg(v), sum(v), avg(h), sum(h) FROM t_agg_empty WHERE r < 3;
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE t_agg_empty;
SELECT vector_combine('{0}', '{0}'), halfvec_combine('{0}', '{0}');
SELECT vector_avg(vector_combine('{0}', '{0}')) IS NULL AS avg_null,
       halfvec_avg(halfvec_combine('{0}', '{0}')) IS NULL AS havg_null;
SELECT vector_combine('{0}', '{2,1,3}'), vector_combine('{2,1,3}', '{0}'), halfvec_combine('{0}', '{1,4}');
-- The aggregate's support functions check their state as pgvector's do, with its messages.
SELECT vector_avg('{2,2,4,6}');
SELECT vector_avg('{0}');
SELECT vector_avg('{1}');
SELECT vector_avg('{{2,2,4,6}}');
SELECT vector_avg('{NULL,2,4,6}');
SELECT vector_avg('{}');
SELECT vector_avg(array_agg(n)) FROM generate_series(1, 16002) n;
SELECT vector_accum('{0}', '[1,2,3]');
SELECT vector_accum('{0,0,0,0}', '[1,2,3]');
SELECT vector_accum('{{0}}', '[1,2,3]');
SELECT vector_accum('{NULL}', '[1,2,3]');
SELECT vector_accum('{}', '[1,2,3]');
SELECT vector_accum('{0,0}', '[1,2,3]');
SELECT vector_combine('{1,2}', '{3,4}');
SELECT vector_combine('{{1,2}}', '{3,4}');
SELECT vector_combine('{1,2}', '{{3,4}}');
SELECT vector_combine('{NULL,2}', '{3,4}');
SELECT vector_combine('{1,2}', '{3,NULL}');
SELECT vector_combine('{}', '{0}');
SELECT vector_combine('{0}', '{}');
SELECT vector_combine('{0}', '{0}');
SELECT vector_combine('{0}', (SELECT array_agg(n) FROM generate_series(1, 16002) n)) IS NULL;
SELECT vector_combine((SELECT array_agg(n) FROM generate_series(1, 16002) n), '{0}') IS NULL;
