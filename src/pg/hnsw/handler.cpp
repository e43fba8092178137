// hnswhandler: the IndexAmRoutine of the hnsw access method, every field set deliberately, plus
// the per-index facts the phases share (metric, dimensions, vector preparation).
#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/hnsw/distance.h"
#include "pg/guard.h"
#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/options.h"
#include "pg/hnsw/pages.h"
#include "pg/vector.h"

extern "C" {
#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "utils/lsyscache.h"
}

namespace embedding::pg::hnsw {

using embedding::hnsw::Metric;

embedding::hnsw::BuildTuning index_tuning(int dimensions) {
  embedding::hnsw::BuildTuning tuning;
  // Identical vectors share one element, as many as its page room allows (about a thousand for
  // small vectors), so that even a very common vector stays one reachable node.
  tuning.merge_duplicates = true;
  tuning.max_duplicates = static_cast<std::size_t>(max_heap_tids(dimensions) - 1);
  return tuning;
}

Metric index_metric(Relation index) {
  Oid distance_proc = index_getprocid(index, 1, 1);
  const char* name = get_func_name(distance_proc);
  if (name == nullptr) throw Error(ErrorCode::kInternal, "hnsw opclass has no distance function");
  if (std::strcmp(name, "vector_l2_squared_distance") == 0 || std::strcmp(name, "l2_distance") == 0)
    return Metric::kL2;
  if (std::strcmp(name, "l1_distance") == 0) return Metric::kL1;
  if (std::strcmp(name, "vector_negative_inner_product") == 0 ||
      std::strcmp(name, "inner_product") == 0)
    return OidIsValid(index_getprocid(index, 1, 2)) ? Metric::kCosine : Metric::kInnerProduct;
  if (std::strcmp(name, "cosine_distance") == 0) return Metric::kCosine;
  throw Error(ErrorCode::kFeature, "type not supported for hnsw index");
}

int index_dimensions(Relation index) {
  // The opclasses exist for `vector` only, so the column type is right by construction.
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(index), 0);
  int dims = attr->atttypmod;
  if (dims < 0) throw Error(ErrorCode::kDataException, "column does not have dimensions");
  if (dims > kMaxIndexDimensions)
    throw Error(ErrorCode::kProgramLimit, "column cannot have more than " +
                                              std::to_string(kMaxIndexDimensions) +
                                              " dimensions for hnsw index");
  return dims;
}

bool prepare_vector(Datum value, Metric metric, int dimensions, float* out) {
  PgVector* v = detoast_vector(value);
  if (v->dim != dimensions)
    throw Error(ErrorCode::kDataException, "expected " + std::to_string(dimensions) +
                                               " dimensions, not " + std::to_string(v->dim));
  std::memcpy(out, v->x, sizeof(float) * dimensions);
  if (metric == Metric::kCosine) return embedding::hnsw::normalize(out, dimensions);
  return true;
}

}  // namespace embedding::pg::hnsw

namespace {

char* hnsw_buildphasename(int64 phase) {
  switch (phase) {
    case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
      return const_cast<char*>("initializing");
    case embedding::pg::hnsw::kPhaseLoad:
      return const_cast<char*>("loading tuples");
    case embedding::pg::hnsw::kPhaseLink:
      return const_cast<char*>("linking the graph");
    case embedding::pg::hnsw::kPhaseWrite:
      return const_cast<char*>("writing pages");
    default:
      return nullptr;
  }
}

bool hnsw_validate(Oid opclass) { return true; }

}  // namespace

extern "C" {
PG_FUNCTION_INFO_V1(hnswhandler);
Datum hnswhandler(PG_FUNCTION_ARGS) {
  IndexAmRoutine* am = makeNode(IndexAmRoutine);
  am->amstrategies = 0;  // ordering operators only, no search strategies
  am->amsupport = 3;     // 1 distance, 2 norm (cosine), 3 type support (reserved)
  am->amoptsprocnum = 0;
  am->amcanorder = false;
  am->amcanorderbyop = true;  // ORDER BY embedding <op> $1
  am->amcanbackward = false;
  am->amcanunique = false;
  am->amcanmulticol = false;
  am->amoptionalkey = true;
  am->amsearcharray = false;
  am->amsearchnulls = false;
  am->amstorage = false;
  am->amclusterable = false;
  am->ampredlocks = false;
  am->amcanparallel = false;
  am->amcaninclude = false;
  am->amusemaintenanceworkmem = false;  // the build reads maintenance_work_mem itself
  am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
  am->amkeytype = InvalidOid;

  am->ambuild = hnsw_build;
  am->ambuildempty = hnsw_buildempty;
  am->aminsert = hnsw_insert;
  am->ambulkdelete = hnsw_bulkdelete;
  am->amvacuumcleanup = hnsw_vacuumcleanup;
  am->amcanreturn = nullptr;  // vectors are stored normalised for cosine: no index-only scans
  am->amcostestimate = hnsw_costestimate;
  am->amoptions = hnsw_options;
  am->amproperty = nullptr;
  am->ambuildphasename = hnsw_buildphasename;
  am->amvalidate = hnsw_validate;
  am->amadjustmembers = nullptr;
  am->ambeginscan = hnsw_beginscan;
  am->amrescan = hnsw_rescan;
  am->amgettuple = hnsw_gettuple;
  am->amgetbitmap = nullptr;
  am->amendscan = hnsw_endscan;
  am->ammarkpos = nullptr;
  am->amrestrpos = nullptr;
  am->amestimateparallelscan = nullptr;
  am->aminitparallelscan = nullptr;
  am->amparallelrescan = nullptr;
  PG_RETURN_POINTER(am);
}
}
