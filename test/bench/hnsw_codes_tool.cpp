// What compact codes would buy the hnsw scan, measured in process on our core's graph before any
// page format is written: the graph is searched with distances estimated from core/quant codes
// (1, 2, 4 or 8 bits a rotated, centred coordinate), then candidates are re-ranked with exact
// distances: the best R by estimate, or adaptively (by lower bound, until the next bound cannot
// beat the k-th exact distance). Reported per ef_search: recall@10 after re-ranking R = 20, 40 and
// all ef candidates, the adaptive recall and re-rank count, expansions per query, and a page-read
// model of the index: the exact search reads a neighbour list per expansion and an element per
// distance; with codes stored with each neighbour list it reads a list per expansion and an element
// per re-ranked candidate.
//
// Data as hnsw_vs_hnswlib_tool (test/bench/hnsw_vs_hnswlib.sh converts GloVe 100-d); --npy reads a
// float32 C-order .npy instead (e.g. hnsw_sql_bench.py's projected glove1536 cache), split the
// same way.
// Usage: hnsw_codes_tool [--data FILE | --npy FILE] [--rows N|all] [--queries 1000]
//          [--ef 40,80,160,320] [--threads 2] [--seed 42] [--per-page 28]
// --per-page: nodes a vertex page holds in the split-layout page model (codes and lists; 28 for
// 4-bit codes at 100-d, about 19 for 1-bit codes at 1,536-d).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/hnsw/memory_graph.h"
#include "core/hnsw/search.h"
#include "core/hnsw/visited.h"
#include "core/quant/rabitq.h"
#include "glove_bin.h"

namespace {

using bench::Matrix;
using embedding::hnsw::Candidate;
using embedding::hnsw::MemoryGraph;
using embedding::hnsw::NodeId;
using embedding::quant::CodeFactors;
using embedding::quant::Estimate;
using embedding::quant::PreparedQuery;
using embedding::quant::Quantizer;
constexpr std::size_t kK = 10;

// The storage interface over the built graph, counting the lists read.
struct CountingGraph {
  const MemoryGraph& graph;
  std::size_t lists = 0;
  std::optional<embedding::hnsw::EntryPoint> entry_point() const { return graph.entry_point(); }
  std::size_t neighbor_capacity(int level) const { return graph.neighbor_capacity(level); }
  std::size_t neighbors(NodeId node, int level, NodeId* out) {
    ++lists;
    return graph.neighbors(node, level, out);
  }
};

struct ExactDistance {
  const MemoryGraph& graph;
  const float* query;
  std::size_t evaluated = 0;
  float operator()(NodeId node) {
    ++evaluated;
    return 1.0f - embedding::kernels::active().dot(
                      query, static_cast<const float*>(graph.vector(node)), graph.dimensions());
  }
};

// Codes of every row (core/quant), and the estimated cosine distance to a prepared query.
struct Codes {
  const Quantizer& quantizer;
  std::vector<std::uint8_t> bytes;
  std::vector<CodeFactors> factors;
  const std::uint8_t* code(NodeId node) const {
    return bytes.data() + node * quantizer.code_bytes();
  }
};

// A split layout's vertex pages: `per_page` nodes' codes (and lists) a page, nodes placed in the
// order of a permutation. Counts the code reads an expansion makes: one buffer access per
// evaluated neighbour, or one per distinct page among them when reads are grouped by page.
struct PageModel {
  std::vector<std::uint32_t> page;  // node -> page
  std::size_t accesses = 0, distinct = 0;
  void place(const std::vector<NodeId>& order, std::size_t per_page) {
    page.resize(order.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      page[order[i]] = static_cast<std::uint32_t>(i / per_page);
  }
  void count(const NodeId* ids, std::size_t n) {
    std::uint32_t pages[256];
    n = std::min<std::size_t>(n, 256);
    for (std::size_t i = 0; i < n; ++i) pages[i] = page[ids[i]];
    std::sort(pages, pages + n);
    accesses += n;
    distinct += static_cast<std::size_t>(std::unique(pages, pages + n) - pages);
  }
};

struct EstimatedDistance {
  const Codes& codes;
  const PreparedQuery& query;
  std::vector<PageModel>* layouts = nullptr;
  float operator()(NodeId node) const {
    return 1.0f +
           codes.quantizer.negative_dot(query, codes.code(node), codes.factors[node]).distance;
  }
  void distances(const NodeId* ids, std::size_t n, float* out) {
    if (layouts)
      for (PageModel& m : *layouts) m.count(ids, n);
    for (std::size_t i = 0; i < n; ++i)
      out[i] =
          1.0f +
          codes.quantizer.negative_dot(query, codes.code(ids[i]), codes.factors[ids[i]]).distance;
  }
};

// Node orders for PageModel: as inserted; breadth-first over layer 0 from the entry point (nodes
// it does not reach last, in order); by a 24-bit random-hyperplane hash of the vector (nearby
// vectors share prefixes).
std::vector<NodeId> insertion_order(std::size_t rows) {
  std::vector<NodeId> order(rows);
  for (std::size_t i = 0; i < rows; ++i) order[i] = i;
  return order;
}

std::vector<NodeId> breadth_first_order(const MemoryGraph& graph, std::size_t rows) {
  std::vector<NodeId> order;
  std::vector<char> seen(rows, 0);
  std::vector<NodeId> ids(graph.neighbor_capacity(0));
  const auto visit = [&](NodeId start) {
    std::size_t head = order.size();
    seen[start] = 1;
    order.push_back(start);
    while (head < order.size()) {
      const std::size_t n = graph.neighbors(order[head++], 0, ids.data());
      for (std::size_t i = 0; i < n; ++i)
        if (!seen[ids[i]]) seen[ids[i]] = 1, order.push_back(ids[i]);
    }
  };
  visit(graph.entry_point()->node);
  for (std::size_t i = 0; i < rows; ++i)
    if (!seen[i]) visit(i);
  return order;
}

std::vector<NodeId> hash_order(const MemoryGraph& graph, std::size_t rows, std::uint64_t seed) {
  const embedding::quant::Rotation rotation(graph.dimensions(), seed);
  std::vector<float> rotated(rotation.padded());
  std::vector<std::pair<std::uint32_t, NodeId>> keyed(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    rotation.apply(static_cast<const float*>(graph.vector(i)), rotated.data());
    std::uint32_t key = 0;
    for (std::size_t b = 0; b < 24 && b < rotated.size(); ++b) key = key << 1 | (rotated[b] > 0.0f);
    keyed[i] = {key, i};
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<NodeId> order(rows);
  for (std::size_t i = 0; i < rows; ++i) order[i] = keyed[i].second;
  return order;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const char* cache = std::getenv("EMBEDDING_CACHE");
  std::string data = std::string(cache ? cache : "/var/cache/embedding") + "/glove100.bin";
  std::string npy, rows_arg = "all", ef_arg = "40,80,160,320", queries_arg = "1000",
                   threads_arg = "2", seed_arg = "42", per_page_arg = "28";
  const std::pair<const char*, std::string*> flags[] = {
      {"--data", &data},     {"--npy", &npy},
      {"--rows", &rows_arg}, {"--queries", &queries_arg},
      {"--ef", &ef_arg},     {"--threads", &threads_arg},
      {"--seed", &seed_arg}, {"--per-page", &per_page_arg}};
  for (int i = 1; i < argc; ++i) {
    const auto option = std::find_if(std::begin(flags), std::end(flags), [&](const auto& o) {
      return argv[i] == std::string(o.first);
    });
    if (option == std::end(flags) || i + 1 == argc) {
      std::fprintf(stderr, "bad argument %s (see the header of hnsw_codes_tool.cpp)\n", argv[i]);
      return 2;
    }
    *option->second = argv[++i];
  }
  const std::size_t query_count = std::stoul(queries_arg);
  const int threads = std::stoi(threads_arg);
  const std::uint64_t seed = std::stoull(seed_arg);
  const std::size_t per_page = std::stoul(per_page_arg);
  Matrix base, queries;
  bench::split(npy.empty() ? bench::read_matrix(data) : bench::read_npy(npy), query_count, seed,
               base, queries);
  const std::size_t rows = std::min(bench::parse_list(rows_arg, base.rows).front(), base.rows);
  auto start = std::chrono::steady_clock::now();
  const auto truth = bench::ground_truth(base, rows, queries, kK);
  std::printf("%s: %zu base rows x %zu dims, %zu queries (seed %llu); ground truth %.1f s\n",
              npy.empty() ? data.c_str() : npy.c_str(), rows, base.dims, queries.rows,
              static_cast<unsigned long long>(seed), seconds_since(start));

  start = std::chrono::steady_clock::now();
  MemoryGraph graph(base.dims, embedding::Metric::kCosine, {16, 64}, seed, rows);
  for (std::size_t i = 0; i < rows; ++i) graph.add(base.row(i));
  embedding::hnsw::BuildOptions options;
  options.threads = threads;
  graph.build(options);
  std::printf("graph: m 16, ef_construction 64, built in %.1f s\n", seconds_since(start));

  const std::vector<std::size_t> efs = bench::parse_list(ef_arg, 0);
  std::printf(
      "| codes | bytes/row | ef_search | recall@10, re-rank 20 / 40 / ef | adaptive (re-ranked) | "
      "lists/query | page reads/query (model) |\n|---|---:|---:|---|---|---:|---:|\n");
  embedding::hnsw::GenerationVisitedSet visited(rows);
  embedding::hnsw::SearchScratch scratch;
  std::vector<Candidate> found;
  const auto hits = [&](std::size_t q, const std::vector<Candidate>& best) {
    std::size_t h = 0;
    for (std::size_t i = 0; i < std::min(kK, best.size()); ++i)
      h += std::count(truth[q].begin(), truth[q].end(), best[i].node);
    return h;
  };
  // Exact search: a list per expansion and an element per distance.
  for (std::size_t ef : efs) {
    std::size_t h = 0, lists = 0, evaluated = 0;
    for (std::size_t q = 0; q < queries.rows; ++q) {
      CountingGraph counting{graph};
      ExactDistance dist{graph, queries.row(q)};
      embedding::hnsw::knn_search(counting, dist, visited, kK, ef, scratch, found);
      h += hits(q, found);
      lists += counting.lists;
      evaluated += dist.evaluated;
    }
    const double n = static_cast<double>(queries.rows);
    std::printf("| exact (float) | %zu | %zu | %.4f | | %.0f | %.0f |\n", 4 * base.dims, ef,
                static_cast<double>(h) / (n * kK), lists / n, (lists + evaluated) / n);
  }
  // The codes' centre: the mean of the (normalised) rows.
  std::vector<float> mean(base.dims, 0.0f);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t d = 0; d < base.dims; ++d)
      mean[d] += base.row(i)[d] / static_cast<float>(rows);
  // Vertex pages (PageModel) under three node orders, counted at the first ef_search.
  std::vector<PageModel> layouts(3);
  layouts[0].place(insertion_order(rows), per_page);
  layouts[1].place(breadth_first_order(graph, rows), per_page);
  layouts[2].place(hash_order(graph, rows, seed + 2), per_page);
  for (int bits : {1, 2, 4, 8}) {
    for (PageModel& m : layouts) m.accesses = m.distinct = 0;
    start = std::chrono::steady_clock::now();
    const Quantizer quantizer(base.dims, bits, seed + 1, mean.data());
    Codes codes{quantizer, std::vector<std::uint8_t>(rows * quantizer.code_bytes()),
                std::vector<CodeFactors>(rows)};
    std::vector<float> encode_scratch(quantizer.scratch_floats());
    for (std::size_t i = 0; i < rows; ++i)
      codes.factors[i] =
          quantizer.encode(static_cast<const float*>(graph.vector(i)),
                           codes.bytes.data() + i * quantizer.code_bytes(), encode_scratch.data());
    const double encode_seconds = seconds_since(start);
    const std::size_t code_bytes = quantizer.code_bytes() + sizeof(CodeFactors);
    PreparedQuery prepared;
    for (std::size_t ef : efs) {
      const std::size_t reranks[3] = {20, 40, ef};
      std::size_t h[4] = {0, 0, 0, 0}, lists = 0, adaptive_reranked = 0;
      std::vector<Candidate> reranked, bounded;
      for (std::size_t q = 0; q < queries.rows; ++q) {
        quantizer.prepare(queries.row(q), false, prepared);
        CountingGraph counting{graph};
        EstimatedDistance estimate{codes, prepared, ef == efs.front() ? &layouts : nullptr};
        embedding::hnsw::knn_search(counting, estimate, visited, ef, ef, scratch, found);
        lists += counting.lists;
        ExactDistance exact{graph, queries.row(q)};
        for (int j = 0; j < 3; ++j) {
          reranked.clear();
          for (std::size_t i = 0; i < std::min(reranks[j], found.size()); ++i)
            reranked.push_back({exact(found[i].node), found[i].node});
          std::sort(reranked.begin(), reranked.end(), embedding::hnsw::closer);
          h[j] += hits(q, reranked);
        }
        // Adaptive: candidates by lower bound; re-rank until the next lower bound cannot beat
        // the k-th exact distance so far.
        bounded.clear();
        for (const Candidate& c : found) {
          const Estimate e =
              quantizer.negative_dot(prepared, codes.code(c.node), codes.factors[c.node]);
          bounded.push_back({1.0f + e.distance - e.bound, c.node});
        }
        std::sort(bounded.begin(), bounded.end(), embedding::hnsw::closer);
        reranked.clear();
        for (const Candidate& c : bounded) {
          if (reranked.size() >= kK) {
            std::nth_element(reranked.begin(), reranked.begin() + (kK - 1), reranked.end(),
                             embedding::hnsw::closer);
            if (c.distance > reranked[kK - 1].distance) break;
          }
          reranked.push_back({exact(c.node), c.node});
        }
        adaptive_reranked += reranked.size();
        std::sort(reranked.begin(), reranked.end(), embedding::hnsw::closer);
        h[3] += hits(q, reranked);
      }
      const double n = static_cast<double>(queries.rows), k = n * kK;
      std::printf("| %d-bit | %zu | %zu | %.4f / %.4f / %.4f | %.4f (%.0f) | %.0f | %.0f + R |\n",
                  bits, code_bytes, ef, h[0] / k, h[1] / k, h[2] / k, h[3] / k,
                  adaptive_reranked / n, lists / n, lists / n);
    }
    const double n = static_cast<double>(queries.rows);
    std::printf(
        "(%d-bit codes of %zu rows encoded in %.1f s. At ef %zu, code reads a query: %.0f; "
        "distinct "
        "vertex pages an expansion, %zu nodes a page, summed: insertion order %.0f, "
        "breadth-first %.0f, hash order %.0f)\n",
        bits, rows, encode_seconds, efs.front(), layouts[0].accesses / n, per_page,
        layouts[0].distinct / n, layouts[1].distinct / n, layouts[2].distinct / n);
  }
  return 0;
}
