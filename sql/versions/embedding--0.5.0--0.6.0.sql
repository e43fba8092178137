-- embedding 0.5.0 -> 0.6.0: analysis (PCA, k-means, maps, evaluation) and training functions.
CREATE FUNCTION train_model(name text, corpus text, method text DEFAULT 'skipgram',
	dimensions int DEFAULT 100, window_size int DEFAULT 5, min_count int DEFAULT 5,
	negative int DEFAULT 5, epochs int DEFAULT 5, subwords boolean DEFAULT false,
	seed int DEFAULT 1) RETURNS int
	AS 'MODULE_PATHNAME', 'train_model' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION train_model(text, text, text, int, int, int, int, int, boolean, int) FROM PUBLIC;
-- A word-vector model in word2vec text format, for use elsewhere.
CREATE FUNCTION export_model(name text) RETURNS text
	AS 'MODULE_PATHNAME', 'export_model' LANGUAGE C STABLE STRICT PARALLEL SAFE;
