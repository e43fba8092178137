// Opening an index for the inspection functions (hnsw_verify, ivfflat_info): who may, and with
// which locks.
#pragma once

extern "C" {
#include "postgres.h"

#include "storage/lockdefs.h"
#include "utils/rel.h"
}

namespace embedding::pg {

// For the inspection functions (hnsw_verify, ivfflat_info): checks that `relid` is an index of
// access method `am` on a table the caller may SELECT from and whose rows no row-level security
// policy hides from the caller (the functions report row counts; `function` names the function
// in the message), then opens the index with ACCESS SHARE and the table with `heap_lock` if the
// caller owns it, else with ACCESS SHARE: a lock that blocks writers is the owner's to take (a
// reader's SHARE lock queued behind a writer would stall every later writer).
struct InspectedIndex {
  Relation heap;
  Relation index;
  LOCKMODE heap_lock;  // the lock held on the table
};
InspectedIndex open_for_inspection(Oid relid, const char* am, const char* function,
                                   LOCKMODE heap_lock);

}  // namespace embedding::pg
