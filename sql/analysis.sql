-- Analysis in SQL: PCA and k-means models in the model store, silhouette, the SVG map (checked
-- by xmllint), evaluation of similarity, analogies and retrieval, and index_recall; with the
-- errors and privileges. Values that depend on float rounding are rounded. In a database of its
-- own: fitted models stay in the store (dropped models keep their names reserved).
\set regress_db :DBNAME
CREATE DATABASE regress_analysis;
\c regress_analysis
SET client_min_messages = warning;
CREATE EXTENSION embedding;
RESET client_min_messages;
CREATE TABLE analysis_points (id int, v vector(3), label text);
-- Three well-separated groups along x, a little spread on y and z.
INSERT INTO analysis_points
  SELECT i, ARRAY[(i % 3) * 10 + (i % 7) * 0.1, (i % 5) * 0.1, (i % 11) * 0.01]::vector, 'g' || (i % 3)
  FROM generate_series(1, 300) i;

-- PCA: the first component carries the groups' spread along x.
SELECT round(pca_fit('analysis_pca', 'SELECT v FROM analysis_points', 2)::numeric, 4) AS kept;
SELECT component, round(explained_variance_ratio::numeric, 4), round(cumulative::numeric, 4)
  FROM pca_info('analysis_pca');
-- The mean projects to the origin; a unit step along x to about +-1 on the first component.
SELECT round(abs((pca_project('analysis_pca', avg(v))::real[])[1])::numeric, 4) AS mean_first,
       round(abs((pca_project('analysis_pca', avg(v) + '[1,0,0]'::vector)::real[])[1])::numeric, 3) AS step
  FROM analysis_points;
SELECT vector_dims(pca_project('analysis_pca', '[1,2,3]'::halfvec)::vector) AS halfvec_dims;
-- Whitened: the projected rows have unit variance.
SELECT pca_fit('analysis_white', 'SELECT v::halfvec FROM analysis_points', 1, true) > 0.99 AS kept;
SELECT round(stddev_samp((pca_project('analysis_white', v)::real[])[1])::numeric, 2) AS unit
  FROM analysis_points;
-- Usable in an expression index, which keeps the model from being dropped.
CREATE INDEX analysis_pca_idx ON analysis_points USING hnsw ((pca_project('analysis_pca', v)::vector(2)) vector_l2_ops);
SELECT drop_model('analysis_pca');
DROP INDEX analysis_pca_idx;
SELECT kind, dimensions, vocab_size FROM embedding_models WHERE name = 'analysis_pca';

-- k-means: one cluster per group, numbered 1..k.
SELECT round(kmeans_fit('analysis_km', 'SELECT v FROM analysis_points', 3)::numeric, 2) AS inertia;
SELECT count(DISTINCT label) AS groups, count(DISTINCT kmeans_assign('analysis_km', v)) AS clusters,
       count(DISTINCT (label, kmeans_assign('analysis_km', v))) AS pairs
  FROM analysis_points;
SELECT cluster, size, vector_dims(center) FROM kmeans_centers('analysis_km') ORDER BY cluster;
SELECT kmeans_assign('analysis_km', '[0,0,0]'::halfvec) BETWEEN 1 AND 3 AS in_range;
SELECT kmeans_fit('analysis_kmc', 'SELECT v FROM analysis_points', 2, 10, 7, 'cosine') > 0 AS fitted;
SELECT round(silhouette('SELECT v, label FROM analysis_points')::numeric, 4) AS silhouette;
SELECT round(silhouette('SELECT v, id % 2 FROM analysis_points')::numeric, 4) AS poor;

-- Models of these kinds are not text models, and each function wants its own kind.
SELECT embed('analysis_km', 'hello');
SELECT pca_info('analysis_km');
SELECT kmeans_assign('analysis_white', '[1,2,3]'::vector);
SELECT pca_project('analysis_missing', '[1,2,3]'::vector);
SELECT pca_project('analysis_white', '[1,2]'::vector);

-- Bad input gets clear errors.
SELECT pca_fit('analysis_white', 'SELECT v FROM analysis_points', 1);
SELECT pca_fit('glove-6b-100d', 'SELECT v FROM analysis_points', 1);
SELECT pca_fit('analysis_bad', 'SELECT v FROM analysis_points WHERE false', 1);
SELECT pca_fit('analysis_bad', 'SELECT v, v FROM analysis_points', 1);
SELECT pca_fit('analysis_bad', 'SELECT id FROM analysis_points', 1);
SELECT pca_fit('analysis_bad', 'SELECT NULL::vector', 1);
SELECT pca_fit('analysis_bad', $$SELECT '[1,2]'::vector UNION ALL SELECT '[1,2,3]'$$, 1);
SELECT pca_fit('analysis_bad', 'SELECT v FROM analysis_points', 4);
SELECT pca_fit('analysis_bad', 'SELECT v FROM analysis_points LIMIT 1', 1);
SELECT pca_fit('analysis_bad', 'DELETE FROM analysis_points RETURNING v', 1);
SELECT kmeans_fit('analysis_bad', 'WITH d AS (DELETE FROM analysis_points RETURNING v) SELECT v FROM d', 2);
SELECT pca_fit('analysis_bad', 'SELECT v FROM analysis_points FOR UPDATE', 1);
SELECT silhouette('SELECT v, 1 FROM analysis_points; SELECT v, 2 FROM analysis_points');
SELECT count(*) FROM analysis_points;  -- nothing was deleted
SELECT pca_fit('analysis_bad', 'SELECT v FROM', 1);
SELECT kmeans_fit('analysis_bad', 'SELECT v FROM analysis_points LIMIT 2', 3);
SELECT kmeans_fit('analysis_bad', 'SELECT v FROM analysis_points', 3, metric => 'l1');
SELECT kmeans_fit('analysis_bad', 'SELECT v FROM analysis_points', 0);
SELECT kmeans_fit('analysis_bad', $$SELECT '[0,0]'::vector UNION ALL SELECT '[1,1]'$$, 1, metric => 'cosine');
SELECT silhouette('SELECT v, 1 FROM analysis_points');
SELECT silhouette('SELECT v FROM analysis_points');
SET maintenance_work_mem = '1MB';
SELECT pca_fit('analysis_bad', 'SELECT v FROM analysis_points, generate_series(1, 300)', 1);
RESET maintenance_work_mem;

-- Privileges: fitting needs CREATE on the database; the query runs as the caller.
CREATE ROLE regress_analysis_user;
SET ROLE regress_analysis_user;
SELECT pca_fit('analysis_user', 'SELECT ''[1,2]''::vector UNION ALL SELECT ''[3,4]''', 1);
SELECT silhouette('SELECT v, label FROM analysis_points');
SELECT vector_dims(pca_project('analysis_white', '[1,2,3]'::vector)) AS can_project;
RESET ROLE;

-- The map: well-formed SVG (xmllint), labels escaped as tooltips, one colour per group.
SELECT embedding_map('SELECT v, label || '' <&> '', label FROM analysis_points') LIKE '%<title>g1 &lt;&amp;&gt; </title>%' AS escaped;
\pset tuples_only on
\pset format unaligned
\o results/analysis_map.svg
SELECT embedding_map('SELECT v, ''point '' || id, label FROM analysis_points');
\o
\pset tuples_only off
\pset format aligned
\! xmllint --noout results/analysis_map.svg && echo well-formed
SELECT embedding_map('SELECT v FROM analysis_points');
SELECT embedding_map('SELECT v, label FROM analysis_points', 'umap');
-- t-SNE (up to 10,000 points): well-formed too (test/unit/analysis_test.cpp checks its layout).
\pset tuples_only on
\pset format unaligned
\o results/analysis_tsne.svg
SELECT embedding_map('SELECT v, ''point '' || id, label FROM analysis_points', 'tsne');
\o
\pset tuples_only off
\pset format aligned
\! xmllint --noout results/analysis_tsne.svg && echo well-formed

-- Evaluation: Spearman against ratings (out-of-vocabulary pairs skipped), analogies per
-- category, retrieval metrics by hand (see test/unit/analysis_test.cpp).
SELECT round(spearman::numeric, 4), pairs_used, pairs_skipped FROM evaluate_similarity('glove-6b-100d',
  $$VALUES ('king', 'queen', 8.5), ('cat', 'dog', 7.0), ('car', 'banana', 1.0), ('xyzzyq', 'cat', 3.0)$$);
SELECT * FROM evaluate_analogy('glove-6b-100d',
  $$VALUES ('man', 'king', 'woman', 'queen', 'royal'), ('paris', 'france', 'rome', 'italy', 'capital'),
           ('berlin', 'germany', 'tokyo', 'japan', 'capital'), ('xyzzyq', 'a', 'b', 'c', 'capital')$$);
SELECT * FROM evaluate_analogy('glove-6b-100d', $$VALUES ('man', 'king', 'woman', 'queen')$$);
SELECT recall, mrr, round(ndcg::numeric, 6), queries FROM evaluate_retrieval(
  $$VALUES ('q1', 'x', 1), ('q1', 'a', 2), ('q1', 'b', 3)$$,
  $$VALUES ('q1', 'a', 2), ('q1', 'b', 1), ('q2', 'c', 1)$$, 3);
SELECT query_id, recall, mrr, round(ndcg::numeric, 6) FROM evaluate_retrieval_by_query(
  $$VALUES ('q1', 'x', 1), ('q1', 'a', 2), ('q1', 'b', 3)$$,
  $$VALUES ('q1', 'a', 2), ('q1', 'b', 1), ('q2', 'c', 1)$$, 2);
SELECT * FROM evaluate_retrieval($$VALUES ('q1', 'x', 1)$$, $$VALUES ('q1', 'x', 1), ('q1', 'x', 2)$$, 3);
SELECT * FROM evaluate_retrieval($$VALUES ('q1', 'x', 1)$$, $$VALUES ('q1', 'x', 'NaN'::float8)$$, 3);
SELECT * FROM evaluate_retrieval($$VALUES ('q1', 'x', 1)$$, $$VALUES ('q1', 'x', 1)$$, 0);

-- index_recall: an exhaustive setting finds everything; one list of ten finds less.
CREATE INDEX analysis_points_v_idx ON analysis_points USING hnsw (v vector_l2_ops);
SELECT * FROM index_recall('analysis_points_v_idx', 30, 5);
CREATE INDEX analysis_points_ivf ON analysis_points USING ivfflat (v vector_cosine_ops) WITH (lists = 10);
SET ivfflat.probes = 10;
SELECT * FROM index_recall('analysis_points_ivf', 30, 10);
SET ivfflat.probes = 1;
SELECT recall < 1 AS approximate FROM index_recall('analysis_points_ivf', 100, 10);
RESET ivfflat.probes;
-- index_recall needs SELECT on the table.
SET ROLE regress_analysis_user;
SELECT * FROM index_recall('analysis_points_v_idx');
RESET ROLE;
GRANT SELECT ON analysis_points TO regress_analysis_user;
SET ROLE regress_analysis_user;
SELECT queries FROM index_recall('analysis_points_v_idx', 5);
RESET ROLE;
REVOKE SELECT ON analysis_points FROM regress_analysis_user;
SELECT * FROM index_recall('analysis_points', 10, 10);
SELECT * FROM index_recall('analysis_points_v_idx', 0, 10);

DROP TABLE analysis_points;
DROP ROLE regress_analysis_user;
SELECT drop_model(name) FROM embedding_models WHERE name LIKE 'analysis%';
\c :regress_db
DROP DATABASE regress_analysis;
