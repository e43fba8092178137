// The per-backend model registry (see models.h): opens the default model file, and materialises
// database models into content-addressed cache files that every backend maps.
#include "pg/models.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "core/common/error.h"
#include "core/models/model_builder.h"
#include "pg/guard.h"
#include "pg/model_store.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace embedding::pg {
namespace {

using embedding::models::Model;
namespace store = embedding::pg::store;

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

// This database's cache directory: files are named by the SHA-256 of their bytes, so a file
// name can never come from anything but the server's own hash of what it wrote.
std::string cache_dir() {
  return std::string(DataDir) + "/embedding_models/" + std::to_string(MyDatabaseId);
}

std::string cache_path(const char* hash) { return cache_dir() + "/" + hash + ".emb"; }

[[noreturn]] void no_such_model(const char* name) {
  throw Error(ErrorCode::kUndefinedObject, std::string("model \"") + name + "\" does not exist",
              "SELECT name FROM embedding_models lists the models.");
}

// Opens a cache file the server wrote: no symbolic link, no FIFO or device (never blocks),
// header and section checksums verified before anything is served from it.
std::optional<Model> open_cached(const std::string& path) {
  try {
    Model model = Model::open_own_file(path);
    model.verify_checksums();
    return model;
  } catch (const Error& error) {
    if (error.code() == ErrorCode::kCancelled) throw;
    return std::nullopt;  // missing or unusable: rebuilt from the table
  }
}

// Cache files written in the current transaction: removed if it aborts, since the model they
// hold may be one that its rollback un-loads (harmless otherwise: a cache file is rewritten
// when needed).
List* written_in_transaction = NIL;
bool transaction_callback_registered = false;

void forget_or_remove_written(XactEvent event, void*) {
  if (written_in_transaction == NIL) return;
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) {
    ListCell* cell;
    foreach (cell, written_in_transaction) ::unlink(static_cast<const char*>(lfirst(cell)));
  } else if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_PARALLEL_COMMIT &&
             event != XACT_EVENT_PREPARE) {
    return;
  }
  list_free_deep(written_in_transaction);
  written_in_transaction = NIL;
}

void remember_written(const char* path) {
  if (!transaction_callback_registered) {
    RegisterXactCallback(forget_or_remove_written, nullptr);
    transaction_callback_registered = true;
  }
  MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
  written_in_transaction = lappend(written_in_transaction, pstrdup(path));
  MemoryContextSwitchTo(old);
}

// Writes the model's bytes from the table into its cache file (replacing whatever is at that
// name), after checking them against the row's hash and verifying them fully.
void materialise(const char* name, const char* hash, const std::string& path) {
  bytea* data = nullptr;
  char stored[store::kHashHexSize];
  char actual[store::kHashHexSize];
  pg_call([&] {
    store::lookup(name, stored, &data);
    if (data != nullptr) store::sha256_hex(VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), actual);
  });
  if (data == nullptr) no_such_model(name);
  if (std::strcmp(stored, hash) != 0 || std::strcmp(actual, hash) != 0)
    throw Error(ErrorCode::kCorruptData,
                std::string("model \"") + name + "\" does not match its stored hash");
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(VARDATA_ANY(data)),
                                         VARSIZE_ANY_EXHDR(data));
  Model::view_bytes(bytes).verify();  // fully, once, before any backend maps it
  const std::string root = std::string(DataDir) + "/embedding_models";
  ::mkdir(root.c_str(), 0700);
  ::mkdir(cache_dir().c_str(), 0700);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) ::unlink(path.c_str());
  embedding::models::write_file_atomically(path, bytes);
  pg_call([&] {
    remember_written(path.c_str());
    pfree(data);
  });
}

}  // namespace

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
  char hash[store::kHashHexSize];
  pg_call([&] { store::lookup(name, hash, nullptr); });
  if (hash[0] == '\0') no_such_model(name);
  if (it != r.models.end() && it->second.checksum == hash) {
    it->second.checked_stamp = stamp;
    return it->second.model;
  }
  // Open the cache file of exactly this content, (re)writing it from the table when it is
  // missing or unusable.
  const std::string path = cache_path(hash);
  std::optional<Model> model = open_cached(path);
  // A sweep in another backend that cannot see this model yet (its load is not committed)
  // may remove the file between writing and opening it: write it again, once.
  for (int attempt = 0; !model && attempt < 2; ++attempt) {
    materialise(name, hash, path);
    model = open_cached(path);
  }
  if (!model) model = Model::open_own_file(path);  // reports why it cannot be opened
  if (it != r.models.end()) r.models.erase(it);
  it = r.models.emplace(name, OpenModel{std::move(*model), hash, stamp}).first;
  return it->second.model;
}

void sweep_cache() {
  char** hashes = nullptr;
  int count = 0;
  pg_call([&] { hashes = store::live_hashes(&count); });
  DIR* dir = ::opendir(cache_dir().c_str());
  if (dir == nullptr) return;
  while (const struct dirent* entry = ::readdir(dir)) {
    const std::string file = entry->d_name;
    // Only finished cache files: a temporary file may belong to a backend writing it now.
    if (file.size() != 68 || file.compare(64, 4, ".emb") != 0) continue;
    const std::string hash = file.substr(0, 64);
    if (!store::is_hash_hex(hash.c_str())) continue;
    bool live = false;
    for (int i = 0; i < count && !live; ++i) live = hash == hashes[i];
    // A backend that maps the file keeps its pages; one that needs it later rewrites it.
    if (!live) ::unlinkat(::dirfd(dir), entry->d_name, 0);
  }
  ::closedir(dir);
}

}  // namespace embedding::pg
