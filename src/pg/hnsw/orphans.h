// VACUUM's last hnsw step: live elements that no search can reach get an in-link.
#pragma once

#include "pg/hnsw/pages.h"

namespace embedding::pg::hnsw {

// Gives every live element that a search cannot reach (no walk from the entry point or an element
// above layer 0 over layer-0 links reaches it; see hnsw_verify) a place in the layer-0 list of
// its closest reached neighbour, replacing, in a full list, the member farthest from that
// neighbour among those with another in-link from a reached element; as the build does for
// elements without in-links (core MemoryGraph::connect_orphans()). Once linked, a group of
// elements that linked only among themselves is reached with it. Inserts on disk leave a few
// such elements (a later insert's re-selection dropped their last in-link), and no scan can
// return their rows. Reads the index beside inserts, then takes the graph lock exclusively to
// link (callers hold no graph lock). Not for inner product, where most elements have no in-link
// by nature (see connect_orphans()). When the links (4 bytes each) would not fit in
// maintenance_work_mem, only elements without in-links are found (groups are missed). Returns how
// many it linked.
long connect_orphans(Relation index, BufferAccessStrategy strategy);

}  // namespace embedding::pg::hnsw
