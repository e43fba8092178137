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
  int quantization;  // Quantization
};

relopt_enum_elt_def kQuantizationValues[] = {
    {"none", static_cast<int>(Quantization::kNone)},
    {"rabitq", static_cast<int>(Quantization::kRabitq)},
    {nullptr, 0},
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
  add_enum_reloption(ivfflat_relopt_kind, "quantization",
                     "Whether each list also holds compact codes of its rows", kQuantizationValues,
                     static_cast<int>(Quantization::kNone),
                     "Valid values are \"none\" and \"rabitq\".", AccessExclusiveLock);
  DefineCustomIntVariable("ivfflat.probes", "Sets the number of probes", "Valid range is 1..lists.",
                          &gucs.probes, 1, 1, kMaxLists, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomEnumVariable("ivfflat.iterative_scan", "Sets the mode for iterative scans", nullptr,
                           &gucs.iterative_scan, 0, kIterativeScanOptions, PGC_USERSET, 0, nullptr,
                           nullptr, nullptr);
  // Below probes it has no effect: probes are always searched.
  DefineCustomIntVariable("ivfflat.max_probes", "Sets the max number of probes for iterative scans",
                          nullptr, &gucs.max_probes, kMaxLists, 1, kMaxLists, PGC_USERSET, 0,
                          nullptr, nullptr, nullptr);
  DefineCustomRealVariable(
      "ivfflat.quantized_epsilon",
      "Sets how many standard deviations of its code's error a row's lower bound allows",
      "Quantized indexes only: rows are re-ranked in the order of these bounds; larger values "
      "re-rank more rows and put fewer out of exact order.",
      &gucs.quantized_epsilon, kDefaultQuantizedEpsilon, 0.0, 10.0, PGC_USERSET, 0, nullptr,
      nullptr, nullptr);
  MarkGUCPrefixReserved("ivfflat");
}

int index_lists(Relation index) {
  auto* options = reinterpret_cast<IvfflatOptions*>(index->rd_options);
  return options != nullptr ? options->lists : kDefaultLists;
}

Quantization index_quantization(Relation index) {
  auto* options = reinterpret_cast<IvfflatOptions*>(index->rd_options);
  return options != nullptr ? static_cast<Quantization>(options->quantization)
                            : Quantization::kNone;
}

}  // namespace embedding::pg::ivfflat

extern "C" bytea* ivfflat_options(Datum reloptions, bool validate) {
  using embedding::pg::ivfflat::IvfflatOptions;
  static const relopt_parse_elt table[] = {
      {"lists", RELOPT_TYPE_INT, offsetof(IvfflatOptions, lists)},
      {"quantization", RELOPT_TYPE_ENUM, offsetof(IvfflatOptions, quantization)}};
  return static_cast<bytea*>(build_reloptions(reloptions, validate,
                                              embedding::pg::ivfflat::ivfflat_relopt_kind,
                                              sizeof(IvfflatOptions), table, lengthof(table)));
}
