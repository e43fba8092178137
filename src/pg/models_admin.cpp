// load_model(), drop_model() and the rows of the embedding_models view. Loaded models are rows
// of embedding_model_store (so pg_dump, backups and replicas carry them); a name, once used,
// always means the same vectors, which is what makes embed(model, text) IMMUTABLE.
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/encoder/st_loader.h"
#include "core/models/loaders.h"
#include "core/models/model_builder.h"
#include "core/models/model_image.h"
#include "pg/citus_models.h"
#include "pg/guard.h"
#include "pg/model_store.h"
#include "pg/model_users.h"
#include "pg/models.h"
#include "pg/pg_call.h"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace models = embedding::models;
namespace store = embedding::pg::store;
using embedding::Error;
using embedding::ErrorCode;

namespace {

// The file image of a converted model, held in C++ memory tied to a memory context.
struct Converted {
  std::vector<std::byte> bytes;
  embedding::models::ModelSummary summary{};
};

// The format name of sentence-transformers model directories (a sentence encoder).
constexpr const char* kSentenceTransformers = "sentence-transformers";

void check_model_admin(const char* action) {
  if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
    throw Error(
        ErrorCode::kPermission, std::string("permission denied to ") + action,
        "Only superusers and roles with privileges of pg_read_server_files may load or drop "
        "models.");
}

}  // namespace

// The formats load_model() accepts (the converter also reads the npm package's JSON).
static std::optional<models::SourceFormat> load_format(const char* name) {
  auto format = models::parse_source_format(name);
  if (format == models::SourceFormat::kWinkJson) return std::nullopt;
  return format;
}

// load_model(name, path, format): reads a word-vector file on the server, converts it to our
// format and stores it. Superusers and members of pg_read_server_files only.
EMB_FUNCTION(load_model) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const char* path = text_to_cstring(PG_GETARG_TEXT_PP(1));
  const char* format_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
  check_model_admin("load a model from a server file");
  if (*name == '\0') throw Error(ErrorCode::kInvalidParameter, "model name must not be empty");
  if (std::strcmp(name, embedding::pg::kDefaultModelName) == 0)
    throw Error(ErrorCode::kDuplicateObject, std::string("model \"") + name + "\" already exists",
                "It is the default model that ships with the extension.");
  const bool encoder = std::strcmp(format_name, kSentenceTransformers) == 0;
  auto format = load_format(format_name);
  if (!format && !encoder)
    throw Error(ErrorCode::kInvalidParameter,
                std::string("unknown model format \"") + format_name + "\"",
                "Use one of: word2vec (text), word2vec-binary, glove, fasttext, "
                "sentence-transformers (a model directory).");
  MemoryContext cxt =
      AllocSetContextCreate(CurrentMemoryContext, "load_model", ALLOCSET_DEFAULT_SIZES);
  Converted* converted = embedding::pg::new_owned<Converted>(cxt);
  if (encoder) {
    converted->bytes = embedding::encoder::load_sentence_transformer(path);
  } else {
    models::WordVectors source = models::load_word_vectors_file(path, *format);
    if (source.words.empty())
      throw Error(ErrorCode::kDataException, std::string("no word vectors in \"") + path + "\"");
    converted->bytes = models::build_model(source);
  }
  converted->summary = embedding::models::verify_model_image(converted->bytes);
  const std::size_t size = converted->bytes.size();
  const char* source_text = psprintf(
      "%s (%s)", path, encoder ? kSentenceTransformers : models::source_format_name(*format));

  // From here on only PostgreSQL calls: run them under pg_call so errors unwind C++ frames.
  embedding::pg::pg_call([&] {
    store::insert_model(name, source_text, format_name, converted->summary, converted->bytes.data(),
                        size);
  });
  const int32 vocab = static_cast<int32>(converted->summary.vocab_size);
  MemoryContextDelete(cxt);
  embedding::pg::sweep_cache();
  PG_RETURN_INT32(vocab);
}

// drop_model(name, cascade): removes a loaded model's vectors. The name stays reserved for the
// same vectors (see load_model). Refused while stored expressions use the model (a generated
// column or a CHECK constraint would fail every later INSERT, and a dump of its table would not
// restore), unless cascade: then the model goes anyway, and a WARNING names the objects left
// behind, which work again once the same vectors are loaded under the name.
EMB_FUNCTION(drop_model) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  // The 0.4.0 declaration drop_model(name) has no second argument.
  const bool cascade = PG_NARGS() > 1 && PG_GETARG_BOOL(1);
  check_model_admin("drop a model");
  if (std::strcmp(name, embedding::pg::kDefaultModelName) == 0)
    throw Error(ErrorCode::kFeature, "cannot drop the default model");
  uint64 dropped = 0;
  embedding::pg::pg_call([&] {
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    Oid types[1] = {TEXTOID};
    Datum key[1] = {CStringGetTextDatum(name)};
    dropped = store::execute_as_owner(
        psprintf("UPDATE %s SET dropped = true, data = ''::pg_catalog.bytea "
                 "WHERE name OPERATOR(pg_catalog.=) $1 AND NOT dropped",
                 store::kTable),
        1, types, key);
    SPI_finish();
    if (dropped == 0) return;
    StringInfoData users;
    initStringInfo(&users);
    const int count = embedding::pg::find_model_users(name, &users);
    if (count > 0 && !cascade)
      ereport(ERROR, (errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
                      errmsg("cannot drop model \"%s\" because other objects use it", name),
                      errdetail("%s", users.data),
                      errhint("Drop or change those objects first, or call drop_model(name, "
                              "cascade => true) to drop the model and leave them failing until "
                              "the same vectors are loaded under that name again.")));
    if (count > 0)
      ereport(WARNING,
              (errmsg("model \"%s\" dropped while %d other object%s use%s it", name, count,
                      count == 1 ? "" : "s", count == 1 ? "s" : ""),
               errdetail("%s", users.data),
               errhint("They fail until the same vectors are loaded under that name again.")));
    if (embedding::pg::citus::coordinator_with_workers()) embedding::pg::citus::push_models(name);
  });
  if (dropped == 0)
    throw Error(ErrorCode::kUndefinedObject, std::string("model \"") + name + "\" does not exist");
  embedding::pg::sweep_cache();
  PG_RETURN_VOID();
}

// The default model's row of the embedding_models view (NULL fields if it is not installed).
EMB_FUNCTION(embedding_default_model) {
  TupleDesc desc;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    throw Error(ErrorCode::kInternal, "embedding_default_model must return a record");
  desc = BlessTupleDesc(desc);
  Datum values[4] = {0, 0, 0, 0};
  bool nulls[4] = {true, true, true, true};
  values[0] = CStringGetTextDatum(embedding::pg::kDefaultModelName);
  nulls[0] = false;
  try {
    const models::Model& model = embedding::pg::find_model(embedding::pg::kDefaultModelName);
    values[1] = Int32GetDatum(static_cast<int32>(model.dims()));
    values[2] = Int32GetDatum(static_cast<int32>(model.vocab_size()));
    values[3] = Int64GetDatum(static_cast<int64>(model.bytes().size()));
    nulls[1] = nulls[2] = nulls[3] = false;
  } catch (const Error&) {
    // Not installed: the view shows the row with NULL sizes.
  }
  PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
