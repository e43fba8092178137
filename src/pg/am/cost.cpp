// The planner cost of a vector index scan shared by the index access methods (see cost.h).
#include "pg/am/cost.h"

#include "pg/guard.h"

extern "C" {
#include "access/genam.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
}

namespace embedding::pg {

void estimate_scan_cost(PlannerInfo* root, IndexPath* path, double loop_count,
                        const ScanCostModel& model, Cost* startup_cost, Cost* total_cost,
                        Selectivity* selectivity, double* correlation, double* pages) {
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
  const double fraction = guarded([&] {
    Relation index = index_open(path->indexinfo->indexoid, NoLock);
    const double f = model.startup_fraction(index, path->indexinfo);
    index_close(index, NoLock);
    return f;
  });
  double random_page_cost;
  double seq_page_cost;
  get_tablespace_page_costs(path->indexinfo->reltablespace, &random_page_cost, &seq_page_cost);
  const double share = model.sequential_share;
  const Cost total =
      costs.indexTotalCost - share * costs.numIndexPages * (random_page_cost - seq_page_cost);
  Cost startup = total * fraction;
  const double startup_pages = costs.numIndexPages * fraction;
  const double heap_pages = path->indexinfo->rel->pages;
  if (startup_pages > heap_pages && fraction < 0.5) {
    startup -= (1 - share) * startup_pages * (random_page_cost - seq_page_cost);
    startup -= (startup_pages - heap_pages) * seq_page_cost;
  }
  *startup_cost = startup;
  *total_cost = total;
  *selectivity = costs.indexSelectivity;
  *correlation = costs.indexCorrelation;
  *pages = costs.numIndexPages;
}

}  // namespace embedding::pg
