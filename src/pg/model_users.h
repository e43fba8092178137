// The objects that use a loaded model by name: stored expressions (column defaults and generated
// columns, index expressions and predicates, views and rules, CHECK constraints, trigger WHEN
// conditions, policies, statistics, partition keys, SQL-standard function bodies) that call one of
// our model-taking functions with the model's name as a constant. drop_model() refuses while any
// exist.
#pragma once

extern "C" {
#include "postgres.h"

#include "lib/stringinfo.h"
}

namespace embedding::pg {

// Appends to `out` one line per object that uses model `name` ("column e of table t uses model
// "m"", objects named as PostgreSQL's dependency messages name them), sorted, and returns how many.
// Past 100 objects, one last line says how many more there are.
// A model named by a non-constant argument (a column, a parameter, a function's result) or inside a
// function whose body is a string (LANGUAGE sql without BEGIN ATOMIC, plpgsql) cannot be resolved
// and is not found. PostgreSQL calls only (SPI, node reading): it may ereport, so call it through
// pg_call() when C++ objects are alive. Opens its own SPI connection.
int find_model_users(const char* name, StringInfo out);

}  // namespace embedding::pg
