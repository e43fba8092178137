// ivfflat index options and GUCs (see options.h).
#include "pg/ivfflat/options.h"

#include "pg/ivfflat/ivfflat.h"

extern "C" {
#include "access/reloptions.h"
#include "utils/guc.h"
}

namespace embedding::pg::ivfflat {

Gucs gucs;

namespace {

relopt_kind ivfflat_relopt_kind;

struct IvfflatOptions {
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
  auto* options = reinterpret_cast<IvfflatOptions*>(index->rd_options);
  return options != nullptr ? options->lists : kDefaultLists;
}

}  // namespace embedding::pg::ivfflat

extern "C" bytea* ivfflat_options(Datum reloptions, bool validate) {
  using embedding::pg::ivfflat::IvfflatOptions;
  static const relopt_parse_elt table[] = {
      {"lists", RELOPT_TYPE_INT, offsetof(IvfflatOptions, lists)}};
  return static_cast<bytea*>(build_reloptions(reloptions, validate,
                                              embedding::pg::ivfflat::ivfflat_relopt_kind,
                                              sizeof(IvfflatOptions), table, lengthof(table)));
}
