-- Functions and element-wise operators on vectors.
SELECT vector_dims('[1,2,3]'::vector);
SELECT vector_norm('[3,4]');
SELECT vector_norm('[0,0]');
SELECT vector_norm('[1e30,1e30]');
SELECT l2_normalize('[3,4]'::vector);
SELECT l2_normalize('[0,0]'::vector);
SELECT l2_normalize('[3e-30,4e-30]'::vector);
SELECT '[1,2,3]'::vector + '[4,5,6]';
SELECT '[1,2,3]'::vector - '[4,5,6]';
SELECT '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector || '[3]';
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e38]'::vector * '[1e38]';
SELECT '[1e-38]'::vector * '[1e-38]';
SELECT '[1,2]'::vector + '[3]';
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::vector || '[1]';
SELECT subvector('[1,2,3,4,5]'::vector, 1, 3);
SELECT subvector('[1,2,3,4,5]'::vector, 3, 2);
SELECT subvector('[1,2,3,4,5]'::vector, -1, 3);
SELECT subvector('[1,2,3,4,5]'::vector, 3, 9);
SELECT subvector('[1,2,3,4,5]'::vector, 5, 2147483647);
SELECT subvector('[1,2,3,4,5]'::vector, 1, 0);
SELECT subvector('[1,2,3,4,5]'::vector, 6, 1);
SELECT subvector('[1,2,3,4,5]'::vector, -5, 2);
SELECT binary_quantize('[1,0,-1,2.5,-0.1,3,0,0,7]'::vector);
-- comparisons and the btree opclass
SELECT '[1,2,3]'::vector < '[1,2,4]', '[1,2,3]'::vector <= '[1,2,3]', '[1,2,3]'::vector = '[1,2,3]',
       '[1,2,3]'::vector <> '[1,2]', '[1,3]'::vector >= '[1,2,3]', '[1,2,3]'::vector > '[1,2]';
SELECT vector_cmp('[1,2]', '[1,2]'), vector_cmp('[1]', '[1,2]'), vector_cmp('[2]', '[1,2]');
CREATE TABLE t_cmp (v vector);
INSERT INTO t_cmp VALUES ('[1,2,3]'), ('[1,2]'), ('[0,5]'), ('[1,2,3]'), (NULL), ('[-1]');
SELECT v FROM t_cmp ORDER BY v;
SELECT DISTINCT v FROM t_cmp ORDER BY v;
SELECT v, count(*) FROM t_cmp GROUP BY v ORDER BY v;
CREATE UNIQUE INDEX ON t_cmp (v);
DELETE FROM t_cmp WHERE v = '[1,2,3]';
CREATE UNIQUE INDEX ON t_cmp (v);
INSERT INTO t_cmp VALUES ('[1,2,3]');
INSERT INTO t_cmp VALUES ('[1,2,3]');
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM t_cmp WHERE v = '[1,2]';
SELECT * FROM t_cmp WHERE v = '[1,2]';
RESET enable_seqscan;
DROP TABLE t_cmp;
-- volatility and parallel safety are declared as pgvector does
SELECT proname, provolatile, proisstrict, proparallel FROM pg_proc
  WHERE pronamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'embedding')
    AND proname IN ('l2_distance', 'inner_product', 'cosine_distance', 'l1_distance', 'vector_dims',
                    'vector_norm', 'l2_normalize', 'subvector', 'binary_quantize')
  ORDER BY proname;
