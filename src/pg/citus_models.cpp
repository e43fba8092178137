// The Citus side of the model store (see citus_models.h): the coordinator's push through
// run_command_on_workers, and the worker's model_store_apply() that takes a pushed row.
#include "pg/citus_models.h"

#include <cstring>
#include <span>
#include <string>

#include "core/common/error.h"
#include "core/models/model_image.h"
#include "pg/guard.h"
#include "pg/model_store.h"

extern "C" {
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
}

using embedding::Error;
using embedding::ErrorCode;
namespace store = embedding::pg::store;

namespace embedding::pg::citus {

bool coordinator_with_workers() {
  if (!OidIsValid(get_extension_oid("citus", true))) return false;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  const char* sql =
      "SELECT pg_catalog.citus_is_coordinator() AND EXISTS (SELECT FROM pg_catalog.pg_dist_node "
      "WHERE groupid OPERATOR(pg_catalog.<>) 0 AND noderole OPERATOR(pg_catalog.=) 'primary' "
      "AND isactive)";
  if (SPI_execute(sql, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
    elog(ERROR, "could not read Citus's node list");
  bool isnull;
  const bool result =
      DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) &&
      !isnull;
  SPI_finish();
  return result;
}

int push_models(const char* name) {
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  // One command a model, run on every worker by Citus in its own connections (as the store's
  // owner, so the worker's model_store_apply() accepts it). A dropped model sends an empty data.
  const char* sql =
      "SELECT s.name, r.nodename, r.nodeport, r.success, r.result "
      "FROM \"#embedding\".model_store s, LATERAL pg_catalog.run_command_on_workers("
      "pg_catalog.format('SELECT \"#embedding\".model_store_apply(%L, %L, %L, %L, "
      "%L::pg_catalog.bytea)', s.name, s.source, s.format, s.checksum, s.data)) r "
      "WHERE $1 IS NULL OR s.name OPERATOR(pg_catalog.=) $1 ORDER BY s.name, r.nodeport";
  Oid types[1] = {TEXTOID};
  Datum values[1] = {name ? CStringGetTextDatum(name) : 0};
  const char nulls[2] = {name ? ' ' : 'n', '\0'};
  const uint64 rows = store::execute_as_owner(sql, 1, types, values, nulls);
  for (uint64 i = 0; i < rows; ++i) {
    HeapTuple row = SPI_tuptable->vals[i];
    TupleDesc desc = SPI_tuptable->tupdesc;
    bool isnull;
    if (DatumGetBool(SPI_getbinval(row, desc, 4, &isnull))) continue;
    ereport(ERROR,
            (errcode(ERRCODE_CONNECTION_FAILURE),
             errmsg("could not copy model \"%s\" to Citus worker %s:%s", SPI_getvalue(row, desc, 1),
                    SPI_getvalue(row, desc, 2), SPI_getvalue(row, desc, 3)),
             errdetail("%s", SPI_getvalue(row, desc, 5)),
             errhint("Fix the worker, then run SELECT embedding_sync_models() on the "
                     "coordinator.")));
  }
  SPI_finish();
  return static_cast<int>(rows);
}

}  // namespace embedding::pg::citus

namespace {

// On a worker: marks name dropped (its hash keeps reserving the name), or records the dropped
// row when the worker never had the model. PostgreSQL calls only.
void apply_drop(const char* name, const char* source, const char* format, const char* checksum) {
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  Oid types[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
  Datum values[4] = {CStringGetTextDatum(name), CStringGetTextDatum(source),
                     CStringGetTextDatum(format), CStringGetTextDatum(checksum)};
  const uint64 found = store::execute_as_owner(
      psprintf("SELECT FROM %s WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE", store::kTable), 1,
      types, values);
  const char* sql =
      found ? "UPDATE %s SET dropped = true, data = ''::pg_catalog.bytea "
              "WHERE name OPERATOR(pg_catalog.=) $1 AND checksum OPERATOR(pg_catalog.=) $4"
            : "INSERT INTO %s (name, source, format, dims, vocab_size, checksum, dropped, data) "
              "VALUES ($1, $2, $3, 0, 0, $4, true, ''::pg_catalog.bytea)";
  if (store::execute_as_owner(psprintf(sql, store::kTable), 4, types, values) != 1)
    ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
                    errmsg("model name \"%s\" means different vectors on this node", name)));
  SPI_finish();
}

// True when name is live here with exactly this hash (a push repeated: nothing to do).
bool live_with_hash(const char* name, const char* checksum) {
  char hash[store::kHashHexSize];
  store::lookup(name, hash, nullptr);
  return strcmp(hash, checksum) == 0;
}

}  // namespace

// "#embedding".model_store_apply(name, source, format, checksum, data): a row pushed by the
// coordinator (push_models). Only the store's owner (who the push runs as) and superusers may call
// it; the data must hash to checksum and be a valid model, so a worker's store holds nothing that
// load_model() would not have written.
EMB_FUNCTION(model_store_apply) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const char* source = text_to_cstring(PG_GETARG_TEXT_PP(1));
  const char* format = text_to_cstring(PG_GETARG_TEXT_PP(2));
  const char* checksum = text_to_cstring(PG_GETARG_TEXT_PP(3));
  bytea* data = PG_GETARG_BYTEA_P(4);
  Oid owner = InvalidOid;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  if (SPI_execute("SELECT c.relowner FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                  "ON n.oid OPERATOR(pg_catalog.=) c.relnamespace WHERE n.nspname "
                  "OPERATOR(pg_catalog.=) '#embedding' AND c.relname OPERATOR(pg_catalog.=) "
                  "'model_store'",
                  true, 1) == SPI_OK_SELECT &&
      SPI_processed == 1) {
    bool isnull;
    owner =
        DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  }
  SPI_finish();
  if (!superuser() && !(OidIsValid(owner) && has_privs_of_role(GetUserId(), owner)))
    throw Error(ErrorCode::kPermission, "permission denied to apply a model pushed by Citus",
                "Only the coordinator's load_model(), drop_model() and embedding_sync_models() "
                "write models on a worker.");
  if (!store::is_hash_hex(checksum))
    throw Error(ErrorCode::kInvalidParameter, "the model's checksum is not a SHA-256 digest");
  const std::size_t size = VARSIZE(data) - VARHDRSZ;
  if (size == 0) {
    apply_drop(name, source, format, checksum);
    PG_RETURN_VOID();
  }
  char actual[store::kHashHexSize];
  store::sha256_hex(VARDATA(data), size, actual);
  if (strcmp(actual, checksum) != 0)
    throw Error(ErrorCode::kCorruptData,
                std::string("model \"") + name + "\" does not match its hash");
  const embedding::models::ModelSummary summary = embedding::models::verify_model_image(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(VARDATA(data)), size));
  if (!live_with_hash(name, checksum))
    store::insert_model(name, source, format, summary, VARDATA(data), size);
  PG_RETURN_VOID();
}

// embedding_sync_models(): copies every model of the coordinator's store to every worker (after
// citus_add_node, or after a push failed). Returns the number of (model, worker) copies.
EMB_FUNCTION(embedding_sync_models) {
  if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
    throw Error(ErrorCode::kPermission, "permission denied to copy models to the Citus workers",
                "Only superusers and roles with privileges of pg_read_server_files may load or "
                "drop models.");
  if (!embedding::pg::citus::coordinator_with_workers())
    throw Error(ErrorCode::kFeature, "this node is not a Citus coordinator with workers");
  PG_RETURN_INT32(embedding::pg::citus::push_models(nullptr));
}
