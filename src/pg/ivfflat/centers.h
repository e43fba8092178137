// The centers of an ivfflat index: the distance that ranks them, all of them read into memory for
// a scan, an insert or VACUUM, and the insert page each center keeps for its list.
#pragma once

#include <cstddef>
#include <vector>

#include "pg/ivfflat/pages.h"

namespace embedding::pg::ivfflat {

// The distance that ranks centers for a vector: squared L2 for L2 indexes, hamming for bit
// strings, negative inner product for inner product and cosine (spherical k-means: the centers
// are unit vectors).
Metric center_metric(Metric metric);

// The centers of an index read into memory (all lists), in the index's format.
struct Centers {
  MetaPage meta;
  std::vector<uint32> vectors;  // lists * words
  std::vector<BlockNumber> first;
  std::vector<BlockNumber> last;
  std::vector<BlockNumber> code_first;  // quantised indexes: each list's first code page
  std::vector<BlockNumber> code_last;   // and its code insert page as the center last said
  std::size_t words = 0;
  const void* vector(int list) const { return vectors.data() + list * words; }
};
// Reads them (each center page under its share lock). `out` must outlive any PostgreSQL error:
// the caller owns it in a memory context (new_owned).
void read_centers(Relation index, Centers& out);
// Moves the insert page of `list` (its center's `last`; with `codes`, its code chain's `last`,
// where code inserts start looking for room) to `block` (generic WAL).
void set_insert_page(Relation index, const MetaPage& meta, int list, BlockNumber block,
                     bool codes = false);

}  // namespace embedding::pg::ivfflat
