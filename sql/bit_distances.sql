-- pgvector's distances on bit strings: hamming (<~>) and jaccard (<%>), their length check, and
-- the whole-word and tail paths of the popcount kernels.
SELECT a, b, hamming_distance(a, b), a <~> b AS op_h, jaccard_distance(a, b), a <%> b AS op_j
FROM (VALUES (B'111', B'111'), (B'111', B'110'), (B'111', B'100'), (B'111', B'000'),
             (B'000', B'000'), (B'1010', B'0101'), (B'1100', B'1010')) t(a, b);
SELECT hamming_distance(B'111', B'11');
SELECT jaccard_distance(B'111', B'11');
SELECT B'1' <~> B'10';
-- long strings: 8-byte words, then a tail of 3 bytes and 5 bits
SELECT hamming_distance(a, b), round(jaccard_distance(a, b)::numeric, 6)
FROM (SELECT string_agg(CASE WHEN i % 3 = 0 THEN '1' ELSE '0' END, '')::varbit::bit(157) AS a,
             string_agg(CASE WHEN i % 5 = 0 THEN '1' ELSE '0' END, '')::varbit::bit(157) AS b
      FROM generate_series(1, 157) i) t;
-- what they count, by another route: bit_count over xor, and, or
SELECT bit_count(a # b) AS xor, bit_count(a & b) AS both, bit_count(a | b) AS either
FROM (SELECT string_agg(CASE WHEN i % 3 = 0 THEN '1' ELSE '0' END, '')::varbit::bit(157) AS a,
             string_agg(CASE WHEN i % 5 = 0 THEN '1' ELSE '0' END, '')::varbit::bit(157) AS b
      FROM generate_series(1, 157) i) t;
-- binary_quantize gives bit strings these operators take
SELECT binary_quantize('[1,-1,2,-2]'::vector) <~> binary_quantize('[1,1,-2,-2]'::halfvec);
