-- ivf_rabitq_sql_probe.sql: buffer accesses, execution ms and recall@10 of a plain and a quantised ivfflat
-- index (issue 23) on the same synthetic rows, per ivfflat.probes. psql -f on a database with the extension.
DROP TABLE IF EXISTS bp, bq;
CREATE TABLE bp (id int, v vector(128));
INSERT INTO bp SELECT i, (SELECT array_agg(d * 0 + i * 0 + (i % 50) + random() * 8)
                          FROM generate_series(1, 128) d)::vector(128) FROM generate_series(1, 50000) i;
CREATE TABLE bq AS SELECT * FROM bp;
SET maintenance_work_mem = '512MB';
CREATE INDEX bp_v ON bp USING ivfflat (v vector_l2_ops) WITH (lists = 100);
CREATE INDEX bq_v ON bq USING ivfflat (v vector_l2_ops) WITH (lists = 100, quantization = 'rabitq');
SELECT pg_relation_size('bp_v') / 8192 AS plain_pages, pg_relation_size('bq_v') / 8192 AS rabitq_pages;
-- 50 queries (rows of the table); blocks = shared hit + read of the plan, averaged.
CREATE OR REPLACE FUNCTION bq_measure(tbl text, probes int, OUT blocks numeric, OUT ms numeric, OUT recall numeric) LANGUAGE plpgsql AS $$
DECLARE q record; plan json; b numeric := 0; t numeric := 0; hits int := 0; got int[]; truth int[];
BEGIN
  EXECUTE format('SET LOCAL ivfflat.probes = %s', probes);
  FOR q IN SELECT id, v FROM bp WHERE id % 1000 = 7 LOOP
    SET LOCAL enable_seqscan = off;
    EXECUTE format('EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT id FROM %I ORDER BY v <-> %L LIMIT 10', tbl, q.v::text) INTO plan;
    b := b + (plan->0->'Plan'->>'Shared Hit Blocks')::numeric + (plan->0->'Plan'->>'Shared Read Blocks')::numeric;
    t := t + (plan->0->>'Execution Time')::numeric;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY v <-> %L LIMIT 10) s', tbl, q.v::text) INTO got;
    SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = off;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY v <-> %L LIMIT 10) s', tbl, q.v::text) INTO truth;
    SET LOCAL enable_indexscan = on;
    hits := hits + (SELECT count(*) FROM unnest(got) g WHERE g = ANY(truth));
  END LOOP;
  blocks := round(b / 50, 1); ms := round(t / 50, 3); recall := round(hits / 500.0, 3);
END $$;
SELECT 'plain' idx, p, (bq_measure('bp', p)).* FROM unnest(ARRAY[1,3,10]) p
UNION ALL SELECT 'rabitq', p, (bq_measure('bq', p)).* FROM unnest(ARRAY[1,3,10]) p;
SET ivfflat.quantized_epsilon = 1.9;
SELECT 'rabitq eps 1.9' idx, p, (bq_measure('bq', p)).* FROM unnest(ARRAY[1,3,10]) p;
DROP TABLE bp, bq;
DROP FUNCTION bq_measure;
