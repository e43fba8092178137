// The per-backend model registry (see models.h): opens the default model file, and materialises
// database models into content-addressed cache files that every backend maps.
#include "pg/models.h"

#include <sys/stat.h>

#include <cstring>
#include <map>
#include <string>

#include "core/common/error.h"
#include "core/models/model_builder.h"
#include "pg/guard.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace embedding::pg {
namespace {

using embedding::models::Model;

struct OpenModel {
  Model model;
  std::string checksum;
  uint64 checked_stamp = 0;  // command in which the table last confirmed it
};

struct Registry {
  std::map<std::string, OpenModel, std::less<>> models;
};

Registry& registry() {
  static Registry* r = nullptr;
  if (r == nullptr) r = new_owned<Registry>(TopMemoryContext);
  return *r;
}

// Identifies the current command, so that a model is looked up in the table once per command.
uint64 command_stamp() {
  return (static_cast<uint64>(MyProc->lxid) << 32) | GetCurrentCommandId(false);
}

std::string cache_dir() { return std::string(DataDir) + "/embedding_models"; }

// A model's row: its checksum ("" when there is no live model of that name) and, on request,
// its file image copied into the caller's memory context. Runs PostgreSQL calls only; call it
// through pg_call().
void lookup(const char* name, char* checksum, std::size_t checksum_size, bytea** data) {
  MemoryContext caller = CurrentMemoryContext;
  checksum[0] = '\0';
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* sql = psprintf("SELECT checksum%s FROM %s WHERE name = $1 AND NOT dropped",
                       data ? ", data" : "", model_store_table());
  Oid types[1] = {TEXTOID};
  Datum values[1] = {CStringGetTextDatum(name)};
  if (SPI_execute_with_args(sql, 1, types, values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "could not read embedding_model_store");
  if (SPI_processed == 1) {
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    strlcpy(checksum, TextDatumGetCString(d), checksum_size);
    if (data) {
      d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
      MemoryContext spi = MemoryContextSwitchTo(caller);
      *data = DatumGetByteaPCopy(d);
      MemoryContextSwitchTo(spi);
    }
  }
  SPI_finish();
}

[[noreturn]] void no_such_model(const char* name) {
  throw Error(ErrorCode::kUndefinedObject, std::string("model \"") + name + "\" does not exist",
              "SELECT name FROM embedding_models lists the models.");
}

}  // namespace

const char* model_store_table() {
  if (SPI_execute(
          "SELECT quote_ident(n.nspname) FROM pg_catalog.pg_extension e JOIN "
          "pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'embedding'",
          true, 1) != SPI_OK_SELECT ||
      SPI_processed != 1)
    elog(ERROR, "extension \"embedding\" is not installed in this database");
  bool isnull;
  char* schema =
      TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
  return psprintf("%s.embedding_model_store", schema);
}

std::string default_model_path() {
  char share[MAXPGPATH];
  get_share_path(my_exec_path, share);
  return std::string(share) + "/extension/embedding/" + kDefaultModelName + ".emb";
}

const Model& find_model(const char* name) {
  Registry& r = registry();
  auto it = r.models.find(name);
  if (std::strcmp(name, kDefaultModelName) == 0) {
    if (it == r.models.end()) {
      std::string path = default_model_path();
      struct stat st;
      if (::stat(path.c_str(), &st) != 0)
        throw Error(
            ErrorCode::kUndefinedObject,
            std::string("the default model \"") + kDefaultModelName + "\" is not installed",
            "Expected the file \"" + path + "\"; scripts/setup.sh converts and installs it.");
      it = r.models.emplace(name, OpenModel{Model::open_file(path), "", 0}).first;
    }
    return it->second.model;
  }
  const uint64 stamp = command_stamp();
  if (it != r.models.end() && it->second.checked_stamp == stamp) return it->second.model;
  char checksum[64];
  pg_call([&] { lookup(name, checksum, sizeof checksum, nullptr); });
  if (checksum[0] == '\0') no_such_model(name);
  if (it != r.models.end() && it->second.checksum == checksum) {
    it->second.checked_stamp = stamp;
    return it->second.model;
  }
  // Open (or first create) the cache file of exactly this content.
  const std::string path = cache_dir() + "/" + checksum + ".emb";
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    bytea* data = nullptr;
    pg_call([&] { lookup(name, checksum, sizeof checksum, &data); });
    if (data == nullptr) no_such_model(name);
    ::mkdir(cache_dir().c_str(), 0700);
    std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(VARDATA_ANY(data)),
                                     VARSIZE_ANY_EXHDR(data));
    Model::view_bytes(bytes).verify();  // fully, once, before any backend maps it
    embedding::models::write_file_atomically(path, bytes);
    pfree(data);
  }
  if (it != r.models.end()) r.models.erase(it);
  it = r.models.emplace(name, OpenModel{Model::open_file(path), checksum, stamp}).first;
  return it->second.model;
}

}  // namespace embedding::pg
