// Which objects use a loaded model (see model_users.h): pg_depend names the objects whose stored
// expressions call our model-taking functions; their expression trees say with which model.
#include "pg/model_users.h"

extern "C" {
#include "catalog/pg_attrdef.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
}

namespace embedding::pg {
namespace {

constexpr int kListed = 100;  // objects named in a message, at most

// The functions of this extension that take a model name, and the position of that argument.
struct ModelFunctions {
  int count;
  Oid* oids;
  int* model_arg;  // 0-based position among the input arguments
};

// What a walk over one stored expression looks for.
struct Search {
  const ModelFunctions* functions;
  const char* name;
};

// Our functions are the extension's members with an input argument called "model" (embed,
// word_vector, most_similar, analogy); in each, the input arguments come before any OUT or TABLE
// column, so the name's position in proargnames is its position among the inputs.
ModelFunctions model_functions() {
  const char* sql = psprintf(
      "SELECT p.oid, pg_catalog.array_position(p.proargnames, 'model') - 1 "
      "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_depend d "
      "ON d.classid OPERATOR(pg_catalog.=) %u AND d.objid OPERATOR(pg_catalog.=) p.oid "
      "WHERE d.refclassid OPERATOR(pg_catalog.=) %u AND d.refobjid OPERATOR(pg_catalog.=) %u "
      "AND d.deptype OPERATOR(pg_catalog.=) 'e' "
      "AND 'model' OPERATOR(pg_catalog.=) ANY (p.proargnames)",
      ProcedureRelationId, ExtensionRelationId, get_extension_oid("embedding", false));
  if (SPI_execute(sql, true, 0) != SPI_OK_SELECT) elog(ERROR, "could not read pg_proc");
  ModelFunctions functions{static_cast<int>(SPI_processed), nullptr, nullptr};
  functions.oids = static_cast<Oid*>(palloc(sizeof(Oid) * (functions.count + 1)));
  functions.model_arg = static_cast<int*>(palloc(sizeof(int) * (functions.count + 1)));
  for (int i = 0; i < functions.count; ++i) {
    bool isnull;
    HeapTuple row = SPI_tuptable->vals[i];
    functions.oids[i] = DatumGetObjectId(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
    functions.model_arg[i] = DatumGetInt32(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));
  }
  return functions;
}

// True when arg is the constant `name` once constant-folded: a literal, possibly relabelled,
// collated or cast ('m'::varchar(5), CAST('m' AS char(1))), or an immutable expression of
// literals ('m' || ''). Anything else (a column, a parameter) cannot be resolved without running
// it.
bool is_model_name(Node* arg, const char* name) {
  if (arg != nullptr)
    arg = eval_const_expressions(nullptr, static_cast<Node*>(copyObjectImpl(arg)));
  while (arg != nullptr) {
    if (IsA(arg, RelabelType))
      arg = reinterpret_cast<Node*>(castNode(RelabelType, arg)->arg);
    else if (IsA(arg, CollateExpr))
      arg = reinterpret_cast<Node*>(castNode(CollateExpr, arg)->arg);
    else
      break;
  }
  if (arg == nullptr || !IsA(arg, Const)) return false;
  const Const* value = castNode(Const, arg);
  if (value->constisnull || (value->consttype != TEXTOID && value->consttype != VARCHAROID))
    return false;
  return strcmp(TextDatumGetCString(value->constvalue), name) == 0;
}

// A call of one of our functions whose model argument (by position or by name) is the model. An
// omitted model argument means the default model, which cannot be dropped.
bool calls_with_model(const FuncExpr* call, const Search* search) {
  const ModelFunctions* functions = search->functions;
  for (int f = 0; f < functions->count; ++f) {
    if (call->funcid != functions->oids[f]) continue;
    for (int i = 0; i < list_length(call->args); ++i) {
      Node* arg = static_cast<Node*>(list_nth(call->args, i));
      int position = i;
      if (IsA(arg, NamedArgExpr)) {
        position = castNode(NamedArgExpr, arg)->argnumber;
        arg = reinterpret_cast<Node*>(castNode(NamedArgExpr, arg)->arg);
      }
      if (position == functions->model_arg[f] && is_model_name(arg, search->name)) return true;
    }
  }
  return false;
}

// An expression walker (returns true to stop: found). Descends into queries (views, rules, SQL
// function bodies, sublinks), including their range tables (functions in FROM).
bool uses_model(Node* node, Search* search);

// PostgreSQL 15 declares walkers as bool (*)(), an unprototyped C function pointer; the cast goes
// through void (*)(), the generic function pointer type.
using Walker = bool (*)();
Walker walker() { return reinterpret_cast<Walker>(reinterpret_cast<void (*)()>(uses_model)); }

bool uses_model(Node* node, Search* search) {
  if (node == nullptr) return false;
  if (IsA(node, Query)) return query_tree_walker(castNode(Query, node), walker(), search, 0);
  if (IsA(node, FuncExpr) && calls_with_model(castNode(FuncExpr, node), search)) return true;
  return expression_tree_walker(node, walker(), search);
}

}  // namespace

int find_model_users(const char* name, StringInfo out) {
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  const ModelFunctions functions = model_functions();
  // Each object whose expressions call one of the functions (a normal dependency, recorded by
  // every stored expression), with its description and each of its stored expressions. A view
  // or materialized view is named rather than its _RETURN rule, a default by its column, a
  // domain's constraint with its domain.
  const char* sql = psprintf(
      "WITH users AS (SELECT DISTINCT classid, objid, objsubid FROM pg_catalog.pg_depend "
      "  WHERE refclassid OPERATOR(pg_catalog.=) %u AND refobjid OPERATOR(pg_catalog.=) ANY ($1) "
      "  AND deptype OPERATOR(pg_catalog.=) 'n') "
      "SELECT COALESCE("
      "  (SELECT pg_catalog.pg_describe_object(%u, a.adrelid, a.adnum) "
      "    FROM pg_catalog.pg_attrdef a "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND a.oid OPERATOR(pg_catalog.=) u.objid), "
      "  (SELECT pg_catalog.pg_describe_object(%u, r.ev_class, 0) FROM pg_catalog.pg_rewrite r "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND r.oid OPERATOR(pg_catalog.=) u.objid "
      "    AND r.rulename OPERATOR(pg_catalog.=) '_RETURN'), "
      "  (SELECT pg_catalog.format('constraint %%s on domain %%s', c.conname, "
      "      c.contypid::pg_catalog.regtype) FROM pg_catalog.pg_constraint c "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND c.oid OPERATOR(pg_catalog.=) u.objid "
      "    AND c.contypid OPERATOR(pg_catalog.<>) 0), "
      "  pg_catalog.pg_describe_object(u.classid, u.objid, u.objsubid)) AS what, e.expr "
      "FROM users u, LATERAL ("
      "  SELECT adbin::pg_catalog.text FROM pg_catalog.pg_attrdef "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND oid OPERATOR(pg_catalog.=) u.objid "
      "  UNION ALL SELECT pg_catalog.unnest(ARRAY[indexprs::pg_catalog.text, "
      "      indpred::pg_catalog.text]) FROM pg_catalog.pg_index "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND indexrelid OPERATOR(pg_catalog.=) u.objid "
      "  UNION ALL SELECT partexprs::pg_catalog.text FROM pg_catalog.pg_partitioned_table "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND partrelid OPERATOR(pg_catalog.=) u.objid "
      "  UNION ALL SELECT pg_catalog.unnest(ARRAY[ev_action::pg_catalog.text, "
      "      ev_qual::pg_catalog.text]) FROM pg_catalog.pg_rewrite "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND oid OPERATOR(pg_catalog.=) u.objid "
      "  UNION ALL SELECT conbin::pg_catalog.text FROM pg_catalog.pg_constraint "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND oid OPERATOR(pg_catalog.=) u.objid "
      "  UNION ALL SELECT tgqual::pg_catalog.text FROM pg_catalog.pg_trigger "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND oid OPERATOR(pg_catalog.=) u.objid "
      "  UNION ALL SELECT pg_catalog.unnest(ARRAY[polqual::pg_catalog.text, "
      "      polwithcheck::pg_catalog.text]) FROM pg_catalog.pg_policy "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND oid OPERATOR(pg_catalog.=) u.objid "
      "  UNION ALL SELECT stxexprs::pg_catalog.text FROM pg_catalog.pg_statistic_ext "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND oid OPERATOR(pg_catalog.=) u.objid "
      "  UNION ALL SELECT prosqlbody::pg_catalog.text FROM pg_catalog.pg_proc "
      "    WHERE u.classid OPERATOR(pg_catalog.=) %u AND oid OPERATOR(pg_catalog.=) u.objid "
      ") e(expr) WHERE e.expr IS NOT NULL ORDER BY 1",
      ProcedureRelationId, RelationRelationId, AttrDefaultRelationId, RelationRelationId,
      RewriteRelationId, ConstraintRelationId, AttrDefaultRelationId, RelationRelationId,
      RelationRelationId, RewriteRelationId, ConstraintRelationId, TriggerRelationId,
      PolicyRelationId, StatisticExtRelationId, ProcedureRelationId);
  Datum* oids = static_cast<Datum*>(palloc(sizeof(Datum) * (functions.count + 1)));
  for (int i = 0; i < functions.count; ++i) oids[i] = ObjectIdGetDatum(functions.oids[i]);
  Oid types[1] = {OIDARRAYOID};
  Datum args[1] = {PointerGetDatum(
      construct_array(oids, functions.count, OIDOID, sizeof(Oid), true, TYPALIGN_INT))};
  if (SPI_execute_with_args(sql, 1, types, args, nullptr, true, 0) != SPI_OK_SELECT)
    elog(ERROR, "could not read the catalogs of stored expressions");
  Search search{&functions, name};
  int found = 0;
  const char* last = nullptr;  // rows come sorted by description: one line an object
  for (uint64 i = 0; i < SPI_processed; ++i) {
    const char* what = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
    if (what == nullptr) what = "an object that no longer exists";  // dropped meanwhile
    if (last != nullptr && strcmp(last, what) == 0) continue;
    char* expr = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
    if (!uses_model(static_cast<Node*>(stringToNode(expr)), &search)) continue;
    // As PostgreSQL's own dependency reports, the list stops at kListed lines.
    if (found < kListed)
      appendStringInfo(out, "%s%s uses model \"%s\"", found > 0 ? "\n" : "", what, name);
    last = what;
    ++found;
  }
  if (found > kListed) appendStringInfo(out, "\nand %d other objects", found - kListed);
  SPI_finish();
  return found;
}

}  // namespace embedding::pg
