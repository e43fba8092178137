// Opening an index for the inspection functions (hnsw_verify, ivfflat_info): the permission and
// row-level security checks, and the locks.
#include "pg/am/inspect.h"

#include <string>

#include "core/common/error.h"

extern "C" {
#include "access/genam.h"
#include "access/table.h"
#include "catalog/index.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
}

namespace embedding::pg {

InspectedIndex open_for_inspection(Oid relid, const char* am, const char* function,
                                   LOCKMODE heap_lock) {
  const auto name = [](Oid oid) {
    const char* n = get_rel_name(oid);
    return std::string(n != nullptr ? n : "?");
  };
  const Oid heap_oid = IndexGetRelation(relid, true);
  if (!OidIsValid(heap_oid))
    throw Error(ErrorCode::kInvalidParameter, "\"" + name(relid) + "\" is not an index");
  if (pg_class_aclcheck(heap_oid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
    throw Error(ErrorCode::kPermission, "permission denied for table " + name(heap_oid),
                std::string(function) + "() needs SELECT on the table of the index.");
  if (check_enable_rls(heap_oid, InvalidOid, true) == RLS_ENABLED)
    throw Error(ErrorCode::kPermission,
                std::string(function) + "() is not allowed on table " + name(heap_oid) +
                    ", whose row-level security hides rows from this role",
                "It reports row counts: run it as the table's owner.");
  InspectedIndex opened;
  opened.heap_lock = pg_class_ownercheck(heap_oid, GetUserId()) ? heap_lock : AccessShareLock;
  opened.heap = table_open(heap_oid, opened.heap_lock);
  opened.index = index_open(relid, AccessShareLock);
  if (opened.index->rd_rel->relam != get_index_am_oid(am, false))
    throw Error(ErrorCode::kInvalidParameter,
                "\"" + name(relid) + "\" is not an " + std::string(am) + " index");
  return opened;
}

}  // namespace embedding::pg
