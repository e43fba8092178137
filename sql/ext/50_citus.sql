-- embedding on Citus: the coordinator copies every model to the workers (load_model, drop_model,
-- pca_fit, kmeans_fit, train_model do it themselves; embedding_sync_models() after citus_add_node).

-- A worker takes a row pushed by the coordinator: only the store's owner (who the push runs as)
-- and superusers may call it, and the row must be a valid model whose hash is its data's SHA-256.
CREATE FUNCTION "#embedding".model_store_apply(name text, source text, format text, checksum text, data bytea)
	RETURNS void AS 'MODULE_PATHNAME', 'model_store_apply' LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION "#embedding".model_store_apply(text, text, text, text, bytea) FROM PUBLIC;
-- On the coordinator: copies every model to every worker; returns the number of copies.
CREATE FUNCTION embedding_sync_models() RETURNS int
	AS 'MODULE_PATHNAME', 'embedding_sync_models' LANGUAGE C VOLATILE;
