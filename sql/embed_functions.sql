-- embed() and the word-vector functions with the default model (GloVe 6B 100-d), which ships
-- with the extension and needs no network.
SELECT name, dimensions, vocab_size, is_default FROM embedding_models;
SELECT vector_dims(embed('The quick brown fox jumps over the lazy dog'));
SELECT round(vector_norm(embed('Semantic search inside PostgreSQL'))::numeric, 6) AS unit_norm;
-- deterministic, and the same through the explicit model name
SELECT embed('hello world') = embed('hello world') AS deterministic,
       embed('hello world') = embed('glove-6b-100d', 'hello world') AS default_is_named;
-- tokenisation: case does not matter; punctuation is split off (GloVe has vectors for it);
-- clitics are split as in GloVe's training text
SELECT embed('Hello World') = embed('hello world') AS case_folded,
       embed('hello,world') = embed('hello , world') AS punctuation_split;
SELECT embed('don''t') = embed('do n''t') AS clitics;
-- text with no known word gives NULL (not an error), so bulk updates go on
SELECT embed('') IS NULL AS empty, embed('   ') IS NULL AS blank, embed('xqzzyv blorfq') IS NULL AS unknown,
       embed(NULL) IS NULL AS null_in;
-- related texts are closer than unrelated ones
SELECT embed('Database indexes speed up queries') <=> embed('An index makes lookups faster')
     < embed('Database indexes speed up queries') <=> embed('My cat likes to sleep in the sun') AS related_closer;
-- words
SELECT vector_dims(word_vector('king')), word_vector('xqzzyv') IS NULL AS unknown_word;
SELECT word_vector('Paris') = word_vector('paris') AS case_folded;
SELECT word FROM most_similar('frog', 3);
SELECT count(*) FROM most_similar('xqzzyv');
SELECT word FROM analogy('man', 'king', 'woman');
SELECT word FROM analogy('paris', 'france', 'rome');
SELECT word FROM analogy('man', 'king', 'xqzzyv');
SELECT word FROM most_similar(word_vector('king') - word_vector('man') + word_vector('woman'), 5)
 WHERE word NOT IN ('king', 'man', 'woman') LIMIT 1;
SELECT round(similarity::numeric, 4) > 0.7 FROM analogy('man', 'king', 'woman', 1, 'glove-6b-100d');
SELECT * FROM most_similar('king', 0);
SELECT * FROM most_similar('[1,2,3]'::vector, 3);
-- unknown models
SELECT embed('no-such-model', 'hello');
SELECT * FROM most_similar('king', 3, 'no-such-model');
-- a generated column and an expression index (both need IMMUTABLE)
CREATE TABLE docs (id int PRIMARY KEY, body text,
                   embedding vector(100) GENERATED ALWAYS AS (embed(body)) STORED);
INSERT INTO docs (id, body) VALUES
  (1, 'PostgreSQL supports B-tree, hash and GiST indexes'),
  (2, 'The recipe needs flour, sugar, eggs and butter'),
  (3, 'Football teams compete in the league every season'),
  (4, 'xqzzyv');
SELECT id, embedding IS NULL AS no_vector FROM docs ORDER BY id;
SELECT id FROM docs WHERE embedding IS NOT NULL ORDER BY embedding <=> embed('which index types does the database have') LIMIT 1;
SELECT id FROM docs WHERE embedding IS NOT NULL ORDER BY embedding <=> embed('baking a cake') LIMIT 1;
-- an expression index needs the dimensions, as with pgvector: cast to vector(100)
CREATE INDEX docs_expr ON docs USING hnsw ((embed(body)::vector(100)) vector_cosine_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY embed(body)::vector(100) <=> '[1,2,3]' LIMIT 1;
SELECT id FROM docs ORDER BY embed(body)::vector(100) <=> embed('soccer match') LIMIT 1;
RESET enable_seqscan;
UPDATE docs SET body = 'Bread is baked from flour and water' WHERE id = 3;
SELECT id FROM docs WHERE embedding IS NOT NULL ORDER BY embedding <=> embed('baking bread') LIMIT 2;
-- a model's dimension must match the column
CREATE TABLE small (v vector(50));
INSERT INTO small VALUES (embed('hello'));
DROP TABLE small, docs;
-- volatility and parallel safety
SELECT proname, provolatile, proisstrict, proparallel FROM pg_proc
 WHERE proname IN ('embed', 'word_vector', 'most_similar', 'analogy', 'load_model', 'drop_model')
 ORDER BY proname, pronargs;
