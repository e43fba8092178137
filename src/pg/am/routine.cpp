// The IndexAmRoutine fields both vector access methods share, and amrescan's copy of the scan
// keys.
#include "pg/am/routine.h"

#include <cstring>

extern "C" {
#include "commands/vacuum.h"
}

namespace embedding::pg {

IndexAmRoutine* new_vector_am_routine() {
  IndexAmRoutine* am = makeNode(IndexAmRoutine);
  am->amstrategies = 0;  // ordering operators only, no search strategies
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
  am->amusemaintenanceworkmem = false;  // builds read maintenance_work_mem themselves
  am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
  am->amkeytype = InvalidOid;
  am->amcanreturn = nullptr;  // stored vectors may be normalised: no index-only scans
  am->amproperty = nullptr;
  am->amadjustmembers = nullptr;
  am->amgetbitmap = nullptr;
  am->ammarkpos = nullptr;
  am->amrestrpos = nullptr;
  am->amestimateparallelscan = nullptr;
  am->aminitparallelscan = nullptr;
  am->amparallelrescan = nullptr;
  return am;
}

void copy_scan_keys(IndexScanDesc scan, ScanKey keys, ScanKey orderbys) {
  if (keys && scan->numberOfKeys > 0)
    memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
  if (orderbys && scan->numberOfOrderBys > 0)
    memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

}  // namespace embedding::pg
