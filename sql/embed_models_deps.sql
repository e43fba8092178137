-- drop_model() refuses while stored expressions use the model by name (a generated column or a
-- CHECK constraint would fail every later INSERT, and a dump of the table would not restore),
-- names them (SQLSTATE 2BP01), and with cascade => true drops the model anyway with a WARNING.
\set SHOW_CONTEXT never
-- A toy model file written by the server itself (so the test needs no readable source tree).
SELECT current_setting('data_directory') || '/embed_models_deps_toy.txt' AS toy \gset
COPY (VALUES ('king 0.5 0.1 0.2 0.3'), ('queen 0.4 0.2 0.1 0.3'), ('man 0.1 -1 0 0.05'),
             ('woman 0.1 1 0 0.05')) TO :'toy';
SELECT load_model('dep_m', :'toy', 'glove'), load_model('dep_other', :'toy', 'glove');
CREATE TABLE dep_gen (id int, body text,
                      e vector(4) GENERATED ALWAYS AS (embed('dep_m', body)) STORED);
INSERT INTO dep_gen (id, body) VALUES (1, 'king');
-- Casts and immutable expressions of literals name the model as well.
CREATE TABLE dep_casts (body text,
  a vector GENERATED ALWAYS AS (embed('dep_m'::varchar(5), body)) STORED,
  b vector GENERATED ALWAYS AS (embed('dep_' || 'm', body)) STORED,
  c vector GENERATED ALWAYS AS (embed(CAST('dep_m' AS character(5)), body)) STORED);
SELECT drop_model('dep_m');
\echo :LAST_ERROR_SQLSTATE
DROP TABLE dep_casts;
-- Every kind of stored expression is found, and named in one error.
CREATE TABLE dep_misc (id int, body text,
                       d vector DEFAULT embed('dep_m'::varchar, 'queen'),
                       CONSTRAINT dep_check CHECK (embed('dep_m', body) IS NOT NULL));
CREATE INDEX dep_expr_idx ON dep_misc ((embed('dep_m', body)));
CREATE INDEX dep_pred_idx ON dep_misc (id) WHERE word_vector(body, model => 'dep_m') IS NOT NULL;
CREATE VIEW dep_view AS SELECT id, embed('dep_m', body) AS e FROM dep_misc;
CREATE VIEW dep_from_view AS SELECT * FROM most_similar('king', 2, model => 'dep_m');
CREATE VIEW dep_sub_view AS SELECT (SELECT analogy.word FROM analogy('man', 'king', 'woman', 1, 'dep_m')) AS w;
CREATE MATERIALIZED VIEW dep_matview AS SELECT embed('dep_m', 'king') AS e;
CREATE FUNCTION dep_trigger_fn() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER dep_trigger BEFORE INSERT ON dep_misc FOR EACH ROW
  WHEN (embed('dep_m', NEW.body) IS NOT NULL) EXECUTE FUNCTION dep_trigger_fn();
CREATE FUNCTION dep_atomic(t text) RETURNS vector LANGUAGE sql IMMUTABLE
  BEGIN ATOMIC SELECT embed('dep_m', t); END;
CREATE DOMAIN dep_domain AS text CHECK (embed('dep_m', VALUE) IS NOT NULL);
CREATE RULE dep_rule AS ON DELETE TO dep_misc WHERE embed('dep_m', OLD.body) IS NULL DO INSTEAD NOTHING;
CREATE POLICY dep_policy ON dep_misc USING (embed('dep_m', body) IS NOT NULL);
CREATE STATISTICS dep_stats ON (embed('dep_m', body)) FROM dep_misc;
CREATE TABLE dep_parts (body text) PARTITION BY RANGE ((embed('dep_m', body)));
SELECT drop_model('dep_m');
\echo :LAST_ERROR_SQLSTATE
-- Long lists stop at 100 objects, as PostgreSQL's own dependency reports do.
DO $$ BEGIN
  FOR i IN 1..100 LOOP
    EXECUTE format('CREATE VIEW dep_many_%s AS SELECT embed(''dep_m'', ''king'') AS e', i);
  END LOOP;
END $$;
DO $$ DECLARE detail text; BEGIN
  PERFORM drop_model('dep_m');
EXCEPTION WHEN dependent_objects_still_exist THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RAISE NOTICE '% lines, the last: %', array_length(string_to_array(detail, E'\n'), 1),
    split_part(detail, E'\n', 101);
END $$;
DO $$ BEGIN
  FOR i IN 1..100 LOOP EXECUTE format('DROP VIEW dep_many_%s', i); END LOOP;
END $$;
-- Other models, the default model, and a model named by a column are not this model's users.
CREATE TABLE dep_others (model text, body text,
  a vector GENERATED ALWAYS AS (embed('dep_other', body)) STORED,
  b vector GENERATED ALWAYS AS (word_vector(body)) STORED,
  c vector GENERATED ALWAYS AS (embed(body)) STORED,
  d vector GENERATED ALWAYS AS (embed(model, body)) STORED);
CREATE INDEX ON dep_others ((embed('dep_m_', body)));
-- Dropping the users one by one; the error lists what is left.
DROP TABLE dep_gen;
DROP VIEW dep_view, dep_from_view, dep_sub_view;
DROP MATERIALIZED VIEW dep_matview;
DROP TRIGGER dep_trigger ON dep_misc;
DROP FUNCTION dep_atomic(text);
DROP DOMAIN dep_domain;
DROP TABLE dep_parts;
SELECT drop_model('dep_m');
-- cascade => true: the model goes, a WARNING names the objects left behind, which fail until the
-- same vectors come back under the name.
SELECT drop_model('dep_m', cascade => true);
SELECT name FROM embedding_models WHERE name LIKE 'dep%' ORDER BY 1;
INSERT INTO dep_misc (id, body) VALUES (2, 'king');
SELECT drop_model('dep_m', true);
SELECT load_model('dep_m', :'toy', 'glove');
INSERT INTO dep_misc (id, body) VALUES (2, 'king');
SELECT id, d = embed('dep_m', 'queen') AS default_ok FROM dep_misc;
-- Without users, drop_model needs no cascade.
DROP TABLE dep_misc;
SELECT drop_model('dep_m');
-- A model named by a non-constant argument (here a column) cannot be resolved: not found.
ALTER TABLE dep_others DROP COLUMN a;
SELECT drop_model('dep_other');
DROP TABLE dep_others;
DROP FUNCTION dep_trigger_fn();
