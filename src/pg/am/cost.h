// The planner cost of a vector index scan, on pgvector's model, shared by the index access
// methods: each gives only what its search reads before the first row.
#pragma once

extern "C" {
#include "postgres.h"

#include "nodes/pathnodes.h"
#include "utils/rel.h"
}

namespace embedding::pg {

// What an access method's model adds to genericcostestimate's price of reading the whole index.
struct ScanCostModel {
  // The share of the index's pages priced as sequential reads rather than random ones (ivfflat
  // reads its lists page after page; hnsw hops between pages: 0).
  double sequential_share;
  // The share (0..1] of the index a scan reads before it returns its first row, from the opened
  // index (its metapage) and the planner's view of it. Runs inside the guard: it may throw.
  double (*startup_fraction)(Relation index, const IndexOptInfo* info);
};

// amcostestimate. The total cost is that of reading the whole index (genericcostestimate, with
// the selectivity of every other qual: a query whose filter keeps few rows needs many of them, so
// with LIMIT the planner prefers another plan), less the sequential share's discount; the
// start-up cost is the model's fraction of it. When the pages read before the first row
// outnumber the table's (small tables, big vectors kept out of line in the heap), those beyond the
// table's are priced as a sequential scan would, so that the index is not penalised for TOAST a
// seq scan's cost does not include either. Without an ORDER BY on the index's operator the index
// answers nothing: infinite cost.
void estimate_scan_cost(PlannerInfo* root, IndexPath* path, double loop_count,
                        const ScanCostModel& model, Cost* startup_cost, Cost* total_cost,
                        Selectivity* selectivity, double* correlation, double* pages);
// The amcostestimate callback of an access method whose model is `Model`, which its handler sets:
// am->amcostestimate = scan_cost_estimate<kCostModel>.
template <const ScanCostModel& Model>
void scan_cost_estimate(PlannerInfo* root, IndexPath* path, double loop_count, Cost* startup_cost,
                        Cost* total_cost, Selectivity* selectivity, double* correlation,
                        double* pages) {
  estimate_scan_cost(root, path, loop_count, Model, startup_cost, total_cost, selectivity,
                     correlation, pages);
}

}  // namespace embedding::pg
