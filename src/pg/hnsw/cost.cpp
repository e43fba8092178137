// Planner cost of an hnsw scan, on pgvector's model (pg/am/cost.h) so that plans are chosen as
// with pgvector. The start-up cost is the part a search touches before its first row: the descent
// (entry level x m) plus the share of layer 0 that ef_search and m make it visit, as a fraction
// of the indexed tuples. Every page is priced as a random read: a search hops between pages.
#include <algorithm>
#include <cmath>

#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/options.h"
#include "pg/hnsw/pages.h"

namespace embedding::pg::hnsw {
namespace {

// The share of the index a search reads before returning its first row (0..1].
double search_fraction(double tuples, int m, int ef_search) {
  if (tuples <= 0) return 1.0;
  const double log_m = std::log(static_cast<double>(m));
  const double entry_level = std::floor(std::log(tuples) / log_m);  // level ~ ln(N) * mL
  const double layer0_reach = 2.0 * m * ef_search;                  // ef expansions, 2m links
  // Fraction of that reach not already visited; 0.55 is pgvector's empirical scaling factor.
  const double layer0_fresh = 0.55 * std::log(tuples) / (log_m * (1.0 + std::log(ef_search)));
  return std::min(1.0, (entry_level * m + layer0_reach * layer0_fresh) / tuples);
}

double startup_fraction(Relation index, const IndexOptInfo* info) {
  return search_fraction(info->tuples, read_meta(index).m, gucs.ef_search);
}

}  // namespace

const ScanCostModel kCostModel{.sequential_share = 0, .startup_fraction = startup_fraction};

}  // namespace embedding::pg::hnsw
