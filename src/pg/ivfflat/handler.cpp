// ivfflathandler: the IndexAmRoutine of the ivfflat access method, every field set deliberately
// (new_vector_am_routine() sets what hnsw and ivfflat share).
#include "pg/ivfflat/ivfflat.h"

#include "pg/am/routine.h"

extern "C" {
#include "commands/progress.h"
#include "fmgr.h"
}

namespace {

char* ivfflat_buildphasename(int64 phase) {
  switch (phase) {
    case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
      return const_cast<char*>("initializing");
    case embedding::pg::ivfflat::kPhaseKMeans:
      return const_cast<char*>("performing k-means");
    case embedding::pg::ivfflat::kPhaseAssign:
      return const_cast<char*>("assigning tuples");
    case embedding::pg::ivfflat::kPhaseLoad:
      return const_cast<char*>("loading tuples");
    default:
      return nullptr;
  }
}

bool ivfflat_validate(Oid opclass) { return true; }

}  // namespace

extern "C" {
PG_FUNCTION_INFO_V1(ivfflathandler);
Datum ivfflathandler(PG_FUNCTION_ARGS) {
  IndexAmRoutine* am = embedding::pg::new_vector_am_routine();
  am->amsupport = 5;  // 1 distance, 2 norm, 3 k-means distance, 4 k-means norm, 5 type
  am->ambuild = ivfflat_build;
  am->ambuildempty = ivfflat_buildempty;
  am->aminsert = ivfflat_insert;
  am->ambulkdelete = ivfflat_bulkdelete;
  am->amvacuumcleanup = ivfflat_vacuumcleanup;
  am->amcostestimate = embedding::pg::scan_cost_estimate<embedding::pg::ivfflat::kCostModel>;
  am->amoptions = ivfflat_options;
  am->ambuildphasename = ivfflat_buildphasename;
  am->amvalidate = ivfflat_validate;
  am->ambeginscan = ivfflat_beginscan;
  am->amrescan = ivfflat_rescan;
  am->amgettuple = ivfflat_gettuple;
  am->amendscan = ivfflat_endscan;
  PG_RETURN_POINTER(am);
}
}
