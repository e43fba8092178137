-- A pgvector schema with every type pgvector has, their hnsw indexes, a btree index and a
-- binary-quantised expression index (test/t/pgvector_migration.sh dumps it from pgvector and
-- restores it into embedding). Deterministic: no random().
CREATE TABLE docs (id int PRIMARY KEY, title text, v vector(16), h halfvec(16), s sparsevec(1000),
                   b bit(16));
INSERT INTO docs
SELECT i, 'doc ' || i, v, v::halfvec,
       (SELECT ('{' || string_agg(((j * 61 + i) % 997 + 1) || ':' || round(sin(i * j)::numeric, 4),
                                  ',') || '}/1000')::sparsevec
        FROM generate_series(1, 8) j),
       binary_quantize(v)::bit(16)
FROM (SELECT i, (SELECT array_agg(round(sin(i * 31 + j * 17)::numeric, 5))::real[]::vector
                 FROM generate_series(1, 16) j) AS v
      FROM generate_series(1, 300) i) t;
INSERT INTO docs (id, title) VALUES (301, 'no vectors');
CREATE INDEX docs_v ON docs USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 40);
CREATE INDEX docs_h ON docs USING hnsw (h halfvec_l2_ops);
CREATE INDEX docs_s ON docs USING hnsw (s sparsevec_l2_ops);
CREATE INDEX docs_b ON docs USING hnsw (b bit_hamming_ops);
CREATE INDEX docs_bq ON docs USING hnsw ((binary_quantize(v)::bit(16)) bit_jaccard_ops);
CREATE INDEX docs_vb ON docs (v);
