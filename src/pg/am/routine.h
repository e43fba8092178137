// The IndexAmRoutine fields both vector access methods (hnsw, ivfflat) share, and amrescan's
// copy of the scan keys.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/amapi.h"
#include "access/relscan.h"
}

namespace embedding::pg {

// A new IndexAmRoutine with what both vector access methods share, every field set: ordering
// operators only (ORDER BY column <op> value), one column, no unique, bitmap, backward,
// parallel or index-only scans, parallel bulk delete. The caller sets amsupport and callbacks.
IndexAmRoutine* new_vector_am_routine();
// amrescan's part that both share: the new scan and order-by keys into the scan descriptor.
void copy_scan_keys(IndexScanDesc scan, ScanKey keys, ScanKey orderbys);

}  // namespace embedding::pg
