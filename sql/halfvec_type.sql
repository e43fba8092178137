-- halfvec: input and output (rounding to half, range, syntax errors), typmods, casts, arithmetic
-- with half overflow, comparisons, distances, functions and aggregates, as pgvector defines them.
SELECT v::halfvec FROM (VALUES ('[1,2,3]'), (' [ -1.5 ,2e2, 3. ] '), ('[0.1]'), ('[65504]'),
  ('[65519.99]'), ('[1e-8,-1e-8]'), ('[6e-8]'), ('[1e-46]')) t(v);
-- each of these is an error with pgvector's message
SELECT '[65520]'::halfvec;
SELECT '[-1e5]'::halfvec;
SELECT '[4e38]'::halfvec;
SELECT '[nan]'::halfvec;
SELECT '[-inf,1]'::halfvec;
SELECT '[1,2'::halfvec;
SELECT '1,2'::halfvec;
SELECT '[1,2]x'::halfvec;
SELECT '[1,,2]'::halfvec;
SELECT '[]'::halfvec;
SELECT '[1a]'::halfvec;
SELECT ''::halfvec;
SELECT array_fill(1, ARRAY[16001])::halfvec;

-- typmods
SELECT '[1,2]'::halfvec(2), '{"[1,2]"}'::halfvec(2)[];
SELECT '[1,2]'::halfvec(3);
SELECT '[1]'::halfvec(0);
SELECT '[1]'::halfvec(16001);
SELECT '[1]'::halfvec(1, 2);
CREATE TABLE hv (id int, v halfvec(3));
INSERT INTO hv VALUES (1, '[1,2,3]'), (2, '[1,2]');
INSERT INTO hv VALUES (2, '{4,5,6}'::int[]), (3, '{7.5,8,9}'::real[]), (4, '{1e-3,2,3}'::float8[]),
  (5, '{0.5,1.5,2.5}'::numeric[]), (6, '[-1,0,1]'::vector);
INSERT INTO hv VALUES (7, '{1,NULL,3}'::int[]);
INSERT INTO hv VALUES (7, '{70000,1,1}'::real[]);
INSERT INTO hv VALUES (7, '{{1,2,3}}'::real[]);
INSERT INTO hv VALUES (7, '{1,Infinity,3}'::float8[]);
SELECT id, v, v::vector, v::real[] FROM hv ORDER BY id;

-- casts between vector and halfvec: the implicit direction and the assignment one
SELECT '[1.2345678,1e-7]'::vector::halfvec, '[1,2]'::halfvec::vector(2);
SELECT '[1e5]'::vector::halfvec;
SELECT castcontext, castsource::regtype, casttarget::regtype FROM pg_cast
  WHERE castsource = 'halfvec'::regtype OR casttarget = 'halfvec'::regtype ORDER BY 2, 3;

-- binary I/O round trip
COPY hv TO '/tmp/embedding_halfvec.bin' WITH (FORMAT binary);
CREATE TABLE hv2 (LIKE hv);
COPY hv2 FROM '/tmp/embedding_halfvec.bin' WITH (FORMAT binary);
SELECT count(*) AS same FROM hv JOIN hv2 USING (id) WHERE hv.v = hv2.v AND hv.v::text = hv2.v::text;
SELECT halfvec_send('[1,-2,0.5]');

-- arithmetic: computed in float, rounded to half; overflow and underflow are errors
SELECT '[1,2,3]'::halfvec + '[4,5,6]', '[1,2,3]'::halfvec - '[4,5,6]', '[1,2,3]'::halfvec * '[4,5,6]',
       '[1,2]'::halfvec || '[3]';
SELECT '[65504]'::halfvec + '[65504]';
SELECT '[-65504]'::halfvec - '[65504]';
SELECT '[300]'::halfvec * '[300]';
SELECT '[1e-4]'::halfvec * '[1e-4]';
SELECT '[1,2]'::halfvec + '[1]';
SELECT array_fill(1, ARRAY[16000])::halfvec || '[1]';

-- comparisons: by element, then by length
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne, a >= b AS ge, a > b AS gt,
       halfvec_cmp(a, b)
FROM (VALUES ('[1,2,3]'::halfvec, '[1,2,3]'::halfvec), ('[1,2,3]', '[1,2]'), ('[1,2]', '[2,3,4]'),
             ('[0,0,0]', '[1,2,3]'), ('[-0]', '[0]')) t(a, b);

-- distances (float8 results) and their operators
SELECT l2_distance(a, b), a <-> b, inner_product(a, b), a <#> b, cosine_distance(a, b), a <=> b,
       l1_distance(a, b), a <+> b
FROM (VALUES ('[0,0]'::halfvec, '[3,4]'::halfvec), ('[1,2]', '[2,4]'), ('[1,1]', '[-1,-1]'),
             ('[1,2]', '[0,0]'), ('[65504]', '[65504]')) t(a, b);
SELECT l2_distance('[1,2]'::halfvec, '[1]');
SELECT cosine_distance('[1,2]'::halfvec, '[1]');
SELECT inner_product('[1,2]'::halfvec, '[1]');
SELECT l1_distance('[1,2]'::halfvec, '[1]');
-- nine elements: the kernels' vector body and tail both count
SELECT l2_distance('[1,1,1,1,1,1,1,1,1]'::halfvec, '[1,1,1,1,1,1,1,4,5]'),
       cosine_distance('[1,2,3,4,5,6,7,8,9]'::halfvec, '[-1,-2,-3,-4,-5,-6,-7,-8,-9]'),
       l1_distance('[1,2,3,4,5,6,7,8,9]'::halfvec, '[0,3,2,5,4,7,6,9,8]');

-- functions
SELECT vector_dims('[1,2,3]'::halfvec), l2_norm('[3,4]'::halfvec), l2_norm('[0,0]'::halfvec),
       l2_normalize('[3,4]'::halfvec), l2_normalize('[0,0]'::halfvec), l2_normalize('[65504]'::halfvec);
SELECT binary_quantize('[1,0,-1,0.5,2,-3,4,5,6]'::halfvec);
SELECT subvector('[1,2,3,4,5]'::halfvec, 2, 3), subvector('[1,2,3,4,5]'::halfvec, -1, 3),
       subvector('[1,2,3,4,5]'::halfvec, 4, 2147483647);
SELECT subvector('[1,2,3,4,5]'::halfvec, 3, 0);
SELECT subvector('[1,2,3,4,5]'::halfvec, 6, 1);
SELECT subvector('[1,2,3,4,5]'::halfvec, -2147483644, 2147483647);

-- aggregates
SELECT avg(v), sum(v) FROM hv;
SELECT avg(v) FROM unnest(ARRAY['[65504]'::halfvec, '[65504]', '[65504]']) v;
SELECT sum(v) FROM unnest(ARRAY['[65504]'::halfvec, '[65504]']) v;
SELECT avg(v) FROM unnest(ARRAY['[1,2]'::halfvec, '[1]']) v;
SELECT avg(v) IS NULL FROM unnest(ARRAY[]::halfvec[]) v;
-- the final function refuses states whose mean is not a halfvec element
SELECT halfvec_avg('{2,2,4,6}'), halfvec_avg('{0}') IS NULL;
SELECT halfvec_avg('{1,NaN}');
SELECT halfvec_avg('{1,1e300}');
SELECT halfvec_avg('{1,1e5}');
SELECT halfvec_avg('{{1,2}}');
SELECT vector_avg('{1,NaN,NaN,NaN}');
SELECT vector_avg('{1,1e300}');
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
CREATE TABLE hv_agg AS SELECT i % 5 AS g, ARRAY[i, -i, i % 3]::halfvec AS v FROM generate_series(1, 3000) i;
ALTER TABLE hv_agg SET (parallel_workers = 2);
SELECT avg(v), sum(v::vector) FROM hv_agg;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

-- btree: ORDER BY, DISTINCT, UNIQUE, merge joins
CREATE INDEX ON hv (v);
SET enable_seqscan = off;
SELECT v FROM hv WHERE v = '[4,5,6]';
SELECT v FROM hv ORDER BY v;
RESET enable_seqscan;
CREATE UNIQUE INDEX ON hv2 (v);
INSERT INTO hv2 VALUES (99, '[4,5,6]');
DROP TABLE hv, hv2, hv_agg;
