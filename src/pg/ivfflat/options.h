// ivfflat index options (WITH (lists)) and the ivfflat.* GUCs, with pgvector's names, defaults
// and ranges.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/rel.h"
}

namespace embedding::pg::ivfflat {

constexpr int kDefaultLists = 100;
constexpr int kMaxLists = 32768;

enum class Quantization { kNone = 0, kRabitq = 1 };
enum class IterativeScan { kOff = 0, kRelaxed = 1 };

constexpr double kDefaultQuantizedEpsilon = 4.0;

struct Gucs {
  int probes = 1;
  int iterative_scan = 0;  // IterativeScan
  int max_probes = kMaxLists;
  double quantized_epsilon = kDefaultQuantizedEpsilon;
};
extern Gucs gucs;

// Registers the reloption kind and the GUCs; called once from _PG_init.
void register_options();
// The index's lists option (kDefaultLists when not given).
int index_lists(Relation index);
// The index's quantization option (kNone when not given).
Quantization index_quantization(Relation index);

}  // namespace embedding::pg::ivfflat
