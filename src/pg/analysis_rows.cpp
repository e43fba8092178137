// The analysis functions' query reader (see analysis_rows.h).
#include "pg/analysis_rows.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "pg/halfvec.h"
#include "pg/pg_call.h"
#include "pg/vector.h"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/syscache.h"
}

namespace embedding::pg {
namespace {

constexpr long kFetchRows = 1000;
constexpr std::size_t kNoticeRows = 10000;
constexpr std::chrono::seconds kNoticeInterval{2};  // between two per-step NOTICEs

// A type of this extension by name (in its schema, whatever the search_path). Inside SPI.
Oid extension_type(const char* name) {
  if (SPI_execute("SELECT extnamespace FROM pg_catalog.pg_extension "
                  "WHERE extname OPERATOR(pg_catalog.=) 'embedding'",
                  true, 1) != SPI_OK_SELECT ||
      SPI_processed != 1)
    elog(ERROR, "extension \"embedding\" is not installed");
  bool isnull;
  const Oid schema =
      DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name),
                         ObjectIdGetDatum(schema));
}

bool is_number_type(Oid type) {
  return type == INT2OID || type == INT4OID || type == INT8OID || type == FLOAT4OID ||
         type == FLOAT8OID || type == NUMERICOID;
}

// Grows a huge palloc'd array to hold at least `needed` elements of `size` bytes.
void* grow(void* array, std::size_t* capacity, std::size_t needed, std::size_t size) {
  if (needed <= *capacity) return array;
  std::size_t next = Max(*capacity * 2, Max(needed, std::size_t{1024}));
  void* grown = array ? repalloc_huge(array, next * size)
                      : MemoryContextAllocHuge(CurrentMemoryContext, next * size);
  *capacity = next;
  return grown;
}

// Refuses a query that is not one read-only SELECT (a write, SELECT INTO, FOR UPDATE, a
// data-modifying WITH, several statements) with our error, before SPI's own "not allowed in a
// non-volatile function", which names nothing the user wrote.
void check_read_only(const char* function, SPIPlanPtr plan) {
  List* sources = SPI_plan_get_plan_sources(plan);
  const char* why = nullptr;
  if (list_length(sources) != 1) why = psprintf("It holds %d statements.", list_length(sources));
  ListCell* cell;
  foreach (cell, sources) {
    auto* source = static_cast<CachedPlanSource*>(lfirst(cell));
    ListCell* query_cell;
    foreach (query_cell, source->query_list) {
      const Query* query = lfirst_node(Query, query_cell);
      if (query->commandType != CMD_SELECT || query->utilityStmt != nullptr)
        why = psprintf("It is %s.", GetCommandTagName(source->commandTag));
      else if (query->hasModifyingCTE)
        why = "Its WITH clause writes rows.";
      else if (query->rowMarks != NIL)
        why = "It locks rows (FOR UPDATE or FOR SHARE).";
    }
  }
  if (why != nullptr)
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
             errmsg("%s: the query must be one read-only SELECT", function), errdetail("%s", why)));
}

}  // namespace

void progress_notice(const char* function, std::size_t rows, const char* message) {
  if (rows >= kNoticeRows) ereport(NOTICE, (errmsg("%s: %s", function, message)));
}

ProgressNotices::ProgressNotices(const char* function, std::size_t rows, std::size_t min_rows)
    : function_(function), enabled_(rows >= min_rows), last_(std::chrono::steady_clock::now()) {}

void ProgressNotices::operator()(const std::string& message) {
  const auto now = std::chrono::steady_clock::now();
  if (!enabled_ || now - last_ < kNoticeInterval) return;
  last_ = now;
  pg_call([&] { ereport(NOTICE, (errmsg("%s: %s", function_, message.c_str()))); });
}

void read_query_rows(const char* function, const char* query, const ColumnKind* kinds, int count,
                     int required, QueryRows* out) {
  MemoryContext caller = CurrentMemoryContext;
  const Size limit = static_cast<Size>(maintenance_work_mem) * 1024;
  Size used = 0;
  int other_dims = 0;  // a vector's dimensions that differ from the first's
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  const Oid vector_type = extension_type("vector"), halfvec_type = extension_type("halfvec");
  SPIPlanPtr plan = SPI_prepare(query, 0, nullptr);
  if (plan == nullptr)
    ereport(ERROR,
            (errcode(ERRCODE_SYNTAX_ERROR), errmsg("%s: could not prepare the query: %s", function,
                                                   SPI_result_code_string(SPI_result))));
  // Read-only: a query that writes is refused; it runs as the calling role.
  check_read_only(function, plan);
  Portal portal = SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
  std::size_t capacity = 0, text_capacity[QueryRows::kMaxColumns] = {};
  std::size_t number_capacity[QueryRows::kMaxColumns] = {};
  *out = QueryRows{};
  Oid types[QueryRows::kMaxColumns] = {};
  for (;;) {
    CHECK_FOR_INTERRUPTS();
    SPI_cursor_fetch(portal, true, kFetchRows);
    const uint64 fetched = SPI_processed;
    if (fetched == 0) break;
    TupleDesc desc = SPI_tuptable->tupdesc;
    if (out->columns == 0) {
      if (desc->natts < required || desc->natts > count)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: the query must return %d%s column%s, not %d", function,
                               required, count > required ? " or more" : "",
                               required == 1 ? "" : "s", desc->natts)));
      out->columns = desc->natts;
      for (int c = 0; c < desc->natts; ++c) {
        types[c] = SPI_gettypeid(desc, c + 1);
        const bool ok = kinds[c] == ColumnKind::kVector
                            ? types[c] == vector_type || types[c] == halfvec_type
                        : kinds[c] == ColumnKind::kNumber ? is_number_type(types[c])
                                                          : true;
        if (!ok)
          ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                          errmsg("%s: column %d of the query must be %s, not %s", function, c + 1,
                                 kinds[c] == ColumnKind::kVector ? "vector or halfvec" : "a number",
                                 format_type_be(types[c]))));
      }
    }
    for (uint64 r = 0; r < fetched; ++r) {
      HeapTuple tuple = SPI_tuptable->vals[r];
      const std::size_t row = out->rows + r;
      for (int c = 0; c < out->columns; ++c) {
        bool isnull;
        Datum value = SPI_getbinval(tuple, desc, c + 1, &isnull);
        if (isnull)
          ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                          errmsg("%s: row %zu, column %d is NULL", function, row + 1, c + 1)));
        MemoryContext spi = MemoryContextSwitchTo(caller);
        if (kinds[c] == ColumnKind::kVector) {
          int dims;
          const float* floats = nullptr;
          const vec::Half* halfs = nullptr;
          if (types[c] == vector_type) {
            const PgVector* v = detoast_vector(value);
            dims = v->dim;
            floats = v->x;
          } else {
            const PgHalfVector* v = detoast_halfvec(value);
            dims = v->dim;
            halfs = v->x;
          }
          if (row == 0) out->dims = dims;
          if (dims != out->dims) {
            other_dims = dims;
            goto mixed;
          }
          used += sizeof(float) * dims;
          if (used > limit) goto too_big;
          out->vectors =
              static_cast<float*>(grow(out->vectors, &capacity, (row + 1) * dims, sizeof(float)));
          float* to = out->vectors + row * dims;
          if (floats != nullptr)
            memcpy(to, floats, sizeof(float) * dims);
          else
            for (int j = 0; j < dims; ++j) to[j] = vec::half_to_float(halfs[j]);
        } else {
          char* text = SPI_getvalue(tuple, desc, c + 1);
          if (kinds[c] == ColumnKind::kText) {
            used += strlen(text) + 1 + sizeof(char*);
            if (used > limit) goto too_big;
            out->texts[c] =
                static_cast<char**>(grow(out->texts[c], &text_capacity[c], row + 1, sizeof(char*)));
            out->texts[c][row] = text;
          } else {
            const double number = strtod(text, nullptr);
            if (!std::isfinite(number))
              ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                              errmsg("%s: row %zu, column %d is not a finite number", function,
                                     row + 1, c + 1)));
            used += sizeof(double);
            if (used > limit) goto too_big;
            out->numbers[c] = static_cast<double*>(
                grow(out->numbers[c], &number_capacity[c], row + 1, sizeof(double)));
            out->numbers[c][row] = number;
          }
        }
        MemoryContextSwitchTo(spi);
      }
    }
    out->rows += fetched;
    SPI_freetuptable(SPI_tuptable);
  }
  SPI_cursor_close(portal);
  SPI_finish();
  if (out->rows == 0)
    ereport(ERROR,
            (errcode(ERRCODE_NO_DATA_FOUND), errmsg("%s: the query returned no rows", function)));
  return;
mixed:
  ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                  errmsg("%s: the vectors have different dimensions (%d and %d)", function,
                         out->dims, other_dims)));
too_big:
  ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                  errmsg("%s: the query's rows need more than maintenance_work_mem (%d kB)",
                         function, maintenance_work_mem),
                  errhint("Raise maintenance_work_mem, or sample the rows (TABLESAMPLE, LIMIT).")));
}

}  // namespace embedding::pg
