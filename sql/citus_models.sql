-- The model functions for Citus on a node without Citus (test/t/citus.sh runs them on a cluster):
-- embedding_sync_models() says why it cannot run, and model_store_apply() takes nothing but a
-- valid model from the store's owner.
SELECT embedding_sync_models();
CREATE ROLE regress_citus_user;
SET ROLE regress_citus_user;
SELECT embedding_sync_models();
SELECT "#embedding".model_store_apply('evil', 's', 'glove', repeat('0', 64), '\x00');
RESET ROLE;
DROP ROLE regress_citus_user;
SELECT "#embedding".model_store_apply('bad', 's', 'glove', 'not a hash', '\x00');
SELECT "#embedding".model_store_apply('bad', 's', 'glove', repeat('0', 64), '\x0001');
SELECT "#embedding".model_store_apply('bad', 's', 'glove', encode(sha256('\x0001'), 'hex'), '\x0001');
-- A pushed drop of a model this node never had reserves the name for the same hash (rolled back:
-- the store keeps no row for the tests after this one).
BEGIN;
SELECT "#embedding".model_store_apply('gone', 's', 'glove', repeat('a', 64), '');
SELECT name, dropped, checksum = repeat('a', 64) AS same_hash FROM "#embedding".model_store WHERE name = 'gone';
SELECT count(*) FROM embedding_models WHERE name = 'gone';
SELECT "#embedding".model_store_apply('gone', 's', 'glove', repeat('a', 64), '');
SELECT "#embedding".model_store_apply('gone', 's', 'glove', repeat('b', 64), '');
ROLLBACK;
