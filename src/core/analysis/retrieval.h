// Retrieval quality of a ranked run against relevance judgements (qrels): recall@k, MRR@k and
// NDCG@k (gain 2^rel - 1, log2 discount) per query and averaged, as trec_eval defines them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace embedding::analysis {

struct RunRow {  // one retrieved document: a smaller rank is better
  std::string query, doc;
  double rank;
};

struct Judgement {  // a document's graded relevance; > 0 is relevant
  std::string query, doc;
  double relevance;
};

struct QueryScores {
  std::string query;
  double recall = 0.0, mrr = 0.0, ndcg = 0.0;
};

// One entry per query that has at least one relevant judgement, in query order (a query
// missing from the run scores 0). The run's documents are taken by increasing rank (ties by
// document id), the first k of them; a document listed twice for one query counts at its best
// rank. Throws Error(kInvalidParameter) when k < 1 or a (query, doc) pair is judged twice.
std::vector<QueryScores> retrieval_scores(std::vector<RunRow> run, std::vector<Judgement> qrels,
                                          std::size_t k);

// The mean of each metric over the queries (zeros for none).
QueryScores mean_scores(const std::vector<QueryScores>& per_query);

}  // namespace embedding::analysis
