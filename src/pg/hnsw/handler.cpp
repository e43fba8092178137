// hnswhandler: the IndexAmRoutine of the hnsw access method, every field set deliberately, plus
// the build tuning the phases share.
#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/vector/stored_distance.h"
#include "pg/am/routine.h"
#include "pg/guard.h"
#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/options.h"
#include "pg/hnsw/pages.h"

extern "C" {
#include "access/reloptions.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
}

namespace embedding::pg::hnsw {

embedding::hnsw::BuildTuning index_tuning(Size vector_bytes) {
  embedding::hnsw::BuildTuning tuning;
  // Identical vectors share one element, as many as its page room allows (about a thousand for
  // small vectors), so that even a very common vector stays one reachable node.
  tuning.merge_duplicates = true;
  tuning.max_duplicates = static_cast<std::size_t>(max_heap_tids(vector_bytes) - 1);
  // A build of sparse vectors passes the largest size (build.cpp): each element's own size
  // decides instead. With the largest, copies of a small sparse vector would be split over many
  // elements, most of them unreachable.
  tuning.max_duplicates_for = [](std::size_t bytes) {
    return static_cast<std::size_t>(max_heap_tids(bytes) - 1);
  };
  return tuning;
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
  IndexAmRoutine* am = embedding::pg::new_vector_am_routine();
  am->amsupport = 3;  // 1 distance, 2 norm (cosine), 3 type support (pgvector's, unused)
  am->ambuild = hnsw_build;
  am->ambuildempty = hnsw_buildempty;
  am->aminsert = hnsw_insert;
  am->ambulkdelete = hnsw_bulkdelete;
  am->amvacuumcleanup = hnsw_vacuumcleanup;
  am->amcostestimate = embedding::pg::scan_cost_estimate<embedding::pg::hnsw::kCostModel>;
  am->amoptions = hnsw_options;
  am->ambuildphasename = hnsw_buildphasename;
  am->amvalidate = hnsw_validate;
  am->ambeginscan = hnsw_beginscan;
  am->amrescan = hnsw_rescan;
  am->amgettuple = hnsw_gettuple;
  am->amendscan = hnsw_endscan;
  PG_RETURN_POINTER(am);
}
}
