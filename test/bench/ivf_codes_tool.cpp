// ivf_codes_tool: what a RaBitQ IVF (issue 23's third layout) would read, in process: k-means
// lists, each row coded around its list's centre (1, 2 or 4 bits a coordinate, one code per row on
// dense code pages), a query ranks the centres, estimates every code of the `probes` nearest lists,
// then re-ranks by lower bound (epsilon 1.9) until the next bound cannot beat the 10th exact
// distance. Page model: the probed lists' code pages (8,000 bytes of codes each) and one page a
// re-ranked row (its full vector). Cosine via unit vectors and squared L2.
//   ivf_codes_tool [--data glove100.bin | --npy FILE] [--rows N|all] [--queries 300]
//                  [--lists 1000] [--bits 1,4] [--probes 10,20,40,80]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/ivf/kmeans.h"
#include "core/quant/rabitq.h"
#include "glove_bin.h"

using embedding::quant::CodeFactors;
using embedding::quant::Estimate;
using embedding::quant::PreparedQuery;
using embedding::quant::Quantizer;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

float l2(const float* a, const float* b, std::size_t n) {
  float s = 0.0f;
  for (std::size_t i = 0; i < n; ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const char* cache = std::getenv("EMBEDDING_CACHE");
  std::string data = std::string(cache ? cache : "/var/cache/embedding") + "/glove100.bin";
  std::string npy, rows_arg = "all", queries_arg = "300", lists_arg = "1000", bits_arg = "1,4",
                   probes_arg = "10,20,40,80";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    std::string* to = flag == "--data"      ? &data
                      : flag == "--npy"     ? &npy
                      : flag == "--rows"    ? &rows_arg
                      : flag == "--queries" ? &queries_arg
                      : flag == "--lists"   ? &lists_arg
                      : flag == "--bits"    ? &bits_arg
                      : flag == "--probes"  ? &probes_arg
                                            : nullptr;
    if (to == nullptr) {
      std::fprintf(stderr, "bad argument %s\n", argv[i]);
      return 2;
    }
    *to = argv[i + 1];
  }
  bench::Matrix base, queries;
  bench::split(npy.empty() ? bench::read_matrix(data) : bench::read_npy(npy),
               std::stoul(queries_arg), 42, base, queries);
  const std::size_t rows = std::min(bench::parse_list(rows_arg, base.rows).front(), base.rows);
  const std::size_t dims = base.dims, lists = std::stoul(lists_arg);
  const auto truth = bench::ground_truth(base, rows, queries, 10);
  auto start = std::chrono::steady_clock::now();
  embedding::ivf::KMeansOptions options;
  options.threads = 2;
  options.spherical = true;
  options.max_iterations = 20;
  const auto km = embedding::ivf::kmeans(base.values.data(), rows, dims, lists, options);
  std::vector<std::vector<std::size_t>> members(lists);
  for (std::size_t r = 0; r < rows; ++r)
    members[embedding::ivf::nearest_center(km.centers.data(), lists, dims, base.row(r), true)]
        .push_back(r);
  std::printf("%zu rows x %zu dims, %zu queries, %zu lists (k-means %.1f s)\n", rows, dims,
              queries.rows, lists, seconds_since(start));
  std::printf(
      "| bits | code bytes/row | probes | recall@10 | codes scanned | code pages | re-ranked "
      "(vector pages) | estimate µs/query |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (std::size_t bits : bench::parse_list(bits_arg, 0)) {
    std::vector<Quantizer> quantizers;
    quantizers.reserve(lists);
    for (std::size_t l = 0; l < lists; ++l)
      quantizers.emplace_back(dims, static_cast<int>(bits), 7, &km.centers[l * dims]);
    const std::size_t code_bytes = quantizers[0].code_bytes();
    std::vector<std::uint8_t> codes(rows * code_bytes);
    std::vector<CodeFactors> factors(rows);
    std::vector<float> scratch(quantizers[0].scratch_floats());
    for (std::size_t l = 0; l < lists; ++l)
      for (std::size_t r : members[l])
        factors[r] = quantizers[l].encode(base.row(r), &codes[r * code_bytes], scratch.data());
    const std::size_t row_bytes = code_bytes + sizeof(CodeFactors) + 6;  // + a vector's TID
    for (std::size_t probes : bench::parse_list(probes_arg, 0)) {
      std::size_t hits = 0, scanned = 0, pages = 0, reranked = 0;
      double estimate_seconds = 0.0;
      std::vector<std::pair<float, std::size_t>> centres(lists), bounds;
      PreparedQuery prepared;
      for (std::size_t q = 0; q < queries.rows; ++q) {
        const float* query = queries.row(q);
        for (std::size_t l = 0; l < lists; ++l)
          centres[l] = {l2(query, &km.centers[l * dims], dims), l};
        std::partial_sort(centres.begin(), centres.begin() + probes, centres.end());
        bounds.clear();
        const auto t0 = std::chrono::steady_clock::now();
        for (std::size_t p = 0; p < probes; ++p) {
          const std::size_t l = centres[p].second;
          quantizers[l].prepare(query, true, prepared);
          for (std::size_t r : members[l]) {
            const Estimate e =
                quantizers[l].l2_squared(prepared, &codes[r * code_bytes], factors[r], 1.9f);
            bounds.push_back({e.distance - e.bound, r});
          }
          scanned += members[l].size();
          pages += (members[l].size() * row_bytes + 7999) / 8000;
        }
        estimate_seconds += seconds_since(t0);
        std::sort(bounds.begin(), bounds.end());
        std::vector<std::pair<float, std::size_t>> best;  // exact, max-heap of 10
        for (const auto& [bound, r] : bounds) {
          if (best.size() == 10 && bound >= best.front().first) break;
          ++reranked;
          const float d = l2(query, base.row(r), dims);
          if (best.size() < 10) {
            best.push_back({d, r});
            std::push_heap(best.begin(), best.end());
          } else if (d < best.front().first) {
            std::pop_heap(best.begin(), best.end());
            best.back() = {d, r};
            std::push_heap(best.begin(), best.end());
          }
        }
        for (const auto& b : best)
          hits += std::count(truth[q].begin(), truth[q].end(),
                             static_cast<embedding::hnsw::NodeId>(b.second));
      }
      const double n = static_cast<double>(queries.rows);
      std::printf("| %zu | %zu | %zu | %.3f | %.0f | %.0f | %.0f | %.0f |\n", bits, row_bytes,
                  probes, hits / (10.0 * n), scanned / n, pages / n, reranked / n,
                  1e6 * estimate_seconds / n);
      std::fflush(stdout);
    }
  }
}
