// embed(), word_vector(), most_similar() and analogy(): text and words in, vectors and
// neighbours out, computed by the core from a model the registry keeps open (models.h).
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/models/sentence_encoder.h"
#include "core/models/similarity.h"
#include "pg/guard.h"
#include "pg/models.h"
#include "pg/vector.h"

extern "C" {
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace models = embedding::models;
using embedding::Error;
using embedding::ErrorCode;
using embedding::pg::PgVector;

namespace {

// text argument as a NUL-terminated C string (palloc'd).
const char* text_arg(FunctionCallInfo fcinfo, int n) {
  return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

// The vector of one text under a model of either kind into out (the model's dims floats); false
// when a word-vector model knows none of its words.
bool embed_one(const embedding::pg::OpenedModel& model, std::string_view text, float* out) {
  if (model.encoder != nullptr) {
    model.encoder->embed(std::span<const std::string_view>(&text, 1), out,
                         embedding::pg::encoder_threads);
    return true;
  }
  return models::embed_text(*model.words, text, std::span<float>(out, model.words->dims()));
}

std::uint32_t model_dims(const embedding::pg::OpenedModel& model) {
  return model.encoder != nullptr ? model.encoder->dims() : model.words->dims();
}

Datum embed_with(FunctionCallInfo fcinfo, const char* model_name, int text_arg_number) {
  const embedding::pg::OpenedModel model = embedding::pg::find_any_model(model_name);
  text* input = PG_GETARG_TEXT_PP(text_arg_number);
  PgVector* result = embedding::pg::new_vector(static_cast<int>(model_dims(model)));
  std::string_view body(VARDATA_ANY(input), VARSIZE_ANY_EXHDR(input));
  if (!embed_one(model, body, result->x)) PG_RETURN_NULL();
  PG_RETURN_POINTER(result);
}

// The word's id, or nullopt when the model does not know it.
std::optional<std::uint32_t> word_id(const models::Model& model, const char* word) {
  return model.lookup(word);
}

struct Neighbours {
  models::Neighbour* rows;
  std::size_t count;
};

// Moves a result out of C++ memory (palloc'd, never raising), so that no C++ object is alive
// while PostgreSQL builds the result set.
Neighbours to_palloc(const std::vector<models::Neighbour>& v) {
  auto* rows = static_cast<models::Neighbour*>(MemoryContextAllocExtended(
      CurrentMemoryContext, sizeof(models::Neighbour) * (v.size() + 1), MCXT_ALLOC_NO_OOM));
  if (rows == nullptr) throw std::bad_alloc();
  std::copy(v.begin(), v.end(), rows);
  return {rows, v.size()};
}

// Emits (word, similarity) rows into the function's materialised result.
void emit(FunctionCallInfo fcinfo, const models::Model& model, Neighbours neighbours) {
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (std::size_t i = 0; i < neighbours.count; ++i) {
    const models::Neighbour& n = neighbours.rows[i];
    std::string_view w = model.word(n.id);
    Datum values[2] = {
        PointerGetDatum(cstring_to_text_with_len(w.data(), static_cast<int>(w.size()))),
        Float8GetDatum(n.similarity)};
    bool nulls[2] = {false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
}

// Results are sorted in memory, so k is bounded; a larger k is an error, never silently cut.
constexpr int32 kMaxNeighbours = 10000;

std::size_t k_arg(FunctionCallInfo fcinfo, int n) {
  int32 k = PG_GETARG_INT32(n);
  if (k < 1 || k > kMaxNeighbours)
    throw Error(
        ErrorCode::kInvalidParameter,
        "k must be between 1 and " + std::to_string(kMaxNeighbours) + ", not " + std::to_string(k));
  return static_cast<std::size_t>(k);
}

}  // namespace

EMB_FUNCTION(embed) { return embed_with(fcinfo, embedding::pg::kDefaultModelName, 0); }
EMB_FUNCTION(embed_model) { return embed_with(fcinfo, text_arg(fcinfo, 0), 1); }

// embed(model, texts text[]): the vectors of a batch, in input order (NULL for a NULL text, and
// for a text a word-vector model knows no word of). A sentence encoder runs the batch through
// its layers together, which is much faster per text than one call each.
EMB_FUNCTION(embed_model_batch) {
  const embedding::pg::OpenedModel model = embedding::pg::find_any_model(text_arg(fcinfo, 0));
  ArrayType* input = PG_GETARG_ARRAYTYPE_P(1);
  if (ARR_NDIM(input) > 1)
    throw Error(ErrorCode::kDataException, "embed() takes a one-dimensional array of texts");
  Datum* elements;
  bool* nulls;
  int count;
  deconstruct_array(input, TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count);
  const std::uint32_t dims = model_dims(model);
  // Texts and vectors in palloc'd arrays of trivially destructible values: nothing C++ owns
  // is alive while PostgreSQL allocates.
  auto* texts = static_cast<std::string_view*>(palloc0(sizeof(std::string_view) * (count + 1)));
  auto* positions = static_cast<int*>(palloc0(sizeof(int) * (count + 1)));
  int present = 0;
  for (int i = 0; i < count; ++i) {
    if (nulls[i]) continue;
    text* t = DatumGetTextPP(elements[i]);
    texts[present] = std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    positions[present++] = i;
  }
  auto** vectors = static_cast<PgVector**>(palloc0(sizeof(PgVector*) * (count + 1)));
  auto* known = static_cast<bool*>(palloc0(sizeof(bool) * (count + 1)));
  float* rows = static_cast<float*>(
      MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * dims * (present + 1)));
  if (model.encoder != nullptr) {
    model.encoder->embed(std::span<const std::string_view>(texts, present), rows,
                         embedding::pg::encoder_threads);
    for (int j = 0; j < present; ++j) known[j] = true;
  } else {
    for (int j = 0; j < present; ++j)
      known[j] = embed_one(model, texts[j], rows + std::size_t{dims} * j);
  }
  for (int j = 0; j < present; ++j) {
    if (!known[j]) continue;
    PgVector* v = embedding::pg::new_vector(static_cast<int>(dims));
    memcpy(v->x, rows + std::size_t{dims} * j, sizeof(float) * dims);
    vectors[positions[j]] = v;
  }
  // The result's element type: vector, as the function's declared return type (vector[]) says.
  const Oid vector_type = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
  if (!OidIsValid(vector_type)) throw Error(ErrorCode::kInternal, "embed() must return vector[]");
  auto* values = static_cast<Datum*>(palloc0(sizeof(Datum) * (count + 1)));
  auto* result_nulls = static_cast<bool*>(palloc0(sizeof(bool) * (count + 1)));
  for (int i = 0; i < count; ++i) {
    result_nulls[i] = vectors[i] == nullptr;
    values[i] = PointerGetDatum(vectors[i]);
  }
  int dims_out[1] = {count};
  int lower[1] = {count > 0 ? ARR_LBOUND(input)[0] : 1};
  int16 typlen;
  bool typbyval;
  char typalign;
  get_typlenbyvalalign(vector_type, &typlen, &typbyval, &typalign);
  PG_RETURN_ARRAYTYPE_P(construct_md_array(values, result_nulls, count > 0 ? 1 : 0, dims_out, lower,
                                           vector_type, typlen, typbyval, typalign));
}

// word_vector(word, model): the model's vector for a word (its raw GloVe vector), NULL if unknown.
// A model trained with subwords answers an unknown word from its character n-grams.
EMB_FUNCTION(word_vector) {
  const models::Model& model = embedding::pg::find_model(text_arg(fcinfo, 1));
  const char* word = text_arg(fcinfo, 0);
  auto id = word_id(model, word);
  if (!id && !model.has_subwords()) PG_RETURN_NULL();
  PgVector* result = embedding::pg::new_vector(static_cast<int>(model.dims()));
  if (!id) {
    if (!model.subword_vector(word, result->x)) PG_RETURN_NULL();
    PG_RETURN_POINTER(result);
  }
  const float* unit = model.unit_vector(*id);
  const float norm = model.norm(*id);
  for (std::uint32_t i = 0; i < model.dims(); ++i) result->x[i] = unit[i] * norm;
  PG_RETURN_POINTER(result);
}

// most_similar(word, k, model): nearest words, the word itself excluded; no rows if unknown.
EMB_FUNCTION(most_similar_word) {
  const models::Model& model = embedding::pg::find_model(text_arg(fcinfo, 2));
  std::size_t k = k_arg(fcinfo, 1);
  auto id = word_id(model, text_arg(fcinfo, 0));
  Neighbours rows = to_palloc(id ? models::most_similar_to_word(model, *id, k)
                                 : std::vector<models::Neighbour>{});
  emit(fcinfo, model, rows);
  return (Datum)0;
}

// most_similar(v, k, model): nearest words to a vector of the model's dimensions.
EMB_FUNCTION(most_similar_vector) {
  PgVector* v = EMB_GETARG_VECTOR(0);
  const models::Model& model = embedding::pg::find_model(text_arg(fcinfo, 2));
  if (static_cast<std::uint32_t>(v->dim) != model.dims())
    throw Error(ErrorCode::kDataException, "expected " + std::to_string(model.dims()) +
                                               " dimensions, not " + std::to_string(v->dim));
  Neighbours rows = to_palloc(
      models::most_similar(model, std::span<const float>(v->x, v->dim), k_arg(fcinfo, 1)));
  emit(fcinfo, model, rows);
  return (Datum)0;
}

// analogy(a, b, c, k, model): "a is to b as c is to ?" by 3CosAdd; no rows if a word is unknown.
EMB_FUNCTION(analogy) {
  const models::Model& model = embedding::pg::find_model(text_arg(fcinfo, 4));
  std::size_t k = k_arg(fcinfo, 3);
  auto a = word_id(model, text_arg(fcinfo, 0));
  auto b = word_id(model, text_arg(fcinfo, 1));
  auto c = word_id(model, text_arg(fcinfo, 2));
  Neighbours rows = to_palloc(a && b && c ? models::analogy(model, *a, *b, *c, k)
                                          : std::vector<models::Neighbour>{});
  emit(fcinfo, model, rows);
  return (Datum)0;
}
