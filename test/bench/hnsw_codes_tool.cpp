// What compact codes would buy the hnsw scan (issue 13's first direction), measured in process on
// our core's graph before any page format is written: the graph is searched with distances
// estimated from codes of randomly rotated rows (1-bit signs with a per-row correction, as in
// RaBitQ, or 4- or 8-bit scalar codes of the rotated row), then the best R candidates by estimate
// are re-ranked with exact distances. Reported per ef_search: recall@10 after re-ranking R = 20, 40
// and all ef candidates, expansions per query, and a page-read model of the index: the exact
// search reads a neighbour list per expansion and an element per distance; with codes stored
// with each neighbour list it reads a list per expansion and an element per re-ranked candidate.
//
// Data as hnsw_vs_hnswlib_tool (test/bench/hnsw_vs_hnswlib.sh converts GloVe 100-d); --npy reads a
// float32 C-order .npy instead (e.g. hnsw_sql_bench.py's projected glove1536 cache), split the
// same way.
// Usage: hnsw_codes_tool [--data FILE | --npy FILE] [--rows N|all] [--queries 1000]
//          [--ef 40,80,160,320] [--threads 2] [--seed 42]
#include <Eigen/Dense>
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
#include "glove_bin.h"

namespace {

using bench::Matrix;
using embedding::hnsw::Candidate;
using embedding::hnsw::MemoryGraph;
using embedding::hnsw::NodeId;
constexpr std::size_t kK = 10;

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A random orthogonal matrix (QR of a Gaussian one), so that every rotated coordinate carries a
// similar share of each row: sign codes of raw GloVe rows would waste bits on skewed axes.
RowMatrix random_rotation(std::size_t dims, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> gauss;
  Eigen::MatrixXf g(dims, dims);
  for (Eigen::Index i = 0; i < g.size(); ++i) g.data()[i] = gauss(rng);
  Eigen::HouseholderQR<Eigen::MatrixXf> qr(g);
  return RowMatrix(qr.householderQ());
}

// Rotated rows: out = rows x P^T, a block at a time.
RowMatrix rotate(const Matrix& rows, std::size_t count, const RowMatrix& p) {
  RowMatrix out(count, rows.dims);
  const Eigen::Map<const RowMatrix> in(rows.values.data(), static_cast<Eigen::Index>(count),
                                       static_cast<Eigen::Index>(rows.dims));
  constexpr Eigen::Index kBlock = 8192;
  for (Eigen::Index first = 0; first < static_cast<Eigen::Index>(count); first += kBlock) {
    const Eigen::Index n = std::min<Eigen::Index>(kBlock, static_cast<Eigen::Index>(count) - first);
    out.middleRows(first, n).noalias() = in.middleRows(first, n) * p.transpose();
  }
  return out;
}

// Codes of the rotated base rows, and the estimated dot product of a rotated query with row i.
struct Codes {
  int bits = 1;  // 1: signs and sum|x|; 4 or 8: per-row uniform scalar codes between min and max
  std::size_t dims = 0;
  std::vector<std::uint8_t> codes;  // bits == 1: +1/-1 as 1/0; else one level per byte
  std::vector<float> a, b;          // bits == 1: a = 1 / sum|x|; else x ~ a + b * level

  void build(const RowMatrix& rotated, int code_bits) {
    bits = code_bits;
    dims = static_cast<std::size_t>(rotated.cols());
    const std::size_t rows = static_cast<std::size_t>(rotated.rows());
    codes.assign(rows * dims, 0);
    a.assign(rows, 0.0f);
    b.assign(rows, 0.0f);
    const int levels = (1 << bits) - 1;
    for (std::size_t r = 0; r < rows; ++r) {
      const float* x = rotated.data() + r * dims;
      std::uint8_t* c = codes.data() + r * dims;
      if (bits == 1) {
        double l1 = 0.0;
        for (std::size_t i = 0; i < dims; ++i) {
          c[i] = x[i] > 0.0f;
          l1 += std::fabs(x[i]);
        }
        a[r] = l1 > 0.0 ? static_cast<float>(1.0 / l1) : 0.0f;
        continue;
      }
      const auto [lo, hi] = std::minmax_element(x, x + dims);
      const float step = (*hi - *lo) / static_cast<float>(levels);
      a[r] = *lo;
      b[r] = step;
      for (std::size_t i = 0; i < dims; ++i) {
        const float level = step > 0.0f ? std::round((x[i] - *lo) / step) : 0.0f;
        c[i] = static_cast<std::uint8_t>(std::clamp(level, 0.0f, static_cast<float>(levels)));
      }
    }
  }
  // <q, x_r> estimated; q is the rotated query, q_sum its coordinates' sum.
  float dot(const float* q, float q_sum, std::size_t r) const {
    const std::uint8_t* c = codes.data() + r * dims;
    if (bits == 1) {
      float positive = 0.0f;  // sum of q_i where x_i > 0: <q, signs> = 2 * positive - q_sum
      for (std::size_t i = 0; i < dims; ++i) positive += c[i] ? q[i] : 0.0f;
      return (2.0f * positive - q_sum) * a[r];
    }
    float levels = 0.0f;
    for (std::size_t i = 0; i < dims; ++i) levels += q[i] * static_cast<float>(c[i]);
    return a[r] * q_sum + b[r] * levels;
  }
};

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

struct EstimatedDistance {
  const Codes& codes;
  const float* query;  // rotated
  float query_sum;
  float operator()(NodeId node) const { return 1.0f - codes.dot(query, query_sum, node); }
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const char* cache = std::getenv("EMBEDDING_CACHE");
  std::string data = std::string(cache ? cache : "/var/cache/embedding") + "/glove100.bin";
  std::string npy, rows_arg = "all", ef_arg = "40,80,160,320", queries_arg = "1000",
                   threads_arg = "2", seed_arg = "42";
  const std::pair<const char*, std::string*> flags[] = {
      {"--data", &data},           {"--npy", &npy},   {"--rows", &rows_arg},
      {"--queries", &queries_arg}, {"--ef", &ef_arg}, {"--threads", &threads_arg},
      {"--seed", &seed_arg}};
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

  start = std::chrono::steady_clock::now();
  const RowMatrix p = random_rotation(base.dims, seed + 1);
  const RowMatrix rotated_base = rotate(base, rows, p);
  const RowMatrix rotated_queries = rotate(queries, queries.rows, p);
  std::printf("rotation of the rows: %.1f s\n\n", seconds_since(start));

  const std::vector<std::size_t> efs = bench::parse_list(ef_arg, 0);
  std::printf(
      "| codes | bytes/row | ef_search | recall@10, re-rank 20 / 40 / ef | lists/query | "
      "page reads/query (model) |\n|---|---:|---:|---|---:|---:|\n");
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
    std::printf("| exact (float) | %zu | %zu | %.4f | %.0f | %.0f |\n", 4 * base.dims, ef,
                static_cast<double>(h) / (n * kK), lists / n, (lists + evaluated) / n);
  }
  for (int bits : {1, 4, 8}) {
    Codes codes;
    codes.build(rotated_base, bits);
    const std::size_t code_bytes =
        (base.dims * static_cast<std::size_t>(bits) + 7) / 8 + (bits == 1 ? 4 : 8);
    for (std::size_t ef : efs) {
      const std::size_t reranks[3] = {20, 40, ef};
      std::size_t h[3] = {0, 0, 0}, lists = 0;
      std::vector<Candidate> reranked;
      for (std::size_t q = 0; q < queries.rows; ++q) {
        const float* rq = rotated_queries.data() + q * base.dims;
        float q_sum = 0.0f;
        for (std::size_t i = 0; i < base.dims; ++i) q_sum += rq[i];
        CountingGraph counting{graph};
        EstimatedDistance estimate{codes, rq, q_sum};
        embedding::hnsw::knn_search(counting, estimate, visited, ef, ef, scratch, found);
        lists += counting.lists;
        for (int j = 0; j < 3; ++j) {
          reranked.clear();
          ExactDistance exact{graph, queries.row(q)};
          for (std::size_t i = 0; i < std::min(reranks[j], found.size()); ++i)
            reranked.push_back({exact(found[i].node), found[i].node});
          std::sort(reranked.begin(), reranked.end(),
                    [](const Candidate& x, const Candidate& y) { return x.distance < y.distance; });
          h[j] += hits(q, reranked);
        }
      }
      const double n = static_cast<double>(queries.rows), k = n * kK;
      std::printf("| %d-bit | %zu | %zu | %.4f / %.4f / %.4f | %.0f | %.0f + R |\n", bits,
                  code_bytes, ef, h[0] / k, h[1] / k, h[2] / k, lists / n, lists / n);
    }
  }
  return 0;
}
