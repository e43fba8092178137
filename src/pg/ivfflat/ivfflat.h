// The ivfflat index access method (pgvector's second index): its callbacks and build phases. One
// concept a file: handler, options, cost, pages, centers, build, insert, scan, vacuum, info.
#pragma once

extern "C" {
#include "postgres.h"
}

#include "pg/am/callbacks.h"
#include "pg/am/cost.h"

namespace embedding::pg::ivfflat {

// k-means centers on the first pages, then one chain of pages per center ("list") holding the
// vectors nearest to it. A scan ranks the centers, reads the `ivfflat.probes` nearest lists and
// returns their rows by distance.

// pgvector's numbers of its build phases after "initializing" (1), as
// pg_stat_progress_create_index names them (ivfflat_buildphasename). This build assigns the rows
// to lists and loads them in one pass, reported as kPhaseAssign; kPhaseLoad keeps its name.
constexpr int64 kPhaseKMeans = 2;
constexpr int64 kPhaseAssign = 3;
constexpr int64 kPhaseLoad = 4;

// The planner's cost model of an ivfflat scan (cost.cpp).
extern const ScanCostModel kCostModel;

}  // namespace embedding::pg::ivfflat

EMB_DECLARE_INDEX_AM_CALLBACKS(ivfflat)
