// The ivfflat index access method (pgvector's second index): k-means centers on the first pages,
// then one chain of pages per center ("list") holding the vectors nearest to it. A scan ranks
// the centers, reads the `ivfflat.probes` nearest lists and returns their rows by distance.
//
// Layout: block 0 the metapage; blocks 1..center_pages the center tuples (center i is item i+1
// of page 1 + i / centers_per_page); then list pages, each list a chain linked through the page
// opaque's `next`. Every write after the build goes through generic WAL. Readers hold a page's
// share lock while they read it and copy what they keep.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/generic_xlog.h"
#include "commands/progress.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/rel.h"
}

#include <vector>

#include "core/vector/stored_distance.h"
#include "pg/index_vector.h"

namespace embedding::pg::ivfflat {

constexpr uint32 kMagic = 0x454d4249;  // "EMBI"
constexpr uint32 kVersion = 1;
constexpr uint16 kPageId = 0xE4B2;
constexpr BlockNumber kMetaBlock = 0;
constexpr int kDefaultLists = 100;
constexpr int kMaxLists = 32768;

struct PageOpaque {
  BlockNumber next;  // the list's next page (InvalidBlockNumber: the last)
  uint16 flags;
  uint16 page_id;  // kPageId
};

struct MetaPage {
  uint32 magic;
  uint32 version;
  uint32 dimensions;
  uint16 lists;
  uint8 format;  // embedding::Format
  uint8 metric;  // embedding::Metric
  uint16 centers_per_page;
  uint16 center_pages;
};

// A list's center and where its pages are; the vector follows (element_bytes(format, dims)).
struct CenterTuple {
  BlockNumber first;  // the list's first page
  BlockNumber last;   // where inserts start looking for room (VACUUM moves it back)
  alignas(4) uint8 vector[FLEXIBLE_ARRAY_MEMBER];
};

// One indexed row: its heap TID and its vector (element_bytes(format, dims), as the index
// stores it: normalised for cosine).
struct EntryTuple {
  ItemPointerData heap_tid;
  uint16 unused;
  alignas(4) uint8 vector[FLEXIBLE_ARRAY_MEMBER];
};

inline Size center_size(const MetaPage& meta) {
  return offsetof(CenterTuple, vector) +
         embedding::element_bytes(static_cast<Format>(meta.format), meta.dimensions);
}
inline Size entry_size(const MetaPage& meta) {
  return offsetof(EntryTuple, vector) +
         embedding::element_bytes(static_cast<Format>(meta.format), meta.dimensions);
}
inline BlockNumber center_block(const MetaPage& meta, int list) {
  return 1 + static_cast<BlockNumber>(list / meta.centers_per_page);
}
inline OffsetNumber center_offset(const MetaPage& meta, int list) {
  return static_cast<OffsetNumber>(list % meta.centers_per_page + 1);
}

// The distance that ranks centers for a vector: squared L2 for L2 indexes, hamming for bit
// strings, negative inner product for inner product and cosine (spherical k-means: the centers
// are unit vectors).
Metric center_metric(Metric metric);

void init_page(Page page);
MetaPage read_meta(Relation index);
// Throws Error(kCorruptData) naming the index and what is wrong.
[[noreturn]] void corrupt(Relation index, const char* what);

// The centers of an index read into memory (all lists), in the index's format.
struct Centers {
  MetaPage meta;
  std::vector<uint32> vectors;  // lists * words
  std::vector<BlockNumber> first;
  std::vector<BlockNumber> last;
  std::size_t words = 0;
  const void* vector(int list) const { return vectors.data() + list * words; }
};
// Reads them (each center page under its share lock). `out` must outlive any PostgreSQL error:
// the caller owns it in a memory context (new_owned).
void read_centers(Relation index, Centers& out);
// Moves the insert page of `list` (its center's `last`) to `block` (generic WAL).
void set_insert_page(Relation index, const MetaPage& meta, int list, BlockNumber block);

// GUCs (pgvector's names, ranges and defaults) and the lists reloption.
enum class IterativeScan { kOff = 0, kRelaxed = 1 };
struct Gucs {
  int probes = 1;
  int iterative_scan = 0;
  int max_probes = kMaxLists;
};
extern Gucs gucs;
void register_options();
int index_lists(Relation index);

}  // namespace embedding::pg::ivfflat

extern "C" {
bytea* ivfflat_options(Datum reloptions, bool validate);
IndexBuildResult* ivfflat_build(Relation heap, Relation index, IndexInfo* info);
void ivfflat_buildempty(Relation index);
bool ivfflat_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid,
                    Relation heap, IndexUniqueCheck check_unique, bool index_unchanged,
                    IndexInfo* info);
IndexBulkDeleteResult* ivfflat_bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                          IndexBulkDeleteCallback callback, void* callback_state);
IndexBulkDeleteResult* ivfflat_vacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);
void ivfflat_costestimate(PlannerInfo* root, IndexPath* path, double loop_count, Cost* startup_cost,
                          Cost* total_cost, Selectivity* selectivity, double* correlation,
                          double* pages);
IndexScanDesc ivfflat_beginscan(Relation index, int nkeys, int norderbys);
void ivfflat_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool ivfflat_gettuple(IndexScanDesc scan, ScanDirection dir);
void ivfflat_endscan(IndexScanDesc scan);
}
