-- Training word vectors on the text a query returns (word2vec skip-gram or CBOW, fastText's
-- character n-grams with subwords => true). The query runs with the caller's privileges; the
-- result is an ordinary model of the store. Writing the store is a privilege: EXECUTE is granted
-- to no one by default (GRANT EXECUTE ON FUNCTION train_model TO a role to allow it).
CREATE FUNCTION train_model(name text, corpus text, method text DEFAULT 'skipgram',
	dimensions int DEFAULT 100, window_size int DEFAULT 5, min_count int DEFAULT 5,
	negative int DEFAULT 5, epochs int DEFAULT 5, subwords boolean DEFAULT false,
	seed int DEFAULT 1) RETURNS int
	AS 'MODULE_PATHNAME', 'train_model' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION train_model(text, text, text, int, int, int, int, int, boolean, int) FROM PUBLIC;
-- A word-vector model in word2vec text format, for use elsewhere.
CREATE FUNCTION export_model(name text) RETURNS text
	AS 'MODULE_PATHNAME', 'export_model' LANGUAGE C STABLE STRICT PARALLEL SAFE;
