// Retrieval metrics (see retrieval.h).
#include "core/analysis/retrieval.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "core/common/error.h"
#include "core/common/interrupt.h"

namespace embedding::analysis {

std::vector<QueryScores> retrieval_scores(std::vector<RunRow> run, std::vector<Judgement> qrels,
                                          std::size_t k) {
  if (k < 1) throw Error(ErrorCode::kInvalidParameter, "k must be at least 1");
  // Judgements by query, then document.
  std::map<std::string, std::unordered_map<std::string, double>> judged;
  for (std::size_t i = 0; i < qrels.size(); ++i) {
    poll_interrupts_every<12>(i);
    Judgement& j = qrels[i];
    if (!judged[j.query].emplace(std::move(j.doc), j.relevance).second)
      throw Error(ErrorCode::kInvalidParameter,
                  "query \"" + j.query + "\" judges a document twice");
  }
  std::sort(run.begin(), run.end(), [](const RunRow& a, const RunRow& b) {
    if (a.query != b.query) return a.query < b.query;
    if (a.rank != b.rank) return a.rank < b.rank;
    return a.doc < b.doc;
  });
  std::vector<QueryScores> scores;
  std::size_t at = 0;
  for (const auto& [query, docs] : judged) {
    poll_interrupts();
    std::vector<double> gains;  // of the relevant documents, for the ideal ranking
    for (const auto& [doc, relevance] : docs)
      if (relevance > 0) gains.push_back(relevance);
    // Skip run rows of queries without judgements (they sort before this one).
    while (at < run.size() && run[at].query < query) ++at;
    if (gains.empty()) {
      while (at < run.size() && run[at].query == query) ++at;
      continue;
    }
    std::sort(gains.rbegin(), gains.rend());
    QueryScores s;
    s.query = query;
    std::unordered_set<std::string> seen;
    std::size_t position = 0, found = 0;
    double dcg = 0.0;
    for (; at < run.size() && run[at].query == query; ++at) {
      if (position >= k || !seen.insert(run[at].doc).second) continue;
      ++position;
      const auto it = docs.find(run[at].doc);
      const double relevance = it == docs.end() ? 0.0 : it->second;
      if (relevance <= 0) continue;
      ++found;
      if (s.mrr == 0.0) s.mrr = 1.0 / static_cast<double>(position);
      dcg += (std::pow(2.0, relevance) - 1.0) / std::log2(static_cast<double>(position) + 1.0);
    }
    double ideal = 0.0;
    for (std::size_t i = 0; i < std::min(k, gains.size()); ++i)
      ideal += (std::pow(2.0, gains[i]) - 1.0) / std::log2(static_cast<double>(i) + 2.0);
    s.recall = static_cast<double>(found) / static_cast<double>(gains.size());
    s.ndcg = ideal > 0.0 ? dcg / ideal : 0.0;
    scores.push_back(std::move(s));
  }
  return scores;
}

QueryScores mean_scores(const std::vector<QueryScores>& per_query) {
  QueryScores mean;
  if (per_query.empty()) return mean;
  for (const QueryScores& s : per_query) {
    mean.recall += s.recall;
    mean.mrr += s.mrr;
    mean.ndcg += s.ndcg;
  }
  const double n = static_cast<double>(per_query.size());
  mean.recall /= n;
  mean.mrr /= n;
  mean.ndcg /= n;
  return mean;
}

}  // namespace embedding::analysis
