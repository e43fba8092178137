-- train_model() and export_model(): the SQL surface and its errors (values depend on the CPU's
-- kernels, so only shapes and relations are shown).
-- The dropped train_* names stay reserved in the store (its rows cannot be deleted): tests listing
-- the store run before this one.
SET client_min_messages = warning;
SET max_parallel_maintenance_workers = 0;
CREATE TABLE train_docs (id int, body text, n int);
INSERT INTO train_docs SELECT i, CASE WHEN i % 2 = 0
    THEN 'the apple banana cherry grape mango fruit is sweet and ripe'
    ELSE 'the engine wheel brake clutch piston gear car is fast and loud' END, i
  FROM generate_series(1, 400) i;
INSERT INTO train_docs VALUES (0, NULL, 0);

SELECT train_model('train_sg', 'SELECT body FROM train_docs', dimensions => 16, min_count => 1);
SELECT name, dimensions, vocab_size, kind, source LIKE 'train_model(skipgram, dimensions 16, %' AS source FROM embedding_models WHERE name = 'train_sg';
SELECT vector_dims(word_vector('apple', 'train_sg')), word_vector('apples', 'train_sg') IS NULL;
SELECT vector_dims(embed('train_sg', 'Sweet apple')) AS embed_dims;
-- related words of the corpus are nearer than unrelated ones
SELECT (word_vector('apple', 'train_sg') <=> word_vector('banana', 'train_sg'))
     < (word_vector('apple', 'train_sg') <=> word_vector('engine', 'train_sg')) AS related_closer;
SELECT count(*) FROM most_similar('apple', 3, 'train_sg');
SELECT count(*) FROM analogy('apple', 'banana', 'engine', 2, 'train_sg');
-- one thread: the same vectors for the same seed
SELECT train_model('train_sg2', 'SELECT body FROM train_docs', dimensions => 16, min_count => 1);
SELECT word_vector('fruit', 'train_sg') = word_vector('fruit', 'train_sg2') AS same_seed_same_vectors;
SELECT train_model('train_sg3', 'SELECT body FROM train_docs', dimensions => 16, min_count => 1, seed => 7);
SELECT word_vector('fruit', 'train_sg') = word_vector('fruit', 'train_sg3') AS other_seed_same_vectors;

-- CBOW with subwords answers words it never saw
SELECT train_model('train_ft', 'SELECT body FROM train_docs', 'cbow', dimensions => 8,
                   min_count => 1, epochs => 2, subwords => true);
SELECT vector_dims(word_vector('apples', 'train_ft')) AS unseen_word_dims;
SELECT word_vector('zz', 'train_ft') IS NOT NULL AS short_unseen;
-- embed() gives an unseen word its n-gram vector too, as word_vector does (the exact relation,
-- less the common component, is in train_test): near its seen stem, far from the other topic;
-- a model without subwords still has nothing for it
SELECT embed('train_ft', 'apples') IS NOT NULL AS embed_unseen,
       embed('train_sg', 'apples') IS NULL AS embed_unseen_without_subwords;
WITH v AS (SELECT embed('train_ft', 'apples') AS e)
SELECT (e <=> embed('train_ft', 'apple')) < (e <=> embed('train_ft', 'engine')) AS near_its_stem,
       (e <=> embed('train_ft', 'sweet apples')) < (e <=> embed('train_ft', 'sweet')) AS counts_in_text
  FROM v;

-- export in word2vec text format: a header line, then a line a word
SELECT split_part(export_model('train_sg'), E'\n', 1) AS header;
SELECT count(*) FROM regexp_split_to_table(rtrim(export_model('train_sg'), E'\n'), E'\n');
SELECT split_part(split_part(export_model('train_sg'), E'\n', 2), ' ', 1) AS most_frequent_word;

-- errors
SELECT train_model('', 'SELECT body FROM train_docs');
SELECT train_model('glove-6b-100d', 'SELECT body FROM train_docs');
SELECT train_model('train_sg', 'SELECT body FROM train_docs', min_count => 1);
SELECT train_model('bad', 'SELECT body FROM train_docs', 'glove');
SELECT train_model('bad', 'SELECT body FROM train_docs', dimensions => 0);
SELECT train_model('bad', 'SELECT body FROM train_docs', dimensions => 16001);
SELECT train_model('bad', 'SELECT body FROM train_docs', window_size => 0);
SELECT train_model('bad', 'SELECT body FROM train_docs', min_count => 0);
SELECT train_model('bad', 'SELECT body FROM train_docs', negative => -1);
SELECT train_model('bad', 'SELECT body FROM train_docs', epochs => 0);
SELECT train_model('bad', '');
SELECT train_model('bad', 'SELECT body FROM train_docs WHERE false');
SELECT train_model('bad', 'SELECT NULL::text FROM generate_series(1, 3)');
SELECT train_model('bad', 'SELECT n FROM train_docs');
SELECT train_model('bad', 'SELECT body, body FROM train_docs');
SELECT train_model('bad', 'DELETE FROM train_docs RETURNING body');
SELECT train_model('bad', 'SELECT body FROM no_such_table');
SELECT train_model('bad', 'SELECT body FROM train_docs', min_count => 100000);
SET maintenance_work_mem = '1MB';
SELECT train_model('bad', $$SELECT string_agg(md5(i::text), ' ') FROM generate_series(1, 20000) i$$, min_count => 1);
RESET maintenance_work_mem;
SELECT count(*) AS half_written FROM embedding_models WHERE name = 'bad';
SELECT count(*) FROM train_docs;
SELECT export_model('no_such_model');
SELECT train_model('train_sg', NULL) IS NULL AS strict;

-- training writes the store: no EXECUTE for PUBLIC; the query runs with the caller's privileges
CREATE ROLE train_user;
SET ROLE train_user;
SELECT train_model('bad', 'SELECT body FROM train_docs');
RESET ROLE;
GRANT EXECUTE ON FUNCTION train_model TO train_user;
SET ROLE train_user;
SELECT train_model('bad', 'SELECT body FROM train_docs');
RESET ROLE;
SELECT count(*) AS half_written FROM embedding_models WHERE name = 'bad';
REVOKE EXECUTE ON FUNCTION train_model FROM train_user;
DROP ROLE train_user;

SELECT drop_model('train_sg');
SELECT word_vector('apple', 'train_sg');
SELECT drop_model('train_sg2'), drop_model('train_sg3'), drop_model('train_ft');
DROP TABLE train_docs;
