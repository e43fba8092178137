-- Loading and dropping models: permissions, formats, errors, and the name contract that keeps
-- embed(model, text) immutable. (Loading real files is tested by test/t/models.sh.)
-- Only superusers and members of pg_read_server_files may load or drop models.
CREATE ROLE regress_embed_user;
SET ROLE regress_embed_user;
SELECT load_model('mine', '/tmp/whatever.vec', 'fasttext');
SELECT drop_model('mine');
RESET ROLE;
DROP OWNED BY regress_embed_user;
DROP ROLE regress_embed_user;
SELECT load_model('glove-6b-100d', '/tmp/x.txt', 'glove');
SELECT load_model('', '/tmp/x.txt', 'glove');
SELECT load_model('m', '/tmp/x.txt', 'bogus');
SELECT load_model('m', '/nonexistent/vectors.txt', 'glove');
SELECT drop_model('glove-6b-100d');
SELECT drop_model('never-loaded');
SELECT count(*) FROM embedding_models WHERE NOT is_default;
SELECT load_model('m', '/tmp/x.txt', 'wink');
-- k is bounded, and a larger k is an error rather than silently fewer rows.
SELECT count(*) FROM most_similar('king', 10001);
SELECT count(*) FROM most_similar('king', 0);
-- The store is changed only by load_model() and drop_model(): a plain role may not touch it, and
-- even a superuser's direct UPDATE, DELETE or TRUNCATE is refused (also in replica mode).
CREATE ROLE regress_embed_user;
SET ROLE regress_embed_user;
SELECT count(*) >= 0 AS readable FROM "#embedding".model_store;
UPDATE "#embedding".model_store SET dropped = false;
DELETE FROM "#embedding".model_store;
INSERT INTO "#embedding".model_store VALUES ('x', 's', 'glove', 1, 1, 'x', false, '\x00');
RESET ROLE;
DROP ROLE regress_embed_user;
-- A dropped model's row, as a restore writes it, is accepted; it gives the checks below a row.
INSERT INTO "#embedding".model_store VALUES ('reserved', 's', 'glove', 1, 1, repeat('a', 64), true, '');
UPDATE "#embedding".model_store SET dropped = false;
UPDATE "#embedding".model_store SET checksum = '../../../../tmp/x';
DELETE FROM "#embedding".model_store;
TRUNCATE "#embedding".model_store;
SET session_replication_role = replica;
UPDATE "#embedding".model_store SET dropped = false;
RESET session_replication_role;
-- A direct INSERT (what a restore does) must be a valid model whose checksum is its SHA-256.
INSERT INTO "#embedding".model_store VALUES ('x', 's', 'glove', 1, 1, '../../../tmp/x', false, '\x00');
INSERT INTO "#embedding".model_store
  VALUES ('x', 's', 'glove', 1, 1, encode(sha256('\x00'::bytea), 'hex'), false, '\x00');
INSERT INTO "#embedding".model_store VALUES ('x', 's', 'glove', 1, 1, 'abc', true, '');
INSERT INTO "#embedding".model_store VALUES ('x', 's', 'glove', 1, 1, repeat('a', 64), true, '\x01');
SELECT name, dropped FROM "#embedding".model_store;
SELECT embed('reserved', 'text');
SELECT drop_model('reserved');
-- The extension cannot be moved to another schema (its store lives in "#embedding").
CREATE SCHEMA regress_elsewhere;
ALTER EXTENSION embedding SET SCHEMA regress_elsewhere;
DROP SCHEMA regress_elsewhere;
-- The view says what kind of model each one is.
SELECT name, kind, max_seq_length, dimensions FROM embedding_models WHERE is_default;
-- A sentence-transformers model is loaded from a directory. (Loading and embedding with real
-- model directories is tested by test/t/transformer_models.sh against a numpy reference.)
SELECT load_model('st', '/nonexistent', 'sentence-transformers');
SELECT load_model('st', '/etc/hostname', 'sentence-transformers');
-- embed(model, texts[]): one vector per text in input order, NULL for a NULL text and for a
-- text without a known word; the same vectors as one call each.
SELECT i, v IS NULL AS is_null,
       v = embed('glove-6b-100d', t) AS same_as_single
  FROM unnest(ARRAY['the king', NULL, 'xqzzyv', 'a queen'],
              embed('glove-6b-100d', ARRAY['the king', NULL, 'xqzzyv', 'a queen'])) WITH ORDINALITY AS u(t, v, i);
SELECT cardinality(embed('glove-6b-100d', ARRAY[]::text[]));
SELECT embed('glove-6b-100d', NULL::text[]) IS NULL;
SELECT embed('glove-6b-100d', ARRAY[['a', 'b'], ['c', 'd']]);
SELECT embed('no-such-model', ARRAY['a']);
