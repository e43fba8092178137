// Inserting one vector into an hnsw index on disk: place its tuples, then link it with the core's
// insert algorithm over PageGraph. Used by aminsert and by a build that outgrew memory.
#pragma once

#include "pg/hnsw/pages.h"

namespace embedding::pg::hnsw {

// Adds `vector` (prepared: normalised for cosine) for heap row `heap_tid`. Holds the graph lock
// (graph.h) shared, or exclusively when the new element may become the entry point.
void insert_on_disk(Relation index, const void* vector, ItemPointer heap_tid);

// Places an element tuple and its empty neighbour tuple on a page with room (extending the
// index if needed), WAL-logged. Returns the element's TID. The tuple has room for
// `reserved_tids` heap TIDs when that is more than heap_tid_count, so that later identical rows
// merge into it in place.
ItemPointerData place_element(Relation index, MetaPage& meta, const void* vector, int level,
                              const ItemPointerData* heap_tids, int heap_tid_count,
                              int reserved_tids = 0);

}  // namespace embedding::pg::hnsw
