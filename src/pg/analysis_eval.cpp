// The evaluation functions over a user's queries: silhouette, evaluate_similarity (Spearman
// against human ratings), evaluate_analogy (3CosAdd), evaluate_retrieval and its per-query form
// (recall, MRR, NDCG at k), and embedding_map (an SVG scatter plot).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/analysis/clustering.h"
#include "core/analysis/retrieval.h"
#include "core/analysis/scatter_svg.h"
#include "core/analysis/tsne.h"
#include "core/common/error.h"
#include "core/models/evaluation.h"
#include "pg/am/build.h"
#include "pg/analysis_rows.h"
#include "pg/guard.h"
#include "pg/models.h"
#include "pg/pg_call.h"

extern "C" {
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
}

using embedding::Error;
using embedding::ErrorCode;
namespace analysis = embedding::analysis;
namespace models = embedding::models;
namespace pg = embedding::pg;
using pg::ColumnKind;

namespace {

constexpr std::size_t kMaxMapPoints = 100000;
constexpr std::size_t kMaxTsnePoints = 10000;  // t-SNE's repulsion costs n^2 an iteration
// 3CosAdd searches the most frequent words only, as word2vec's and gensim's evaluations do.
constexpr std::uint32_t kAnalogyRows = 30000;

pg::QueryRows read(const char* function, FunctionCallInfo fcinfo, int arg,
                   std::initializer_list<ColumnKind> kinds, int required) {
  const char* query = text_to_cstring(PG_GETARG_TEXT_PP(arg));
  pg::QueryRows rows;
  pg::pg_call([&] {
    pg::read_query_rows(function, query, kinds.begin(), static_cast<int>(kinds.size()), required,
                        &rows);
  });
  return rows;
}

// A one-row result of the function's declared composite type (under pg_call: the callers hold
// C++ objects).
Datum one_row(FunctionCallInfo fcinfo, Datum* values, bool* nulls) {
  Datum row = 0;
  pg::pg_call([&] {
    TupleDesc desc;
    if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
      elog(ERROR, "the function must return a record");
    desc = BlessTupleDesc(desc);
    row = HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
  });
  return row;
}

std::vector<analysis::QueryScores> retrieval(FunctionCallInfo fcinfo) {
  const int k = PG_GETARG_INT32(2);
  if (k < 1) throw Error(ErrorCode::kInvalidParameter, "k must be at least 1");
  const pg::QueryRows run = read("evaluate_retrieval", fcinfo, 0,
                                 {ColumnKind::kText, ColumnKind::kText, ColumnKind::kNumber}, 3);
  const pg::QueryRows qrels = read("evaluate_retrieval", fcinfo, 1,
                                   {ColumnKind::kText, ColumnKind::kText, ColumnKind::kNumber}, 3);
  std::vector<analysis::RunRow> run_rows(run.rows);
  for (std::size_t i = 0; i < run.rows; ++i)
    run_rows[i] = {run.texts[0][i], run.texts[1][i], run.numbers[2][i]};
  std::vector<analysis::Judgement> judgements(qrels.rows);
  for (std::size_t i = 0; i < qrels.rows; ++i)
    judgements[i] = {qrels.texts[0][i], qrels.texts[1][i], qrels.numbers[2][i]};
  return analysis::retrieval_scores(std::move(run_rows), std::move(judgements),
                                    static_cast<std::size_t>(k));
}

}  // namespace

// silhouette(query): the mean silhouette coefficient of (vector, label) rows.
EMB_FUNCTION(silhouette) {
  const pg::QueryRows rows =
      read("silhouette", fcinfo, 0, {ColumnKind::kVector, ColumnKind::kText}, 2);
  std::vector<std::uint32_t> labels(rows.rows);
  std::unordered_map<std::string, std::uint32_t> ids;
  for (std::size_t i = 0; i < rows.rows; ++i)
    labels[i] = ids.emplace(rows.texts[1][i], static_cast<std::uint32_t>(ids.size())).first->second;
  pg::pg_call([&] {
    pg::progress_notice("silhouette", rows.rows,
                        psprintf("%zu rows in %zu clusters", rows.rows, ids.size()));
  });
  PG_RETURN_FLOAT8(analysis::silhouette(rows.vectors, rows.rows,
                                        static_cast<std::size_t>(rows.dims), labels.data(),
                                        ids.size(), pg::build_threads()));
}

// evaluate_similarity(model, pairs): Spearman of the model's cosine against (word1, word2,
// score) rows; pairs with a word outside the vocabulary are skipped.
EMB_FUNCTION(evaluate_similarity) {
  const models::Model& model = pg::find_model(text_to_cstring(PG_GETARG_TEXT_PP(0)));
  const pg::QueryRows rows = read("evaluate_similarity", fcinfo, 1,
                                  {ColumnKind::kText, ColumnKind::kText, ColumnKind::kNumber}, 3);
  std::vector<models::WordPair> pairs(rows.rows);
  for (std::size_t i = 0; i < rows.rows; ++i)
    pairs[i] = {rows.texts[0][i], rows.texts[1][i], rows.numbers[2][i]};
  const models::PairResult result = models::evaluate_word_pairs(model, pairs);
  Datum values[3] = {Float8GetDatum(result.spearman),
                     Int32GetDatum(static_cast<int32>(result.used)),
                     Int32GetDatum(static_cast<int32>(result.total - result.used))};
  bool nulls[3] = {result.used < 2 || std::isnan(result.spearman), false, false};
  return one_row(fcinfo, values, nulls);
}

// evaluate_analogy(model, quads): 3CosAdd accuracy over (a, b, c, d[, category]) rows: a row
// for all (category NULL), then one per category in order of first appearance.
EMB_FUNCTION(evaluate_analogy) {
  const models::Model& model = pg::find_model(text_to_cstring(PG_GETARG_TEXT_PP(0)));
  const pg::QueryRows rows = read("evaluate_analogy", fcinfo, 1,
                                  {ColumnKind::kText, ColumnKind::kText, ColumnKind::kText,
                                   ColumnKind::kText, ColumnKind::kText},
                                  4);
  const bool categories = rows.columns == 5;
  std::vector<models::AnalogySet> sets(1);
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < rows.rows; ++i) {
    std::size_t set = 0;
    if (categories) {
      const auto [it, added] = index.emplace(rows.texts[4][i], sets.size());
      if (added) {
        sets.emplace_back();
        sets.back().sections.push_back(rows.texts[4][i]);
      }
      set = it->second;
    }
    if (sets[set].sections.empty()) sets[set].sections.push_back("all");
    sets[set].questions.push_back(
        {rows.texts[0][i], rows.texts[1][i], rows.texts[2][i], rows.texts[3][i], 0});
  }
  const std::uint32_t limit = std::min(kAnalogyRows, model.vocab_size());
  std::vector<models::AnalogyResult> results;
  models::AnalogyResult total;
  for (std::size_t s = categories ? 1 : 0; s < sets.size(); ++s) {
    results.push_back(models::evaluate_analogies(model, sets[s], limit));
    total.correct += results.back().correct;
    total.answered += results.back().answered;
    total.skipped += results.back().skipped;
  }
  if (categories) results.insert(results.begin(), total);
  pg::pg_call([&] {
    InitMaterializedSRF(fcinfo, 0);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (std::size_t r = 0; r < results.size(); ++r) {
      const models::AnalogyResult& result = results[r];
      Datum values[5] = {r == 0 ? Datum(0) : CStringGetTextDatum(sets[r].sections[0].c_str()),
                         Float8GetDatum(result.accuracy()),
                         Int32GetDatum(static_cast<int32>(result.correct)),
                         Int32GetDatum(static_cast<int32>(result.answered)),
                         Int32GetDatum(static_cast<int32>(result.skipped))};
      bool nulls[5] = {r == 0, result.answered == 0, false, false, false};
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
  });
  return (Datum)0;
}

// evaluate_retrieval(run, qrels, k): recall, MRR and NDCG at k, averaged over the queries.
EMB_FUNCTION(evaluate_retrieval) {
  const std::vector<analysis::QueryScores> scores = retrieval(fcinfo);
  const analysis::QueryScores mean = analysis::mean_scores(scores);
  Datum values[4] = {Float8GetDatum(mean.recall), Float8GetDatum(mean.mrr),
                     Float8GetDatum(mean.ndcg), Int32GetDatum(static_cast<int32>(scores.size()))};
  bool nulls[4] = {scores.empty(), scores.empty(), scores.empty(), false};
  return one_row(fcinfo, values, nulls);
}

// evaluate_retrieval_by_query(run, qrels, k): the same per query.
EMB_FUNCTION(evaluate_retrieval_by_query) {
  const std::vector<analysis::QueryScores> scores = retrieval(fcinfo);
  pg::pg_call([&] {
    InitMaterializedSRF(fcinfo, 0);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (const analysis::QueryScores& s : scores) {
      Datum values[4] = {CStringGetTextDatum(s.query.c_str()), Float8GetDatum(s.recall),
                         Float8GetDatum(s.mrr), Float8GetDatum(s.ndcg)};
      bool nulls[4] = {false, false, false, false};
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
  });
  return (Datum)0;
}

// embedding_map(query, method): an SVG scatter plot of (vector, label[, group]) rows on their
// first two principal coordinates ('pca') or a t-SNE layout ('tsne').
EMB_FUNCTION(embedding_map) {
  const char* method = text_to_cstring(PG_GETARG_TEXT_PP(1));
  const bool tsne = strcmp(method, "tsne") == 0;
  if (!tsne && strcmp(method, "pca") != 0)
    throw Error(ErrorCode::kInvalidParameter, std::string("unknown method \"") + method + "\"",
                "Use 'pca' or 'tsne'.");
  const pg::QueryRows rows = read("embedding_map", fcinfo, 0,
                                  {ColumnKind::kVector, ColumnKind::kText, ColumnKind::kText}, 2);
  if (tsne && rows.rows > kMaxTsnePoints)
    throw Error(ErrorCode::kProgramLimit,
                "t-SNE maps at most " + std::to_string(kMaxTsnePoints) + " points, not " +
                    std::to_string(rows.rows),
                "Sample the rows (TABLESAMPLE, LIMIT), or use method 'pca'.");
  if (rows.rows > kMaxMapPoints)
    throw Error(ErrorCode::kProgramLimit,
                "embedding_map draws at most " + std::to_string(kMaxMapPoints) + " points, not " +
                    std::to_string(rows.rows),
                "Sample the rows (TABLESAMPLE, LIMIT).");
  const std::size_t dims = static_cast<std::size_t>(rows.dims);
  analysis::TsneOptions options;
  options.threads = pg::build_threads();
  if (tsne)
    pg::pg_call([&] {
      pg::progress_notice(
          "embedding_map", rows.rows,
          psprintf("t-SNE of %zu points, %d iterations", rows.rows, options.iterations));
    });
  pg::ProgressNotices notices("embedding_map", rows.rows, 500);
  options.progress = [&](int iteration) {
    notices("t-SNE iteration " + std::to_string(iteration) + " of " +
            std::to_string(options.iterations));
  };
  const std::vector<float> xy =
      tsne ? analysis::tsne_coordinates(rows.vectors, rows.rows, dims, options)
           : analysis::map_coordinates(rows.vectors, rows.rows, dims, options.threads);
  std::vector<std::string> labels(rows.texts[1], rows.texts[1] + rows.rows);
  std::vector<std::string> groups;
  if (rows.columns == 3) groups.assign(rows.texts[2], rows.texts[2] + rows.rows);
  const std::string svg = analysis::scatter_svg(xy, labels, groups);
  text* result = nullptr;
  pg::pg_call([&] { result = cstring_to_text_with_len(svg.data(), static_cast<int>(svg.size())); });
  PG_RETURN_TEXT_P(result);
}
