// Placing a new element on the hnsw pages (the first step of an insert on disk, before the core's
// insert links it; also where relocate_duplicate() moves an element to).
#pragma once

#include "pg/hnsw/pages.h"

namespace embedding::pg::hnsw {

// Places an element tuple and its empty neighbour tuple on a page with room (extending the
// index if needed), WAL-logged. Returns the element's TID. The tuple has room for
// `reserved_tids` heap TIDs when that is more than heap_tid_count, so that later identical rows
// merge into it in place.
ItemPointerData place_element(Relation index, MetaPage& meta, const void* vector, int level,
                              const ItemPointerData* heap_tids, int heap_tid_count,
                              int reserved_tids = 0);

}  // namespace embedding::pg::hnsw
