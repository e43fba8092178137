-- sparsevec: the '{index:value,...}/dim' text form (1-based, any order, zeros dropped), its
-- errors, typmods, binary I/O, casts to and from the dense types, distances, norms and ordering.
SELECT v::sparsevec FROM (VALUES ('{1:1.5,3:2}/5'), (' { 3 : 2 , 1 : 1.5 } / 5 '), ('{}/3'),
  ('{2:0,1:1}/2'), ('{1000000000:1}/1000000000'), ('{1:1e-45}/1')) t(v);
SELECT '{1:1,1:2}/3'::sparsevec;
SELECT '{0:1}/3'::sparsevec;
SELECT '{4:1}/3'::sparsevec;
SELECT '{-2147483649:1}/3'::sparsevec;
SELECT '{1:1}/0'::sparsevec;
SELECT '{1:1}/1000000001'::sparsevec;
SELECT '{1:nan}/3'::sparsevec;
SELECT '{1:inf}/3'::sparsevec;
SELECT '{1:1e39}/3'::sparsevec;
SELECT '{1:1e-46}/3'::sparsevec;
SELECT '{1:1}'::sparsevec;
SELECT '{1:1}/3x'::sparsevec;
SELECT '[1,2]'::sparsevec;
SELECT '{1}/3'::sparsevec;
SELECT '{1:}/3'::sparsevec;
SELECT '{:1}/3'::sparsevec;
SELECT ('{' || string_agg(i || ':1', ',') || '}/20000')::sparsevec FROM generate_series(1, 16001) i;
SELECT '{1:1}/3'::sparsevec(3), '{}/2'::sparsevec(2);
SELECT '{1:1}/3'::sparsevec(2);
SELECT '{1:1}/3'::sparsevec(0);
SELECT '{1:1}/3'::sparsevec(1000000001);

-- casts
SELECT '[0,1.5,0,3.5,0]'::vector::sparsevec, '{2:1.5,4:3.5}/5'::sparsevec::vector,
       '[0,1.5,0]'::halfvec::sparsevec, '{2:1.5}/3'::sparsevec::halfvec,
       '{0,2,0,4}'::int[]::sparsevec, '{0,2.5}'::real[]::sparsevec, '{1e-3,0}'::float8[]::sparsevec,
       '{0,1.25}'::numeric[]::sparsevec;
SELECT '[1,0,2]'::vector::sparsevec(4);
SELECT '{1:1}/16001'::sparsevec::vector;
SELECT '{1:1}/16001'::sparsevec::halfvec;
SELECT '{1:70000}/2'::sparsevec::halfvec;
SELECT '{1,NaN}'::real[]::sparsevec;
SELECT '{1,NULL}'::int[]::sparsevec;
SELECT '{{1,2}}'::int[]::sparsevec;
SELECT array_fill(1, ARRAY[16001])::sparsevec;
SELECT castcontext, castsource::regtype, casttarget::regtype FROM pg_cast
  WHERE castsource = 'sparsevec'::regtype OR casttarget = 'sparsevec'::regtype ORDER BY 2, 3;

-- binary I/O round trip, and the wire form
CREATE TABLE sv (id int, v sparsevec(6));
INSERT INTO sv VALUES (1, '{1:1,6:-2}/6'), (2, '{}/6'), (3, '{3:0.5}/6'), (4, '{1:1,2:1,3:1,4:1,5:1,6:1}/6');
COPY sv TO '/tmp/embedding_sparsevec.bin' WITH (FORMAT binary);
CREATE TABLE sv2 (LIKE sv);
COPY sv2 FROM '/tmp/embedding_sparsevec.bin' WITH (FORMAT binary);
SELECT count(*) AS same FROM sv JOIN sv2 USING (id) WHERE sv.v = sv2.v AND sv.v::text = sv2.v::text;
SELECT sparsevec_send('{2:1.5,4:-1}/5');

-- distances: against the same vectors as `vector`, through the merge of both index lists
SELECT a, b,
       l2_distance(a, b) = l2_distance(a::vector, b::vector) AS l2,
       inner_product(a, b) = inner_product(a::vector, b::vector) AS ip,
       a <#> b = a::vector <#> b::vector AS neg_ip,
       l1_distance(a, b) = l1_distance(a::vector, b::vector) AS l1,
       (cosine_distance(a, b) = cosine_distance(a::vector, b::vector) -- NaN = NaN in SQL
        OR abs(cosine_distance(a, b) - cosine_distance(a::vector, b::vector)) < 1e-6) AS cos,
       a <-> b AS dist
FROM (VALUES ('{1:1,3:2}/4'::sparsevec, '{2:1,3:1,4:3}/4'::sparsevec), ('{}/4', '{1:3,4:4}/4'),
             ('{1:1,2:2,3:3,4:4}/4', '{1:1,2:2,3:3,4:4}/4'), ('{4:-1}/4', '{1:1}/4')) t(a, b);
SELECT cosine_distance('{}/2'::sparsevec, '{1:1}/2'), '{1:1}/2'::sparsevec <=> '{2:1}/2',
       '{1:1}/2'::sparsevec <+> '{2:1}/2';
SELECT l2_distance('{1:1}/2'::sparsevec, '{1:1}/3');
SELECT inner_product('{1:1}/2'::sparsevec, '{1:1}/3');
SELECT l2_norm('{1:3,7:4}/9'::sparsevec), l2_norm('{}/3'::sparsevec),
       l2_normalize('{1:3,7:4}/9'::sparsevec), l2_normalize('{}/3'::sparsevec),
       l2_normalize('{1:1e38,2:1e-38}/2'::sparsevec);

-- ordering equals the dense vectors' order (then by dimension)
SELECT a, b, sparsevec_cmp(a, b), a < b AS lt, a = b AS eq, a > b AS gt,
       CASE WHEN vector_dims(a::vector) = vector_dims(b::vector) THEN vector_cmp(a::vector, b::vector) END AS dense
FROM (VALUES ('{1:1}/3'::sparsevec, '{1:1}/3'::sparsevec), ('{1:1}/3', '{2:1}/3'), ('{2:-1}/3', '{}/3'),
             ('{3:1}/3', '{}/3'), ('{1:1}/3', '{1:1}/4'), ('{4:1}/4', '{1:1}/3'),
             ('{1:1,3:-1}/3', '{1:1}/3')) t(a, b);
CREATE INDEX ON sv (v);
SET enable_seqscan = off;
SELECT v FROM sv ORDER BY v;
SELECT id FROM sv WHERE v = '{3:0.5}/6';
RESET enable_seqscan;
DROP TABLE sv, sv2;
