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
