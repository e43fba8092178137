// What the index access methods share in ambuild and ambuildempty (see build.h).
#include "pg/am/build.h"

#include <algorithm>
#include <thread>

extern "C" {
#include "access/xloginsert.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
}

namespace embedding::pg {

int build_threads() {
  return std::max(1, std::min<int>(max_parallel_maintenance_workers + 1,
                                   static_cast<int>(std::thread::hardware_concurrency())));
}

void report_build_threads(int threads, const char* detail) {
  if (threads > 1)
    ereport(DEBUG1, (errmsg("using %d parallel workers", threads - 1), errdetail("%s", detail)));
}

void check_new_index(Relation index) {
  if (RelationGetNumberOfBlocks(index) != 0)
    elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
}

IndexBuildResult* finish_build(MemoryContext context, double heap_tuples, double index_tuples) {
  auto* result = static_cast<IndexBuildResult*>(palloc(sizeof(IndexBuildResult)));
  result->heap_tuples = heap_tuples;
  result->index_tuples = index_tuples;
  MemoryContextDelete(context);
  return result;
}

void log_build_pages(Relation index) {
  if (RelationNeedsWAL(index))
    log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);
}

void write_init_fork(Relation index, const Page* pages, int count) {
  for (BlockNumber block = 0; block < static_cast<BlockNumber>(count); ++block) {
    Page page = pages[block];
    PageSetChecksumInplace(page, block);
    smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, block, page, true);
    log_newpage(&RelationGetSmgr(index)->smgr_rnode.node, INIT_FORKNUM, block, page, true);
  }
  smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}

}  // namespace embedding::pg
