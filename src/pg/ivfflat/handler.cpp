// ivfflathandler: the IndexAmRoutine of the ivfflat access method, its options, GUCs and cost
// estimate, and the page helpers its phases share.
#include <cstring>
#include <string>

#include "core/common/error.h"
#include "pg/guard.h"
#include "pg/ivfflat/ivfflat.h"

extern "C" {
#include "access/reloptions.h"
#include "commands/vacuum.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
}

namespace embedding::pg::ivfflat {

Gucs gucs;

namespace {

relopt_kind ivfflat_relopt_kind;

struct Options {
  int32 vl_len_;
  int lists;
};

const struct config_enum_entry kIterativeScanOptions[] = {
    {"off", static_cast<int>(IterativeScan::kOff), false},
    {"relaxed_order", static_cast<int>(IterativeScan::kRelaxed), false},
    {nullptr, 0, false},
};

}  // namespace

void register_options() {
  ivfflat_relopt_kind = add_reloption_kind();
  add_int_reloption(ivfflat_relopt_kind, "lists", "Number of inverted lists", kDefaultLists, 1,
                    kMaxLists, AccessExclusiveLock);
  DefineCustomIntVariable("ivfflat.probes", "Sets the number of probes", "Valid range is 1..lists.",
                          &gucs.probes, 1, 1, kMaxLists, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomEnumVariable("ivfflat.iterative_scan", "Sets the mode for iterative scans", nullptr,
                           &gucs.iterative_scan, 0, kIterativeScanOptions, PGC_USERSET, 0, nullptr,
                           nullptr, nullptr);
  // Below probes it has no effect: probes are always searched.
  DefineCustomIntVariable("ivfflat.max_probes", "Sets the max number of probes for iterative scans",
                          nullptr, &gucs.max_probes, kMaxLists, 1, kMaxLists, PGC_USERSET, 0,
                          nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("ivfflat");
}

int index_lists(Relation index) {
  auto* options = reinterpret_cast<Options*>(index->rd_options);
  return options != nullptr ? options->lists : kDefaultLists;
}

Metric center_metric(Metric metric) {
  if (metric == Metric::kL2 || metric == Metric::kHamming) return metric;
  return Metric::kInnerProduct;
}

void init_page(Page page) {
  PageInit(page, BLCKSZ, sizeof(PageOpaque));
  auto* opaque = reinterpret_cast<PageOpaque*>(PageGetSpecialPointer(page));
  opaque->next = InvalidBlockNumber;
  opaque->flags = 0;
  opaque->page_id = kPageId;
}

[[noreturn]] void corrupt(Relation index, const char* what) {
  throw Error(
      ErrorCode::kCorruptData,
      std::string("ivfflat index \"") + RelationGetRelationName(index) + "\" is corrupt: " + what);
}

MetaPage read_meta(Relation index) {
  Buffer buf = ReadBuffer(index, kMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  MetaPage meta;
  std::memcpy(&meta, PageGetContents(page), sizeof meta);
  UnlockReleaseBuffer(buf);
  if (meta.magic != kMagic || meta.version != kVersion || meta.lists < 1 ||
      meta.centers_per_page < 1)
    corrupt(index, "bad metapage");
  return meta;
}

void read_centers(Relation index, Centers& out) {
  out.meta = read_meta(index);
  const MetaPage& meta = out.meta;
  const Size bytes = center_size(meta) - offsetof(CenterTuple, vector);
  out.words = bytes / sizeof(uint32);
  out.vectors.resize(meta.lists * out.words);
  out.first.resize(meta.lists);
  out.last.resize(meta.lists);
  // A page at a time, all of its centers read under its share lock.
  for (int start = 0; start < meta.lists; start += meta.centers_per_page) {
    Buffer buf = ReadBuffer(index, center_block(meta, start));
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    const int end = std::min<int>(meta.lists, start + meta.centers_per_page);
    for (int i = start; i < end; ++i) {
      const OffsetNumber off = center_offset(meta, i);
      if (off > PageGetMaxOffsetNumber(page)) {
        UnlockReleaseBuffer(buf);
        corrupt(index, "missing center");
      }
      auto* center = reinterpret_cast<CenterTuple*>(PageGetItem(page, PageGetItemId(page, off)));
      out.first[i] = center->first;
      out.last[i] = center->last;
      std::memcpy(out.vectors.data() + i * out.words, center->vector, bytes);
    }
    UnlockReleaseBuffer(buf);
  }
}

}  // namespace embedding::pg::ivfflat

using namespace embedding::pg::ivfflat;

extern "C" bytea* ivfflat_options(Datum reloptions, bool validate) {
  static const relopt_parse_elt tab[] = {{"lists", RELOPT_TYPE_INT, offsetof(Options, lists)}};
  return static_cast<bytea*>(build_reloptions(reloptions, validate, ivfflat_relopt_kind,
                                              sizeof(Options), tab, lengthof(tab)));
}

// pgvector's model: genericcostestimate's cost of reading the whole index, half of its pages
// priced as sequential reads; the start-up cost is the share of it the probed lists make
// (probes / lists), with pages beyond the table's priced as a sequential scan would.
extern "C" void ivfflat_costestimate(PlannerInfo* root, IndexPath* path, double loop_count,
                                     Cost* startup_cost, Cost* total_cost, Selectivity* selectivity,
                                     double* correlation, double* pages) {
  if (path->indexorderbys == NIL) {
    *startup_cost = get_float8_infinity();
    *total_cost = get_float8_infinity();
    *selectivity = 0;
    *correlation = 0;
    *pages = 0;
    return;
  }
  GenericCosts costs;
  MemSet(&costs, 0, sizeof(costs));
  genericcostestimate(root, path, loop_count, &costs);
  const int lists = embedding::pg::guarded([&] {
    Relation index = index_open(path->indexinfo->indexoid, NoLock);
    const MetaPage meta = read_meta(index);
    index_close(index, NoLock);
    return static_cast<int>(meta.lists);
  });
  const double ratio = std::min(1.0, static_cast<double>(gucs.probes) / lists);
  double random_page_cost;
  double seq_page_cost;
  get_tablespace_page_costs(path->indexinfo->reltablespace, &random_page_cost, &seq_page_cost);
  constexpr double kSequentialShare = 0.5;
  Cost total = costs.indexTotalCost -
               kSequentialShare * costs.numIndexPages * (random_page_cost - seq_page_cost);
  Cost startup = total * ratio;
  const double startup_pages = costs.numIndexPages * ratio;
  const double heap_pages = path->indexinfo->rel->pages;
  if (startup_pages > heap_pages && ratio < 0.5) {
    startup -= (1 - kSequentialShare) * startup_pages * (random_page_cost - seq_page_cost);
    startup -= (startup_pages - heap_pages) * seq_page_cost;
  }
  *startup_cost = startup;
  *total_cost = total;
  *selectivity = costs.indexSelectivity;
  *correlation = costs.indexCorrelation;
  *pages = costs.numIndexPages;
}

namespace {

char* ivfflat_buildphasename(int64 phase) {
  switch (phase) {
    case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
      return const_cast<char*>("initializing");
    case 2:
      return const_cast<char*>("performing k-means");
    case 3:
      return const_cast<char*>("assigning tuples");
    case 4:
      return const_cast<char*>("loading tuples");
    default:
      return nullptr;
  }
}

bool ivfflat_validate(Oid opclass) { return true; }

}  // namespace

extern "C" {
PG_FUNCTION_INFO_V1(ivfflathandler);
Datum ivfflathandler(PG_FUNCTION_ARGS) {
  IndexAmRoutine* am = embedding::pg::new_vector_am_routine();
  am->amsupport = 5;  // 1 distance, 2 norm, 3 k-means distance, 4 k-means norm, 5 type
  am->ambuild = ivfflat_build;
  am->ambuildempty = ivfflat_buildempty;
  am->aminsert = ivfflat_insert;
  am->ambulkdelete = ivfflat_bulkdelete;
  am->amvacuumcleanup = ivfflat_vacuumcleanup;
  am->amcostestimate = ivfflat_costestimate;
  am->amoptions = ivfflat_options;
  am->ambuildphasename = ivfflat_buildphasename;
  am->amvalidate = ivfflat_validate;
  am->ambeginscan = ivfflat_beginscan;
  am->amrescan = ivfflat_rescan;
  am->amgettuple = ivfflat_gettuple;
  am->amendscan = ivfflat_endscan;
  PG_RETURN_POINTER(am);
}
}
