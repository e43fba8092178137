// train_model() and export_model(): word vectors trained on the text a query returns (read
// here, on the backend's thread, with the caller's privileges), stored as an ordinary model.
#include <charconv>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/models/model_builder.h"
#include "core/models/model_image.h"
#include "core/train/corpus.h"
#include "core/train/trainer.h"
#include "pg/am/build.h"
#include "pg/guard.h"
#include "pg/model_store.h"
#include "pg/models.h"
#include "pg/pg_call.h"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace train = embedding::train;
namespace models = embedding::models;
using embedding::Error;
using embedding::ErrorCode;

namespace {

constexpr long kFetchRows = 1000;

// Everything a training run holds in C++ memory, tied to a memory context (freed on error).
struct TrainState {
  explicit TrainState(std::size_t limit) : builder(limit) {}
  train::CorpusBuilder builder;
  train::Corpus corpus;
  train::TrainResult result;
  bytea* data = nullptr;  // the model image, in the memory context
  models::ModelSummary summary{};
};

std::size_t memory_limit() { return static_cast<std::size_t>(maintenance_work_mem) * 1024; }

// Runs the corpus query through a read-only cursor, a batch at a time, and feeds every non-NULL
// value of its one text column to the builder. PostgreSQL calls: run under pg_call().
void read_corpus(const char* query, train::CorpusBuilder* builder) {
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  Portal portal = SPI_cursor_open_with_args(nullptr, query, 0, nullptr, nullptr, nullptr, true, 0);
  const TupleDesc desc = portal->tupDesc;
  if (desc == nullptr || desc->natts != 1)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("the corpus query must return exactly one column"),
                    errhint("For example: SELECT body FROM tickets")));
  const Oid type = getBaseType(SPI_gettypeid(desc, 1));
  if (type != TEXTOID && type != VARCHAROID && type != BPCHAROID)
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("the corpus query must return a text column, not %s",
                           format_type_be(SPI_gettypeid(desc, 1))),
                    errhint("Cast it: SELECT body::text FROM ...")));
  for (;;) {
    CHECK_FOR_INTERRUPTS();
    SPI_cursor_fetch(portal, true, kFetchRows);
    if (SPI_processed == 0) break;
    for (uint64 i = 0; i < SPI_processed; ++i) {
      CHECK_FOR_INTERRUPTS();
      bool isnull;
      Datum value = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
      if (isnull) continue;  // no words
      text* body = DatumGetTextPP(value);
      // C++ may throw here (memory limit, an interrupt in a long row); pg_call rethrows it.
      builder->add_row(std::string_view(VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body)));
      if (reinterpret_cast<Pointer>(body) != DatumGetPointer(value)) pfree(body);
    }
    SPI_freetuptable(SPI_tuptable);
  }
  SPI_cursor_close(portal);
  SPI_finish();
}

train::Method parse_method(const char* method) {
  if (std::strcmp(method, "skipgram") == 0) return train::Method::kSkipGram;
  if (std::strcmp(method, "cbow") == 0) return train::Method::kCbow;
  throw Error(ErrorCode::kInvalidParameter,
              std::string("unknown training method \"") + method + "\"",
              "Use skipgram or cbow (with subwords => true for fastText's character n-grams).");
}

int32 positive_arg(FunctionCallInfo fcinfo, int n, const char* name, int32 max) {
  const int32 value = PG_GETARG_INT32(n);
  if (value < 1 || value > max)
    throw Error(ErrorCode::kInvalidParameter, std::string(name) + " must be between 1 and " +
                                                  std::to_string(max) + ", not " +
                                                  std::to_string(value));
  return value;
}

// A progress line (PostgreSQL call on the backend's thread, between worker steps).
void report(const train::TrainProgress& p) {
  embedding::pg::pg_call([&] {
    ereport(NOTICE,
            (errmsg("train_model: epoch %u/%u, %.0f%% done, %.0f words/s, loss %.4f, about %.0f s "
                    "left",
                    p.epoch, p.epochs, 100.0 * p.fraction, p.words_per_second, p.loss,
                    p.seconds_left)));
  });
}

}  // namespace

// train_model(name, corpus, method, dimensions, window_size, min_count, negative, epochs,
// subwords, seed): trains word vectors on the rows of the corpus query and stores them as the
// model `name`. Returns the vocabulary size. All in the caller's transaction: an error or a
// cancel leaves no model behind.
EMB_FUNCTION(train_model) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const char* query = text_to_cstring(PG_GETARG_TEXT_PP(1));
  const char* method_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
  if (*name == '\0') throw Error(ErrorCode::kInvalidParameter, "model name must not be empty");
  if (std::strcmp(name, embedding::pg::kDefaultModelName) == 0)
    throw Error(ErrorCode::kDuplicateObject, std::string("model \"") + name + "\" already exists",
                "It is the default model that ships with the extension.");
  train::TrainOptions options;
  options.method = parse_method(method_name);
  options.dims = static_cast<std::uint32_t>(positive_arg(fcinfo, 3, "dimensions", 16000));
  options.window = static_cast<std::uint32_t>(positive_arg(fcinfo, 4, "window_size", 1000));
  const auto min_count =
      static_cast<std::uint32_t>(positive_arg(fcinfo, 5, "min_count", INT32_MAX));
  options.negative = static_cast<std::uint32_t>(positive_arg(fcinfo, 6, "negative", 1000));
  options.epochs = static_cast<std::uint32_t>(positive_arg(fcinfo, 7, "epochs", 10000));
  options.subwords = PG_GETARG_BOOL(8);
  options.seed = static_cast<std::uint64_t>(static_cast<std::uint32_t>(PG_GETARG_INT32(9)));
  options.threads = embedding::pg::build_threads();
  if (*query == '\0') throw Error(ErrorCode::kInvalidParameter, "the corpus query is empty");
  const int query_clip = pg_mbcliplen(query, static_cast<int>(std::strlen(query)), 200);

  // A name in use fails now rather than after the training.
  char hash[embedding::pg::store::kHashHexSize];
  embedding::pg::pg_call([&] { embedding::pg::store::lookup(name, hash, nullptr); });
  if (hash[0] != '\0')
    throw Error(ErrorCode::kDuplicateObject, std::string("model \"") + name + "\" already exists",
                "Drop it first, or train under another name.");

  MemoryContext cxt =
      AllocSetContextCreate(CurrentMemoryContext, "train_model", ALLOCSET_DEFAULT_SIZES);
  TrainState* state = embedding::pg::new_owned<TrainState>(cxt, memory_limit());
  embedding::pg::pg_call([&] { read_corpus(query, &state->builder); });
  state->corpus = state->builder.finish(min_count);
  const std::size_t corpus_bytes = state->corpus.memory_bytes();
  options.memory_limit = memory_limit() > corpus_bytes ? memory_limit() - corpus_bytes : 0;
  state->result = train::train(state->corpus, options, report);

  {  // C++ objects in this scope end before the PostgreSQL calls below
    const double seconds = state->result.seconds;
    const double speed = state->result.words_per_second;
    models::WordVectors source;
    source.dims = state->result.dims;
    source.words = std::move(state->corpus.words);
    source.values = std::move(state->result.vectors);
    state->corpus = train::Corpus();
    models::BuildOptions build;
    if (options.subwords) build.subwords = &state->result.subwords;
    // The image is built straight into the bytea that is stored (one copy, not two), and the
    // vectors it was built from are freed before the row is written.
    const std::size_t size = models::model_file_size(source, build);
    if (size > MaxAllocSize - VARHDRSZ)
      throw Error(ErrorCode::kProgramLimit, "the trained model is too large to store",
                  "A model is stored as one bytea of at most 1 GB: raise min_count or use fewer "
                  "dimensions.");
    embedding::pg::pg_call([&] {
      state->data = static_cast<bytea*>(MemoryContextAlloc(cxt, VARHDRSZ + size));
      SET_VARSIZE(state->data, VARHDRSZ + size);
    });
    const std::span<std::byte> image(reinterpret_cast<std::byte*>(VARDATA(state->data)), size);
    models::build_model_into(source, build, image);
    source = models::WordVectors();
    state->result = train::TrainResult();
    state->summary = models::verify_model_image(image);
    const std::string source_text =
        std::string("train_model(") + method_name + ", dimensions " + std::to_string(options.dims) +
        ", window_size " + std::to_string(options.window) + ", min_count " +
        std::to_string(min_count) + ", negative " + std::to_string(options.negative) + ", epochs " +
        std::to_string(options.epochs) + (options.subwords ? ", subwords" : "") + ", seed " +
        std::to_string(PG_GETARG_INT32(9)) + "): " + std::string(query, query_clip);
    const std::string format =
        std::string("trained-") + method_name + (options.subwords ? "-subwords" : "");
    const std::size_t threads = static_cast<std::size_t>(options.threads);
    embedding::pg::pg_call([&] {
      embedding::pg::store::insert_model_bytea(name, source_text.c_str(), format.c_str(),
                                               state->summary, state->data);
      ereport(NOTICE,
              (errmsg("train_model: %u words of %u dimensions trained in %.2f s (%.0f "
                      "words/s, %zu threads)",
                      state->summary.vocab_size, state->summary.dims, seconds, speed, threads)));
    });
  }
  const int32 vocab = static_cast<int32>(state->summary.vocab_size);
  MemoryContextDelete(cxt);
  embedding::pg::sweep_cache();
  PG_RETURN_INT32(vocab);
}

// export_model(name): a word-vector model in word2vec text format ("count dims", then a line a
// word: the word and its raw vector), for use elsewhere.
EMB_FUNCTION(export_model) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const models::Model& model = embedding::pg::find_model(name);
  const std::uint32_t dims = model.dims();
  std::string out = std::to_string(model.vocab_size()) + " " + std::to_string(dims) + "\n";
  char number[32];
  for (std::uint32_t id = 0; id < model.vocab_size(); ++id) {
    embedding::poll_interrupts_every<8>(id);
    out.append(model.word(id));
    const float* unit = model.unit_vector(id);
    for (std::uint32_t i = 0; i < dims; ++i) {
      out.push_back(' ');
      const auto r = std::to_chars(number, number + sizeof number, unit[i] * model.norm(id));
      out.append(number, r.ptr);
    }
    out.push_back('\n');
    if (out.size() > MaxAllocSize - VARHDRSZ)
      throw Error(ErrorCode::kProgramLimit, "the model is too large to export as one text value",
                  "A text value holds at most 1 GB.");
  }
  text* result = nullptr;
  embedding::pg::pg_call([&] {
    result = static_cast<text*>(palloc(VARHDRSZ + out.size()));
    SET_VARSIZE(result, VARHDRSZ + out.size());
    std::memcpy(VARDATA(result), out.data(), out.size());
  });
  return PointerGetDatum(result);
}
