// index_recall(index, queries, k): how many of the exact k nearest rows an hnsw or ivfflat index
// finds with the session's settings (hnsw.ef_search, ivfflat.probes, iterative scans), over rows
// of the indexed table sampled as queries. The caller needs SELECT on the table.
#include <cmath>
#include <cstring>
#include <string>

#include "core/common/error.h"
#include "pg/guard.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

using embedding::Error;
using embedding::ErrorCode;

namespace {

constexpr int kMaxQueries = 100000;
constexpr int kMaxK = 10000;

struct RecallResult {
  double recall;
  int queries;
};

// "OPERATOR(schema.name)" for an operator, safe to splice into SQL.
char* operator_sql(Oid op) {
  HeapTuple tuple = SearchSysCache1(OPEROID, ObjectIdGetDatum(op));
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for operator %u", op);
  auto* form = reinterpret_cast<Form_pg_operator>(GETSTRUCT(tuple));
  char* sql = psprintf("OPERATOR(%s.%s)", quote_identifier(get_namespace_name(form->oprnamespace)),
                       NameStr(form->oprname));
  ReleaseSysCache(tuple);
  return sql;
}

// PostgreSQL calls only (run under pg_call).
RecallResult measure(Oid index_oid, int queries, int k) {
  Relation index = index_open(index_oid, AccessShareLock);
  if (index->rd_rel->relkind != RELKIND_INDEX)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("index_recall needs the index of a table, not the partitioned index "
                           "\"%s\"",
                           RelationGetRelationName(index)),
                    errhint("Measure the index of one partition.")));
  const Oid heap_oid = index->rd_index->indrelid;
  if (pg_class_aclcheck(heap_oid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied for table %s", get_rel_name(heap_oid))));
  // The index pass reads the heap directly: with row-level security it would see rows the
  // caller may not.
  if (check_enable_rls(heap_oid, InvalidOid, false) == RLS_ENABLED)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("index_recall does not support tables with row-level security")));
  const char* am = get_am_name(index->rd_rel->relam);
  if (am == nullptr || (strcmp(am, "hnsw") != 0 && strcmp(am, "ivfflat") != 0))
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                    errmsg("index \"%s\" is not an hnsw or ivfflat index",
                           RelationGetRelationName(index))));
  const AttrNumber column = index->rd_index->indkey.values[0];
  if (index->rd_index->indnatts != 1 || column == 0)
    ereport(ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("index_recall needs an index on one plain column"),
             errdetail("Index \"%s\" is on an expression.", RelationGetRelationName(index))));
  const Oid type = index->rd_opcintype[0];
  const Oid op = get_opfamily_member(index->rd_opfamily[0], type, type, 1);
  if (!OidIsValid(op))
    elog(ERROR, "index \"%s\" has no ordering operator", RelationGetRelationName(index));
  const Oid distance_fn = get_opcode(op);
  const Oid collation = index->rd_indcollation[0];
  const char* table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(heap_oid)),
                                                 get_rel_name(heap_oid));
  const char* col = quote_identifier(get_attname(heap_oid, column, false));
  const char* opsql = operator_sql(op);

  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  // The sample and the exact pass run as the caller (row-level security applies).
  if (SPI_execute(
          psprintf("SELECT %s FROM ONLY %s WHERE %s IS NOT NULL ORDER BY pg_catalog.random() "
                   "LIMIT %d",
                   col, table, col, queries),
          true, 0) != SPI_OK_SELECT)
    elog(ERROR, "could not sample %s", table);
  const int sampled = static_cast<int>(SPI_processed);
  Datum* samples = static_cast<Datum*>(MemoryContextAlloc(caller, sizeof(Datum) * (sampled + 1)));
  {
    int16 typlen;
    bool typbyval;
    get_typlenbyval(SPI_gettypeid(SPI_tuptable->tupdesc, 1), &typlen, &typbyval);
    MemoryContext spi = MemoryContextSwitchTo(caller);
    for (int i = 0; i < sampled; ++i) {
      bool isnull;
      samples[i] =
          datumCopy(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull),
                    typbyval, typlen);
    }
    MemoryContextSwitchTo(spi);
  }
  // The exact pass: "+ 0" keeps the planner from ordering by the index.
  const char* exact_sql = psprintf(
      "SELECT (%s %s $1) OPERATOR(pg_catalog.+) 0::pg_catalog.float8 FROM ONLY %s WHERE %s IS NOT "
      "NULL "
      "ORDER BY 1 LIMIT %d",
      col, opsql, table, col, k);
  SPIPlanPtr exact = SPI_prepare(exact_sql, 1, const_cast<Oid*>(&type));
  if (exact == nullptr) elog(ERROR, "could not prepare the exact search of %s", table);
  Relation heap = table_open(heap_oid, AccessShareLock);
  TupleTableSlot* slot = table_slot_create(heap, nullptr);
  double total = 0.0;
  for (int q = 0; q < sampled; ++q) {
    CHECK_FOR_INTERRUPTS();
    Datum args[1] = {samples[q]};
    if (SPI_execute_plan(exact, args, nullptr, true, 0) != SPI_OK_SELECT)
      elog(ERROR, "could not search %s exactly", table);
    const uint64 expected = SPI_processed;
    if (expected == 0) continue;
    bool isnull;
    const double threshold = DatumGetFloat8(
        SPI_getbinval(SPI_tuptable->vals[expected - 1], SPI_tuptable->tupdesc, 1, &isnull));
    SPI_freetuptable(SPI_tuptable);
    // The index pass, through the access method with the session's settings; a row counts when
    // it is as near as the exact k-th (ties at the boundary are as good as any).
    IndexScanDesc scan = index_beginscan(heap, index, GetActiveSnapshot(), 0, 1);
    ScanKeyData order;
    ScanKeyEntryInitialize(&order, 0, 1, 1, type, collation, distance_fn, samples[q]);
    index_rescan(scan, nullptr, 0, &order, 1);
    uint64 found = 0, hits = 0;
    while (found < expected && index_getnext_slot(scan, ForwardScanDirection, slot)) {
      ++found;
      Datum value = slot_getattr(slot, column, &isnull);
      if (isnull) continue;
      const double d =
          DatumGetFloat8(OidFunctionCall2Coll(distance_fn, collation, value, samples[q]));
      // The index ranks by float32 kernels, SQL by its function: equal up to float rounding.
      if (d <= threshold + 1e-6 * (1.0 + std::fabs(threshold))) ++hits;
    }
    index_endscan(scan);
    total += static_cast<double>(hits) / static_cast<double>(expected);
  }
  ExecDropSingleTupleTableSlot(slot);
  table_close(heap, AccessShareLock);
  SPI_finish();
  index_close(index, AccessShareLock);
  return {sampled > 0 ? total / sampled : 0.0, sampled};
}

}  // namespace

EMB_FUNCTION(index_recall) {
  const Oid index = PG_GETARG_OID(0);
  const int queries = PG_GETARG_INT32(1);
  const int k = PG_GETARG_INT32(2);
  if (queries < 1 || queries > kMaxQueries)
    throw Error(ErrorCode::kInvalidParameter,
                "queries must be between 1 and " + std::to_string(kMaxQueries));
  if (k < 1 || k > kMaxK)
    throw Error(ErrorCode::kInvalidParameter, "k must be between 1 and " + std::to_string(kMaxK));
  RecallResult result{0, 0};
  Datum row = 0;
  embedding::pg::pg_call([&] {
    result = measure(index, queries, k);
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
      elog(ERROR, "index_recall must return a record");
    desc = BlessTupleDesc(desc);
    Datum values[2] = {Float8GetDatum(result.recall), Int32GetDatum(result.queries)};
    bool nulls[2] = {result.queries == 0, false};
    row = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
  });
  return row;
}
