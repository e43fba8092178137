-- The vector type: text input/output, typmods, storage and binary round trips.
SELECT '[1,2,3]'::vector;
SELECT '[-1,2.5,-3e-2]'::vector;
SELECT ' [ 1,  2 ,    3  ] '::vector;
SELECT (E'\t[\n1,\r2\f,' || chr(11) || E'3]\n')::vector;
SELECT '[1.,2.,3.]'::vector;
SELECT '[1.5e38,-1.5e38]'::vector;
SELECT '[1.5e+38,-1.5e+38]'::vector;
SELECT '[1.5e-38,-1.5e-38]'::vector;
SELECT '[1e-46,1]'::vector;
SELECT '[-1e-46,1]'::vector;
SELECT '[0.1,0.2,0.3]'::vector;
SELECT '[123456789,100000,1000000,0.0001,0.00001,1234567]'::vector;
SELECT '[3.4028235e38,1.4e-45,-0]'::vector;
-- output is the shortest text that reads back as the same float4, exactly like real's output
SELECT v::text = format('[%s]', array_to_string(v::real[], ',')) AS same_as_real
  FROM (SELECT array_to_vector(ARRAY[pi(), 1/3.0, 1e-7, 2.5e15, -7.0/9, 1e30]::float8[], 6, true) AS v) s;
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2,3]'::vector(2);
SELECT '[1,2]'::vector(3, 2);
SELECT '[1,2]'::vector(0);
SELECT '[1,2]'::vector(16001);
SELECT '[1,2]'::vector(a);
-- rejected literals
SELECT '1,2,3'::vector;
SELECT ''::vector;
SELECT '[]'::vector;
SELECT '[ ]'::vector;
SELECT '['::vector;
SELECT '[ '::vector;
SELECT '[,'::vector;
SELECT '[,]'::vector;
SELECT '[1,]'::vector;
SELECT '[1a]'::vector;
SELECT '[1,,3]'::vector;
SELECT '[1, ,3]'::vector;
SELECT '[1,2,3'::vector;
SELECT '[hello,1]'::vector;
SELECT '[1,2,3]9'::vector;
SELECT '[NaN,1]'::vector;
SELECT '[Infinity,1]'::vector;
SELECT '[-Infinity,1]'::vector;
SELECT '[4e38,1]'::vector;
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector;
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::vector);
-- columns with and without typmod
CREATE TABLE t_vec (id int, v vector(3), any_v vector);
INSERT INTO t_vec VALUES (1, '[1,2,3]', '[1]'), (2, '[4,5,6]', '[1,2,3,4,5]'), (3, NULL, NULL);
INSERT INTO t_vec VALUES (4, '[1,2]', NULL);
UPDATE t_vec SET v = '[1,2,3,4]' WHERE id = 1;
SELECT * FROM t_vec ORDER BY id;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't_vec'::regclass AND attnum > 1 ORDER BY attnum;
SELECT typstorage, typname FROM pg_type WHERE typname = 'vector';
SELECT pg_column_size('[1,2,3]'::vector);
-- binary send/recv: wire format is int16 dim, int16 0, float4s in network order
SELECT vector_send('[1,-2,0.5]');
COPY (SELECT v FROM t_vec WHERE v IS NOT NULL ORDER BY id) TO '/tmp/embedding_regress_vec.bin' WITH (FORMAT binary);
CREATE TABLE t_vec_copy (v vector(3));
COPY t_vec_copy FROM '/tmp/embedding_regress_vec.bin' WITH (FORMAT binary);
SELECT * FROM t_vec_copy;
CREATE TABLE t_vec_copy2 (v vector(2));
COPY t_vec_copy2 FROM '/tmp/embedding_regress_vec.bin' WITH (FORMAT binary);
DROP TABLE t_vec, t_vec_copy, t_vec_copy2;
