// Planner cost of an hnsw scan: only ORDER BY <op> $1 can use the index, and its cost grows with
// the tuples a search visits (about ef_search * 2m distance evaluations, not the table size).
#include <cmath>

#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/options.h"

extern "C" {
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
}

using namespace embedding::pg::hnsw;

extern "C" void hnsw_costestimate(PlannerInfo* root, IndexPath* path, double loop_count,
                                  Cost* startup_cost, Cost* total_cost, Selectivity* selectivity,
                                  double* correlation, double* pages) {
  // Without an ORDER BY on our operator the index cannot answer anything.
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
  const double tuples = std::max(1.0, path->indexinfo->rel->tuples);
  const int m = 16;  // the default; the estimate only needs the order of magnitude
  const double layers = std::max(1.0, std::log(tuples) / std::log(static_cast<double>(m)));
  // Nodes evaluated: ef_search expansions on layer 0 with up to 2m neighbours, plus the descent.
  double visited = gucs.ef_search * 2.0 * m * 0.5 + layers * m;
  if (gucs.iterative_scan != 0)
    visited = std::max(visited, static_cast<double>(gucs.max_scan_tuples) * 0.1);
  costs.numIndexTuples = std::min(tuples, visited);
  genericcostestimate(root, path, loop_count, &costs);
  // The whole search happens before the first row comes out.
  *startup_cost = costs.indexTotalCost;
  *total_cost = costs.indexTotalCost;
  *selectivity = costs.indexSelectivity;
  *correlation = 0;
  *pages = costs.numIndexPages;
}
