// Planner cost of an hnsw scan, on pgvector's model so that plans are chosen as with pgvector.
// The total cost is that of reading the whole index (as genericcostestimate prices it, with the
// selectivity of every other qual): a query whose filter keeps few rows needs many of them, so
// with LIMIT the planner prefers another plan. The start-up cost is the part a search touches
// before its first row: the descent (entry level x m) plus the share of layer 0 that ef_search
// and m make it visit, as a fraction of the indexed tuples.
#include <cmath>

#include "pg/guard.h"
#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/options.h"
#include "pg/hnsw/pages.h"

extern "C" {
#include "access/genam.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
}

using namespace embedding::pg::hnsw;

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

int index_m(Oid index_oid) {
  Relation index = index_open(index_oid, NoLock);
  const MetaPage meta = read_meta(index);
  index_close(index, NoLock);
  return meta.m;
}

}  // namespace

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
  genericcostestimate(root, path, loop_count, &costs);
  const int m = embedding::pg::guarded([&] { return index_m(path->indexinfo->indexoid); });
  const double fraction = search_fraction(path->indexinfo->tuples, m, gucs.ef_search);
  double random_page_cost;
  double seq_page_cost;
  get_tablespace_page_costs(path->indexinfo->reltablespace, &random_page_cost, &seq_page_cost);
  Cost startup = costs.indexTotalCost * fraction;
  // When the search alone would read more pages than the table has (small tables, big vectors
  // kept out of line in the heap), price those pages as a sequential scan would, so the index is
  // not penalised for TOAST that a seq scan's cost does not include either.
  const double startup_pages = costs.numIndexPages * fraction;
  const double heap_pages = path->indexinfo->rel->pages;
  if (startup_pages > heap_pages && fraction < 0.5) {
    startup -= startup_pages * (random_page_cost - seq_page_cost);
    startup -= (startup_pages - heap_pages) * seq_page_cost;
  }
  *startup_cost = startup;
  *total_cost = costs.indexTotalCost;
  *selectivity = costs.indexSelectivity;
  *correlation = costs.indexCorrelation;
  *pages = costs.numIndexPages;
}
