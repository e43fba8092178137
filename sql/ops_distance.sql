-- Distance operators and functions, compared with exact arithmetic on small inputs.
SELECT '[1,2,3]'::vector <-> '[3,2,1]' AS l2;
SELECT l2_distance('[0,0]'::vector, '[3,4]');
SELECT '[1,2,3]'::vector <#> '[3,2,1]' AS neg_ip;
SELECT inner_product('[1,2,3]'::vector, '[3,2,1]');
SELECT '[1,2]'::vector <=> '[2,4]' AS cos_same_direction;
SELECT '[1,0]'::vector <=> '[0,1]' AS cos_orthogonal;
SELECT '[1,1]'::vector <=> '[-1,-1]' AS cos_opposite;
SELECT cosine_distance('[1,2,3]'::vector, '[3,2,1]');
SELECT '[0,0]'::vector <=> '[1,1]' AS cos_zero_is_nan;
SELECT '[1,2,3]'::vector <+> '[3,2,1]' AS l1;
SELECT l1_distance('[1,-2]'::vector, '[-1,2]');
SELECT vector_l2_squared_distance('[1,2,3]', '[3,2,1]');
SELECT vector_negative_inner_product('[1,2,3]', '[3,2,1]');
SELECT round(vector_spherical_distance('[1,0]', '[0,1]')::numeric, 6);
-- huge and tiny magnitudes keep full precision (no float4 overflow or underflow)
SELECT '[1e38,-1e38]'::vector <-> '[-1e38,1e38]' AS huge_l2;
SELECT '[3e-30,4e-30]'::vector <-> '[0,0]' AS tiny_l2;
SELECT '[1e30,1e30]'::vector <=> '[1e30,1e30]' AS huge_cos;
SELECT inner_product('[1e30]'::vector, '[1e30]') AS huge_ip;
-- longer vectors agree with a float8 computation in SQL
WITH v AS (
  SELECT array_agg(sin(i)::real ORDER BY i) AS a, array_agg(cos(i * 0.7)::real ORDER BY i) AS b
  FROM generate_series(1, 1537) i
), exact AS (
  SELECT sqrt(sum((x - y)^2)) AS l2, sum(x * y) AS ip, sum(abs(x - y)) AS l1,
         1 - sum(x * y) / sqrt(sum(x * x) * sum(y * y)) AS cos
  FROM v, unnest(a::float8[], b::float8[]) AS u(x, y)
)
SELECT abs((a::vector <-> b::vector) - l2) < 1e-4 * l2 AS l2_ok,
       abs(inner_product(a::vector, b::vector) - ip) < 1e-4 * abs(ip) + 1e-3 AS ip_ok,
       abs((a::vector <+> b::vector) - l1) < 1e-4 * l1 AS l1_ok,
       abs((a::vector <=> b::vector) - cos) < 1e-5 AS cos_ok
  FROM v, exact;
-- dimension mismatch
SELECT '[1,2]'::vector <-> '[1]';
SELECT '[1,2]'::vector <#> '[1]';
SELECT '[1,2]'::vector <=> '[1]';
SELECT '[1,2]'::vector <+> '[1]';
-- NULLs (functions are strict)
SELECT NULL::vector <-> '[1]' IS NULL AS null_in_null_out;
-- nearest-neighbour ordering with each operator
CREATE TABLE t_items (id int, v vector(3));
INSERT INTO t_items VALUES (1, '[1,1,1]'), (2, '[2,2,2]'), (3, '[1,1,2]'), (4, NULL), (5, '[-1,-1,-1]');
SELECT id FROM t_items ORDER BY v <-> '[1,1,1]', id;
SELECT id FROM t_items ORDER BY v <#> '[1,1,1]', id;
SELECT id FROM t_items ORDER BY v <=> '[1,1,1]', id;
SELECT id FROM t_items ORDER BY v <+> '[1,1,1]', id;
DROP TABLE t_items;
