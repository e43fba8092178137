// What the index access methods share in ambulkdelete and amvacuumcleanup (see vacuum.h).
#include "pg/am/vacuum.h"

#include "pg/guard.h"

extern "C" {
#include "storage/bufmgr.h"
#include "utils/rel.h"
}

namespace embedding::pg {
namespace {

IndexBulkDeleteResult* new_stats() {
  return static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
}

}  // namespace

IndexBulkDeleteResult* bulk_delete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                   IndexBulkDeleteCallback callback, void* callback_state,
                                   VacuumPass pass) {
  return guarded([&]() {
    if (stats == nullptr) stats = new_stats();
    pass(info, stats, callback, callback_state);
    return stats;
  });
}

IndexBulkDeleteResult* vacuum_cleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                      VacuumPass count) {
  if (info->analyze_only) return stats;
  return guarded([&]() {
    if (stats == nullptr) {
      stats = new_stats();
      count(info, stats, nullptr, nullptr);
    }
    stats->num_pages = RelationGetNumberOfBlocks(info->index);
    return stats;
  });
}

}  // namespace embedding::pg
