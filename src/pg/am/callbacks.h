// The callbacks every index access method of the extension (hnsw, ivfflat) defines, declared once
// with the signatures amapi.h gives them.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
}

#include <type_traits>

// Declares <am>_options, _build, _buildempty, _insert, _bulkdelete, _vacuumcleanup, _beginscan,
// _rescan, _gettuple and _endscan with C linkage (the cost estimate is scan_cost_estimate<>,
// pg/am/cost.h). Each is declared through amapi.h's function-pointer type, so a definition whose
// signature differs from what PostgreSQL calls does not compile. The access method's handler sets
// them in its IndexAmRoutine.
#define EMB_DECLARE_INDEX_AM_CALLBACKS(am)                            \
  extern "C" {                                                        \
  std::remove_pointer_t<amoptions_function> am##_options;             \
  std::remove_pointer_t<ambuild_function> am##_build;                 \
  std::remove_pointer_t<ambuildempty_function> am##_buildempty;       \
  std::remove_pointer_t<aminsert_function> am##_insert;               \
  std::remove_pointer_t<ambulkdelete_function> am##_bulkdelete;       \
  std::remove_pointer_t<amvacuumcleanup_function> am##_vacuumcleanup; \
  std::remove_pointer_t<ambeginscan_function> am##_beginscan;         \
  std::remove_pointer_t<amrescan_function> am##_rescan;               \
  std::remove_pointer_t<amgettuple_function> am##_gettuple;           \
  std::remove_pointer_t<amendscan_function> am##_endscan;             \
  }
