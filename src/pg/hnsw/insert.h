// Inserting one vector into an hnsw index on disk: place its tuples, then link it with the core's
// insert algorithm over PageGraph. Used by aminsert and by a build that outgrew memory.
#pragma once

#include "pg/hnsw/pages.h"

namespace embedding::pg::hnsw {

// Adds `vector` (prepared: normalised for cosine) for heap row `heap_tid`. Holds the graph lock
// (graph.h) shared, or exclusively when the new element may become the entry point.
void insert_on_disk(Relation index, const void* vector, ItemPointer heap_tid);

// Places an element tuple and its empty neighbour tuple on a page with room (extending the
// index if needed), WAL-logged. Returns the element's TID.
ItemPointerData place_element(Relation index, MetaPage& meta, const void* vector, int level,
                              const ItemPointerData* heap_tids, int heap_tid_count);

}  // namespace embedding::pg::hnsw
