// What the index access methods share in ambulkdelete and amvacuumcleanup: the statistics
// PostgreSQL passes between them, and the guard around each access method's own pass.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/genam.h"
}

namespace embedding::pg {

// An access method's pass over its index: removes the entries of the heap rows `callback` names
// (none when it is null) and counts the live ones into `stats`.
using VacuumPass = void (*)(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                            IndexBulkDeleteCallback callback, void* callback_state);

// ambulkdelete: `pass` runs under the guard on the statistics PostgreSQL passed in (those of an
// earlier round), or on new zeroed ones.
IndexBulkDeleteResult* bulk_delete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                   IndexBulkDeleteCallback callback, void* callback_state,
                                   VacuumPass pass);
// amvacuumcleanup: nothing for ANALYZE; when no bulk delete ran (no statistics yet), `count`
// counts the live rows for the statistics (callback null); then the index's size, under the
// guard.
IndexBulkDeleteResult* vacuum_cleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                      VacuumPass count);

}  // namespace embedding::pg
