-- embedding 0.6.0 -> 0.7.0: objects added after 0.6.0 (each area appends its own statements below).

-- Citus (sql/ext/50_citus.sql)

-- A worker takes a row pushed by the coordinator: only the store's owner (who the push runs as)
-- and superusers may call it, and the row must be a valid model whose hash is its data's SHA-256.
CREATE FUNCTION "#embedding".model_store_apply(name text, source text, format text, checksum text, data bytea)
	RETURNS void AS 'MODULE_PATHNAME', 'model_store_apply' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION "#embedding".model_store_apply(text, text, text, text, bytea) FROM PUBLIC;
-- On the coordinator: copies every model to every worker; returns the number of copies.
CREATE FUNCTION embedding_sync_models() RETURNS int
	AS 'MODULE_PATHNAME', 'embedding_sync_models' LANGUAGE C VOLATILE;
