// hnsw index options and GUCs (see options.h).
#include "pg/hnsw/options.h"

#include <string>

#include "core/common/error.h"

extern "C" {
#include "access/reloptions.h"
#include "utils/guc.h"
}

namespace embedding::pg::hnsw {

Gucs gucs;

namespace {

relopt_kind hnsw_relopt_kind;

struct HnswOptions {
  int32 vl_len_;
  int m;
  int ef_construction;
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
    {"strict_order", static_cast<int>(IterativeScan::kStrict), false},
    {nullptr, 0, false},
};

}  // namespace

void register_options() {
  using embedding::hnsw::kMaxEfConstruction;
  using embedding::hnsw::kMaxM;
  using embedding::hnsw::kMinEfConstruction;
  using embedding::hnsw::kMinM;
  hnsw_relopt_kind = add_reloption_kind();
  add_int_reloption(hnsw_relopt_kind, "m", "Max number of connections", 16, kMinM, kMaxM,
                    AccessExclusiveLock);
  add_int_reloption(hnsw_relopt_kind, "ef_construction",
                    "Size of the dynamic candidate list for construction", 64, kMinEfConstruction,
                    kMaxEfConstruction, AccessExclusiveLock);
  add_enum_reloption(hnsw_relopt_kind, "quantization",
                     "Whether neighbour lists carry compact codes of the neighbours",
                     kQuantizationValues, static_cast<int>(Quantization::kNone),
                     "Valid values are \"none\" and \"rabitq\".", AccessExclusiveLock);

  DefineCustomIntVariable("hnsw.ef_search",
                          "Sets the size of the dynamic candidate list for search",
                          "Valid range is 1..1000.", &gucs.ef_search, 40, 1, 1000, PGC_USERSET, 0,
                          nullptr, nullptr, nullptr);
  DefineCustomEnumVariable("hnsw.iterative_scan", "Sets the mode for iterative scans", nullptr,
                           &gucs.iterative_scan, 0, kIterativeScanOptions, PGC_USERSET, 0, nullptr,
                           nullptr, nullptr);
  DefineCustomIntVariable(
      "hnsw.max_scan_tuples", "Sets the max number of tuples to visit for iterative scans", nullptr,
      &gucs.max_scan_tuples, 20000, 1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomRealVariable(
      "hnsw.scan_mem_multiplier", "Sets the multiple of work_mem to use for iterative scans",
      nullptr, &gucs.scan_mem_multiplier, 1, 1, 1000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  DefineCustomRealVariable(
      "hnsw.quantized_epsilon",
      "Sets how far below its code's estimate a neighbour's distance may be and still be visited",
      "Quantized indexes only: larger values visit more nodes for a higher recall.",
      &gucs.quantized_epsilon, 0.0, 0.0, 10.0, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("hnsw");
}

embedding::hnsw::Params index_params(Relation index) {
  embedding::hnsw::Params params;
  auto* options = reinterpret_cast<HnswOptions*>(index->rd_options);
  if (options != nullptr) {
    params.m = options->m;
    params.ef_construction = options->ef_construction;
  }
  if (params.ef_construction < 2 * params.m)
    throw Error(ErrorCode::kInvalidParameter,
                "ef_construction must be greater than or equal to 2 * m");
  return params;
}

Quantization index_quantization(Relation index) {
  auto* options = reinterpret_cast<HnswOptions*>(index->rd_options);
  return options != nullptr ? static_cast<Quantization>(options->quantization)
                            : Quantization::kNone;
}

}  // namespace embedding::pg::hnsw

extern "C" bytea* hnsw_options(Datum reloptions, bool validate) {
  using embedding::pg::hnsw::HnswOptions;
  static const relopt_parse_elt table[] = {
      {"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
      {"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, ef_construction)},
      {"quantization", RELOPT_TYPE_ENUM, offsetof(HnswOptions, quantization)},
  };
  return static_cast<bytea*>(build_reloptions(reloptions, validate,
                                              embedding::pg::hnsw::hnsw_relopt_kind,
                                              sizeof(HnswOptions), table, lengthof(table)));
}
