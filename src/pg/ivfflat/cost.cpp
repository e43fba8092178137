// Planner cost of an ivfflat scan, on pgvector's model (pg/am/cost.h): what it reads before the
// first row is the probed lists' share of the index, and half its pages are read in sequence.
#include <algorithm>

#include "pg/ivfflat/ivfflat.h"
#include "pg/ivfflat/options.h"
#include "pg/ivfflat/pages.h"

namespace embedding::pg::ivfflat {
namespace {

// The probed lists' share of the index (probes / lists).
double probed_share(Relation index, const IndexOptInfo* info) {
  return std::min(1.0, static_cast<double>(gucs.probes) / read_meta(index).lists);
}

}  // namespace

// Half of the pages priced as sequential reads: a list is a chain of pages read one after another.
const ScanCostModel kCostModel{.sequential_share = 0.5, .startup_fraction = probed_share};

}  // namespace embedding::pg::ivfflat
