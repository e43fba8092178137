// ivfflat_info(regclass): one row a list with how many rows and pages it holds, so that an
// unbalanced index (the data drifted from the sample its centers came from) can be seen.
#include <string>

#include "core/common/error.h"
#include "pg/am/inspect.h"
#include "pg/guard.h"
#include "pg/ivfflat/centers.h"
#include "pg/ivfflat/ivfflat.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/table.h"
#include "catalog/index.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

using namespace embedding::pg::ivfflat;

// For roles that may SELECT from the table (open_for_inspection()).
EMB_FUNCTION(ivfflat_info) {
  const embedding::pg::InspectedIndex opened = embedding::pg::open_for_inspection(
      PG_GETARG_OID(0), "ivfflat", "ivfflat_info", AccessShareLock);
  Relation heap = opened.heap;
  Relation index = opened.index;
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  MemoryContext cxt =
      AllocSetContextCreate(CurrentMemoryContext, "ivfflat info", ALLOCSET_DEFAULT_SIZES);
  Centers* centers = embedding::pg::new_owned<Centers>(cxt);
  read_centers(index, *centers);
  for (int list = 0; list < centers->meta.lists; ++list) {
    int64 rows = 0;
    int32 pages = 0;
    for (BlockNumber block = centers->first[list]; block != InvalidBlockNumber;) {
      embedding::pg::check_for_interrupts();
      Buffer buf = ReadBuffer(index, block);
      LockBuffer(buf, BUFFER_LOCK_SHARE);
      Page page = BufferGetPage(buf);
      for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); ++off)
        rows += ItemIdIsUsed(PageGetItemId(page, off));
      block = page_opaque(page)->next;
      UnlockReleaseBuffer(buf);
      ++pages;
    }
    Datum values[3] = {Int32GetDatum(list + 1), Int64GetDatum(rows), Int32GetDatum(pages)};
    bool nulls[3] = {false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  index_close(index, AccessShareLock);
  table_close(heap, opened.heap_lock);
  MemoryContextDelete(cxt);
  return static_cast<Datum>(0);
}
