// The per-backend model registry (see models.h): opens the default model file, and materialises
// database models into content-addressed cache files that every backend maps.
#include "pg/models.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "core/common/error.h"
#include "core/io/mapped_file.h"
#include "core/models/model_builder.h"
#include "core/models/model_image.h"
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
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace embedding::pg {
namespace {

using embedding::models::Model;
namespace store = embedding::pg::store;

// Two: the project's machines have two cores, a batch gains from the second thread
// (test/bench/README.md), and calls of fewer than 64 tokens stay on one anyway.
constexpr int kDefaultEncoderThreads = 2;

using embedding::encoder::BertEncoder;
using embedding::encoder::EncoderFile;

// One open model file: a word-vector Model or a BertEncoder.
struct OpenModel {
  std::optional<Model> model;
  std::optional<BertEncoder> encoder;
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

// Opens a model file of either kind (told apart by its magic).
OpenModel open_model_file(const std::string& path, bool check) {
  const bool encoder =
      embedding::models::model_kind(
          embedding::io::MappedFile(path, embedding::io::Symlinks::kRefuse).bytes()) ==
      embedding::models::ModelKind::kSentenceEncoder;
  OpenModel opened;
  if (encoder) {
    EncoderFile file = EncoderFile::open_own_file(path);
    if (check) file.verify_checksums();
    opened.encoder.emplace(std::move(file));
  } else {
    Model model = Model::open_own_file(path);
    if (check) model.verify_checksums();
    opened.model.emplace(std::move(model));
  }
  return opened;
}

// Opens a cache file the server wrote: no symbolic link, no FIFO or device (never blocks),
// the header checked, and the section checksums too when `check` is set; nullopt when missing
// or unusable.
std::optional<OpenModel> open_cached(const std::string& path, bool check = true) {
  try {
    return open_model_file(path, check);
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
  // Fully, once, before any backend maps it; PCA and k-means models are never mapped.
  const embedding::models::ModelKind kind = embedding::models::verify_model_image(bytes).kind;
  if (!embedding::models::embeds_text(kind))
    throw Error(ErrorCode::kInvalidParameter,
                std::string("model \"") + name + "\" is a " + embedding::models::kind_name(kind) +
                    " model, not a text model",
                "embed(), word_vector(), most_similar() and analogy() need word vectors or a "
                "sentence encoder; use pca_project() or kmeans_assign() with this model.");
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

// The default model ships in the extension's share directory, a file the extension did not
// write: a package upgrade or a cp may rewrite it while a backend maps it, and a mapped file that
// shrinks kills the backend (SIGBUS). So it goes the way of every outside file: read into memory
// (pread), verified, and written into our own cache, which is what backends map (a cache file is
// replaced only by rename, so a mapping never loses its pages). Copied rather than read by each
// backend, which would hold its 150 MB privately. The copy is named by the share file's version
// (device, inode, size, ctime), so a reinstalled model is copied again on its first use without
// the share file being read again by every backend.
OpenModel open_default_model() {
  const std::string source = default_model_path();
  struct stat st;
  if (::stat(source.c_str(), &st) != 0)
    throw Error(ErrorCode::kUndefinedObject,
                std::string("the default model \"") + kDefaultModelName + "\" is not installed",
                "Expected the file \"" + source + "\"; scripts/setup.sh converts and installs it.");
  const std::string dir = std::string(DataDir) + "/embedding_models/default";
  const auto copy_path = [&](const embedding::io::FileVersion& v) {
    return dir + "/" + kDefaultModelName + "-" + std::to_string(v.device) + "-" +
           std::to_string(v.inode) + "-" + std::to_string(v.size) + "-" +
           std::to_string(v.change_ns) + ".emb";
  };
  const embedding::io::FileVersion seen{st.st_dev, st.st_ino, static_cast<uint64>(st.st_size),
                                        int64{st.st_ctim.tv_sec} * 1000000000 + st.st_ctim.tv_nsec};
  // The header alone is checked, as the shipped file's was when it was mapped: the copy was
  // written from a fully verified image, and checking its checksums would cost every backend a
  // read of the whole file.
  if (std::optional<OpenModel> cached = open_cached(copy_path(seen), false))
    return std::move(*cached);
  embedding::io::FileVersion version;
  const std::string bytes = embedding::io::read_file(
      source, embedding::io::Symlinks::kFollow, std::numeric_limits<std::size_t>::max(), &version);
  const auto image = std::as_bytes(std::span(bytes.data(), bytes.size()));
  embedding::models::verify_model_image(image);  // fully, once, before any backend maps it
  ::mkdir((std::string(DataDir) + "/embedding_models").c_str(), 0700);
  ::mkdir(dir.c_str(), 0700);
  const std::string path = copy_path(version);
  embedding::models::write_file_atomically(path, image);
  // Finished copies of earlier versions (a backend that maps one keeps its pages; temporary
  // files may be another backend's copy in progress).
  if (DIR* listing = ::opendir(dir.c_str())) {
    while (const struct dirent* entry = ::readdir(listing))
      if (const std::string file = entry->d_name;
          file.starts_with(kDefaultModelName) && file.ends_with(".emb") && dir + "/" + file != path)
        ::unlinkat(::dirfd(listing), entry->d_name, 0);
    ::closedir(listing);
  }
  return open_model_file(path, false);  // just written from a verified image
}

}  // namespace

int encoder_threads = kDefaultEncoderThreads;

void register_model_options() {
  DefineCustomIntVariable(
      "embedding.encoder_threads",
      "Threads one embed() call with a sentence-transformers model may use.",
      "The backend's own thread included; the others compute only. The vectors are the same "
      "for any value.",
      &encoder_threads, kDefaultEncoderThreads, 1, 8, PGC_USERSET, 0, nullptr, nullptr, nullptr);
  MarkGUCPrefixReserved("embedding");
}

std::string default_model_path() {
  char share[MAXPGPATH];
  get_share_path(my_exec_path, share);
  return std::string(share) + "/extension/embedding/" + kDefaultModelName + ".emb";
}

OpenedModel find_any_model(const char* name) {
  Registry& r = registry();
  auto it = r.models.find(name);
  const auto opened = [](const OpenModel& m) {
    return OpenedModel{m.model ? &*m.model : nullptr, m.encoder ? &*m.encoder : nullptr};
  };
  if (std::strcmp(name, kDefaultModelName) == 0) {
    if (it == r.models.end()) it = r.models.emplace(name, open_default_model()).first;
    return opened(it->second);
  }
  const uint64 stamp = command_stamp();
  if (it != r.models.end() && it->second.checked_stamp == stamp) return opened(it->second);
  char hash[store::kHashHexSize];
  pg_call([&] { store::lookup(name, hash, nullptr); });
  if (hash[0] == '\0') no_such_model(name);
  if (it != r.models.end() && it->second.checksum == hash) {
    it->second.checked_stamp = stamp;
    return opened(it->second);
  }
  // Open the cache file of exactly this content, (re)writing it from the table when it is
  // missing or unusable.
  const std::string path = cache_path(hash);
  std::optional<OpenModel> model = open_cached(path);
  // A sweep in another backend that cannot see this model yet (its load is not committed)
  // may remove the file between writing and opening it: write it again, once.
  for (int attempt = 0; !model && attempt < 2; ++attempt) {
    materialise(name, hash, path);
    model = open_cached(path);
  }
  if (!model) model = open_model_file(path, false);  // reports why it cannot be opened
  if (it != r.models.end()) r.models.erase(it);
  model->checksum = hash;
  model->checked_stamp = stamp;
  it = r.models.emplace(name, std::move(*model)).first;
  return opened(it->second);
}

const Model& find_model(const char* name) {
  const OpenedModel opened = find_any_model(name);
  if (opened.words == nullptr)
    throw Error(ErrorCode::kInvalidParameter,
                std::string("model \"") + name + "\" is a sentence-transformers model",
                "word_vector(), most_similar() and analogy() need a word-vector model; embed() "
                "takes either kind.");
  return *opened.words;
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

std::uint64_t command_stamp() {
  return (static_cast<uint64>(MyProc->lxid) << 32) | GetCurrentCommandId(false);
}

}  // namespace embedding::pg
