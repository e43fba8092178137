-- embedding 0.4.0 -> 0.5.0: drop_model(name, cascade) refuses to drop a model that stored
-- expressions (generated columns, defaults, indexes, views, CHECK constraints, ...) use, unless
-- cascade => true.
DROP FUNCTION drop_model(text);
-- Dropping is refused while stored expressions (generated columns, defaults, indexes, views,
-- CHECK constraints, ...) call a model function with this model's name, unless cascade: then
-- the model goes and a WARNING names the objects left behind.
CREATE FUNCTION drop_model(name text, cascade boolean DEFAULT false) RETURNS void
	AS 'MODULE_PATHNAME', 'drop_model' LANGUAGE C VOLATILE STRICT;
