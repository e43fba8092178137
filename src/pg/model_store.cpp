// The model table (see model_store.h) and its guard trigger: only load_model() and drop_model()
// change it, and a row inserted any other way (a restore's COPY) must be a valid model whose
// hash is the SHA-256 of its bytes, so a name always means the same vectors.
#include "pg/model_store.h"

#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/models/model_image.h"
#include "pg/citus_models.h"
#include "pg/guard.h"
#include "pg/pg_call.h"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

using embedding::Error;
using embedding::ErrorCode;

namespace embedding::pg::store {
namespace {

// Set while load_model()/drop_model() write; the guard trigger lets those writes through.
bool writing = false;

Oid table_oid() {
  Oid schema = get_namespace_oid(kSchema, false);
  Oid relid = get_relname_relid("model_store", schema);
  if (!OidIsValid(relid)) elog(ERROR, "the table %s is missing", kTable);
  return relid;
}

Oid table_owner(Oid relid) {
  HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for relation %u", relid);
  Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
  ReleaseSysCache(tuple);
  return owner;
}

}  // namespace

void sha256_hex(const void* bytes, std::size_t length, char out[kHashHexSize]) {
  constexpr std::size_t kStep = std::size_t{16} << 20;
  pg_cryptohash_ctx* context = pg_cryptohash_create(PG_SHA256);
  if (context == nullptr || pg_cryptohash_init(context) < 0)
    elog(ERROR, "could not initialize a SHA-256 context");
  const auto* data = static_cast<const uint8*>(bytes);
  for (std::size_t done = 0; done < length; done += kStep) {
    check_for_interrupts();
    if (pg_cryptohash_update(context, data + done, Min(kStep, length - done)) < 0)
      elog(ERROR, "could not update a SHA-256 hash: %s", pg_cryptohash_error(context));
  }
  uint8 digest[32];
  if (pg_cryptohash_final(context, digest, sizeof digest) < 0)
    elog(ERROR, "could not finish a SHA-256 hash: %s", pg_cryptohash_error(context));
  pg_cryptohash_free(context);
  hex_encode(reinterpret_cast<const char*>(digest), sizeof digest, out);
  out[64] = '\0';
}

bool is_hash_hex(const char* text) {
  for (int i = 0; i < 64; ++i) {
    const char c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return text[64] == '\0';
}

void lookup(const char* name, char hash[kHashHexSize], bytea** data) {
  MemoryContext caller = CurrentMemoryContext;
  hash[0] = '\0';
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* sql =
      psprintf("SELECT checksum%s FROM %s WHERE name OPERATOR(pg_catalog.=) $1 AND NOT dropped",
               data ? ", data" : "", kTable);
  Oid types[1] = {TEXTOID};
  Datum values[1] = {CStringGetTextDatum(name)};
  if (SPI_execute_with_args(sql, 1, types, values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "could not read %s", kTable);
  if (SPI_processed == 1) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    char* stored = TextDatumGetCString(d);
    if (!is_hash_hex(stored))
      ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                      errmsg("the stored hash of model \"%s\" is not a SHA-256 digest", name)));
    strlcpy(hash, stored, kHashHexSize);
    if (data) {
      d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
      MemoryContext spi = MemoryContextSwitchTo(caller);
      *data = DatumGetByteaPCopy(d);
      MemoryContextSwitchTo(spi);
    }
  }
  SPI_finish();
}

char** live_hashes(int* count) {
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  // Not read-only: a fresh snapshot, so the caller's own load or drop just before is seen.
  if (SPI_execute(psprintf("SELECT checksum FROM %s WHERE NOT dropped", kTable), false, 0) !=
      SPI_OK_SELECT)
    elog(ERROR, "could not read %s", kTable);
  const uint64 n = SPI_processed;
  char** hashes = static_cast<char**>(MemoryContextAlloc(caller, sizeof(char*) * (n + 1)));
  for (uint64 i = 0; i < n; ++i) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
    hashes[i] = MemoryContextStrdup(caller, TextDatumGetCString(d));
  }
  SPI_finish();
  *count = static_cast<int>(n);
  return hashes;
}

uint64 execute_as_owner(const char* sql, int nargs, Oid* types, Datum* values, const char* nulls) {
  Oid saved_user;
  int saved_context;
  GetUserIdAndSecContext(&saved_user, &saved_context);
  const Oid owner = table_owner(table_oid());
  uint64 processed = 0;
  // An error leaves through PG_FINALLY, which resets the flag; the transaction's abort restores
  // the user id as it does for every SECURITY_RESTRICTED_OPERATION.
  PG_TRY();
  {
    writing = true;
    SetUserIdAndSecContext(
        owner, saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    int result = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
    if (result < 0) elog(ERROR, "could not write %s: %s", kTable, SPI_result_code_string(result));
    processed = SPI_processed;
  }
  PG_FINALLY();
  {
    writing = false;
    SetUserIdAndSecContext(saved_user, saved_context);
  }
  PG_END_TRY();
  return processed;
}

void insert_model(const char* name, const char* source, const char* format,
                  const embedding::models::ModelSummary& summary, const void* bytes,
                  std::size_t size) {
  bytea* data = static_cast<bytea*>(palloc(VARHDRSZ + size));
  SET_VARSIZE(data, VARHDRSZ + size);
  memcpy(VARDATA(data), bytes, size);
  insert_model_bytea(name, source, format, summary, data);
}

void insert_model_bytea(const char* name, const char* source, const char* format,
                        const embedding::models::ModelSummary& summary, bytea* data) {
  char hash[kHashHexSize];
  sha256_hex(VARDATA(data), VARSIZE(data) - VARHDRSZ, hash);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  Oid types[1] = {TEXTOID};
  Datum key[1] = {CStringGetTextDatum(name)};
  // FOR UPDATE needs the owner's privileges; it serialises loads of the same name.
  const uint64 found = execute_as_owner(
      psprintf("SELECT checksum, dropped FROM %s WHERE name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
               kTable),
      1, types, key);
  bool revive = false;
  if (found == 1) {
    bool isnull;
    char* old = TextDatumGetCString(
        SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    bool dropped =
        DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
    if (!dropped)
      ereport(ERROR,
              (errcode(ERRCODE_DUPLICATE_OBJECT), errmsg("model \"%s\" already exists", name),
               errhint("Drop it first, or load under another name.")));
    if (strcmp(old, hash) != 0)
      ereport(ERROR,
              (errcode(ERRCODE_DUPLICATE_OBJECT),
               errmsg("model name \"%s\" was used before for different vectors", name),
               errdetail(
                   "A model name always means the same vectors, so that embed() stays immutable."),
               errhint("Load the model under a new name.")));
    revive = true;
  }
  Oid itypes[8] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, TEXTOID, BYTEAOID, INT4OID};
  Datum values[8] = {CStringGetTextDatum(name),
                     CStringGetTextDatum(source),
                     CStringGetTextDatum(format),
                     Int32GetDatum(static_cast<int32>(summary.dims)),
                     Int32GetDatum(static_cast<int32>(summary.vocab_size)),
                     CStringGetTextDatum(hash),
                     PointerGetDatum(data),
                     Int32GetDatum(static_cast<int32>(summary.max_seq_length))};
  // max_seq_length is NULL but for sentence encoders.
  const char nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', summary.max_seq_length ? ' ' : 'n',
                         '\0'};
  const char* sql =
      revive ? "UPDATE %s SET source = $2, format = $3, dims = $4, vocab_size = $5, data = $7, "
               "max_seq_length = $8, dropped = false "
               "WHERE name OPERATOR(pg_catalog.=) $1 AND checksum OPERATOR(pg_catalog.=) $6"
             : "INSERT INTO %s (name, source, format, dims, vocab_size, checksum, data, "
               "max_seq_length) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
  if (execute_as_owner(psprintf(sql, kTable), 8, itypes, values, nulls) != 1)
    elog(ERROR, "could not store model \"%s\"", name);
  SPI_finish();
  // On a Citus coordinator every worker gets the model too (embed() runs on the shards).
  if (citus::coordinator_with_workers()) citus::push_models(name);
}

}  // namespace embedding::pg::store

namespace {

namespace store = embedding::pg::store;

[[noreturn]] void refuse(const char* what) {
  ereport(ERROR,
          (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
           errmsg("%s on %s is not allowed", what, store::kTable),
           errdetail("Models are changed only by load_model() and drop_model(), so that a model "
                     "name always means the same vectors.")));
}

[[noreturn]] void refuse_insert(const char* why) {
  ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                  errmsg("cannot insert into %s: %s", store::kTable, why),
                  errhint("Load models with load_model().")));
}

Datum column(HeapTuple tuple, TupleDesc desc, const char* name, bool* isnull) {
  const int attnum = SPI_fnumber(desc, name);
  if (attnum <= 0) elog(ERROR, "%s has no column \"%s\"", store::kTable, name);
  return heap_getattr(tuple, attnum, desc, isnull);
}

// A row inserted directly (a restore) must be what load_model() or drop_model() would have
// written. PostgreSQL calls only; the model check runs after them, in its own scope.
void check_inserted_row(HeapTuple tuple, TupleDesc desc) {
  if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
    refuse_insert("only superusers and members of pg_read_server_files may add models");
  bool isnull[6];
  Datum name = column(tuple, desc, "name", &isnull[0]);
  Datum checksum = column(tuple, desc, "checksum", &isnull[1]);
  Datum dropped = column(tuple, desc, "dropped", &isnull[2]);
  Datum data = column(tuple, desc, "data", &isnull[3]);
  Datum dims = column(tuple, desc, "dims", &isnull[4]);
  Datum vocab = column(tuple, desc, "vocab_size", &isnull[5]);
  for (bool n : isnull)
    if (n) refuse_insert("a column is NULL");
  const char* model = TextDatumGetCString(name);
  const char* hash = TextDatumGetCString(checksum);
  bytea* bytes = DatumGetByteaPP(data);
  const std::size_t length = VARSIZE_ANY_EXHDR(bytes);
  if (DatumGetBool(dropped)) {
    // A dropped model keeps only the hash that reserves its name (16 hex digits before 0.2.0).
    const bool legacy = strlen(hash) == 16 && strspn(hash, "0123456789abcdef") == 16;
    if (length != 0 || !(store::is_hash_hex(hash) || legacy))
      refuse_insert("a dropped model's row holds no data and the hash that reserves its name");
    return;
  }
  char actual[store::kHashHexSize];
  store::sha256_hex(VARDATA_ANY(bytes), length, actual);
  if (strcmp(actual, hash) != 0)
    ereport(ERROR,
            (errcode(ERRCODE_DATA_CORRUPTED), errmsg("model \"%s\" does not match its hash", model),
             errdetail("The SHA-256 of its data is %s, the row says \"%s\".", actual, hash)));
  const embedding::models::ModelSummary summary = embedding::models::verify_model_image(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(VARDATA_ANY(bytes)), length));
  if (static_cast<int64>(summary.dims) != DatumGetInt32(dims) ||
      static_cast<int64>(summary.vocab_size) != DatumGetInt32(vocab))
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                    errmsg("model \"%s\": dims and vocab_size do not match its data", model)));
  // The kind the format names (sentence encoders, PCA and k-means models have their kind's name
  // as format; word vectors their source format), and max_seq_length (sentence encoders only;
  // the column exists from 0.4.0 on) must match the data too.
  const bool encoder = summary.kind == embedding::models::ModelKind::kSentenceEncoder;
  const bool named = summary.kind != embedding::models::ModelKind::kWordVectors;
  bool format_null;
  const char* format = TextDatumGetCString(column(tuple, desc, "format", &format_null));
  bool length_null = true;
  Datum max_seq_length = 0;
  if (const int attnum = SPI_fnumber(desc, "max_seq_length"); attnum > 0)
    max_seq_length = heap_getattr(tuple, attnum, desc, &length_null);
  const bool format_ok = named == (strcmp(format, embedding::models::kind_name(summary.kind)) == 0);
  const bool length_ok = encoder ? !length_null && static_cast<int64>(summary.max_seq_length) ==
                                                       DatumGetInt32(max_seq_length)
                                 : length_null;
  if (!format_ok || !length_ok)
    ereport(ERROR,
            (errcode(ERRCODE_DATA_CORRUPTED),
             errmsg("model \"%s\": format and max_seq_length do not match its data", model)));
}

}  // namespace

// The guard trigger on the model table (BEFORE INSERT, UPDATE, DELETE for each row, and BEFORE
// TRUNCATE; ENABLE ALWAYS, so session_replication_role does not switch it off).
EMB_FUNCTION(model_store_guard) {
  if (!CALLED_AS_TRIGGER(fcinfo)) throw Error(ErrorCode::kFeature, "not called as a trigger");
  auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  const TriggerEvent event = trigger->tg_event;
  if (store::writing) {
    if (TRIGGER_FIRED_BY_TRUNCATE(event)) return PointerGetDatum(nullptr);
    return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(event) ? trigger->tg_newtuple
                                                          : trigger->tg_trigtuple);
  }
  if (TRIGGER_FIRED_BY_TRUNCATE(event)) refuse("TRUNCATE");
  if (TRIGGER_FIRED_BY_DELETE(event)) refuse("DELETE");
  if (TRIGGER_FIRED_BY_UPDATE(event)) refuse("UPDATE");
  check_inserted_row(trigger->tg_trigtuple, trigger->tg_relation->rd_att);
  return PointerGetDatum(trigger->tg_trigtuple);
}
