// In-process comparison of our HNSW build graph with hnswlib on GloVe 100-d (cosine): build
// time with 1 and 2 threads, recall@10 and single-thread QPS over ef_search, QPS at equal recall.
//
// Data: test/bench/glove_to_fvecs.js writes the flat file (int32 rows, int32 dims, float32s);
// test/bench/hnsw_vs_hnswlib.sh sets everything up and runs this.
// Usage: hnsw_vs_hnswlib_tool [--data FILE] [--rows 100000,all] [--queries 1000] [--threads 1,2]
//          [--ef 10,20,40,80,160,320] [--repeat 3] [--seed 42] [--keep-pruned] [--narrow-layer0]
//          [--narrow-reverse]   (tunings other than the default: see BuildTuning)
//          [--hnswlib-kernel]   (hnswlib with our distance kernel too, to separate kernel and
//          graph)   [--ours-only]   (skip hnswlib: quick comparisons of our tunings)
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/hnsw/memory_graph.h"
#include "core/vector/kernels.h"
#include "core/vector/stored_distance.h"
#include "glove_bin.h"

namespace {

using embedding::hnsw::Candidate;
using embedding::hnsw::MemoryGraph;
using embedding::hnsw::MemorySearchContext;
using embedding::hnsw::NodeId;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kK = 10;
constexpr int kM = 16;
constexpr int kEfConstruction = 64;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

using bench::Matrix;

struct Point {
  std::size_t ef;
  double recall;
  double qps;     // best pass
  double spread;  // (worst - best) / worst time over the passes: the machine's noise
};

// CPU time of this thread: time the scheduler gave to other processes does not count.
double thread_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// hnswlib with our kernel: DISTFUNC is a plain function, so the table comes from a pointer.
const embedding::kernels::KernelTable* g_kernels = nullptr;
float our_inner_product_distance(const void* a, const void* b, const void* dims) {
  return 1.0f - g_kernels->dot(static_cast<const float*>(a), static_cast<const float*>(b),
                               *static_cast<const std::size_t*>(dims));
}
class OurInnerProductSpace : public hnswlib::SpaceInterface<float> {
 public:
  explicit OurInnerProductSpace(std::size_t dims) : dims_(dims) {}
  std::size_t get_data_size() override { return dims_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return our_inner_product_distance; }
  void* get_dist_func_param() override { return &dims_; }

 private:
  std::size_t dims_;
};

// Query passes: recall@10 and queries per CPU-second, best and spread of `repeat` passes.
template <class Search>
Point measure(std::size_t ef, int repeat, const Matrix& queries,
              const std::vector<std::vector<NodeId>>& truth, Search&& search) {
  double best = 1e30, worst = 0.0;
  std::size_t hits = 0;
  std::vector<NodeId> found;
  for (int r = 0; r < repeat; ++r) {
    hits = 0;
    // The recall count inside the timed loop is ~100 compares per query, under 1%.
    const double start = thread_seconds();
    for (std::size_t q = 0; q < queries.rows; ++q) {
      search(queries.row(q), ef, found);
      for (NodeId id : found) hits += std::count(truth[q].begin(), truth[q].end(), id);
    }
    const double searching = thread_seconds() - start;
    best = std::min(best, searching);
    worst = std::max(worst, searching);
  }
  return {ef, static_cast<double>(hits) / static_cast<double>(queries.rows * kK),
          static_cast<double>(queries.rows) / best, (worst - best) / worst};
}

// hnswlib's QPS at `recall`, interpolated (log QPS, linear recall) along its curve.
double qps_at_recall(const std::vector<Point>& curve, double recall) {
  if (recall <= curve.front().recall) return curve.front().qps;
  for (std::size_t i = 1; i < curve.size(); ++i) {
    if (recall <= curve[i].recall) {
      const Point& a = curve[i - 1];
      const Point& b = curve[i];
      const double t = b.recall > a.recall ? (recall - a.recall) / (b.recall - a.recall) : 1.0;
      return std::exp(std::log(a.qps) + t * (std::log(b.qps) - std::log(a.qps)));
    }
  }
  return std::nan("");  // beyond hnswlib's best recall
}

void print_curve(const char* name, const std::vector<Point>& curve) {
  for (const Point& p : curve)
    std::printf("  %-22s ef %4zu  recall@10 %.4f  QPS %7.0f  (passes spread %4.1f%%)\n", name, p.ef,
                p.recall, p.qps, 100.0 * p.spread);
}

}  // namespace

int main(int argc, char** argv) {
  const char* cache = std::getenv("EMBEDDING_CACHE");
  std::string data = std::string(cache ? cache : "/var/cache/embedding") + "/glove100.bin";
  std::string rows_arg = "100000", threads_arg = "1,2", ef_arg = "10,20,40,80,160,320";
  std::size_t query_count = 1000;
  int repeat = 3;
  std::uint64_t seed = 42;
  bool hnswlib_kernel = false;
  bool ours_only = false;
  embedding::hnsw::BuildTuning tuning;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&] { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--data")
      data = value();
    else if (arg == "--rows")
      rows_arg = value();
    else if (arg == "--queries")
      query_count = std::stoul(value());
    else if (arg == "--threads")
      threads_arg = value();
    else if (arg == "--ef")
      ef_arg = value();
    else if (arg == "--repeat")
      repeat = std::stoi(value());
    else if (arg == "--seed")
      seed = std::stoull(value());
    else if (arg == "--keep-pruned")
      tuning.keep_pruned = true;
    else if (arg == "--narrow-layer0")
      tuning.wide_layer0 = false;
    else if (arg == "--narrow-reverse")
      tuning.narrow_reverse = true;
    else if (arg == "--hnswlib-kernel")
      hnswlib_kernel = true;
    else if (arg == "--ours-only")
      ours_only = true;
    else {
      std::fprintf(stderr, "unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  g_kernels = &embedding::kernels::active();

  // Normalise every row, then draw the queries and keep the rest, in order, as the base.
  Matrix base, queries;
  bench::split(bench::read_matrix(data), query_count, seed, base, queries);

  const std::vector<std::size_t> efs = bench::parse_list(ef_arg.c_str(), 0);
  std::printf("data %s: %zu base rows x %zu dims, %zu queries (seed %llu), kernels %s\n",
              data.c_str(), base.rows, base.dims, queries.rows,
              static_cast<unsigned long long>(seed), g_kernels->name);
  std::printf(
      "M %d, ef_construction %d, keep_pruned %d, wide_layer0 %d, narrow_reverse %d; QPS = queries "
      "per CPU-second "
      "of one thread, best of %d passes; build = wall seconds\n",
      kM, kEfConstruction, tuning.keep_pruned, tuning.wide_layer0, tuning.narrow_reverse, repeat);

  for (std::size_t rows : bench::parse_list(rows_arg.c_str(), base.rows)) {
    rows = std::min(rows, base.rows);
    Clock::time_point start = Clock::now();
    const auto truth = bench::ground_truth(base, rows, queries, kK);
    std::printf("\n== %zu rows (ground truth %.1f s)\n", rows, seconds_since(start));

    std::vector<Point> ours_curve, hnswlib_curve, hnswlib_kernel_curve;
    for (std::size_t threads : bench::parse_list(threads_arg.c_str(), 1)) {
      // Ours.
      start = Clock::now();
      MemoryGraph graph(base.dims, embedding::hnsw::Metric::kCosine, {kM, kEfConstruction}, seed,
                        rows, tuning);
      for (std::size_t i = 0; i < rows; ++i) graph.add(base.row(i));
      embedding::hnsw::BuildOptions options;
      options.threads = static_cast<int>(threads);
      graph.build(options);
      const double ours_build = seconds_since(start);

      // hnswlib, threads calling addPoint as its examples do.
      const auto build_hnswlib = [&](hnswlib::SpaceInterface<float>& space) {
        auto index = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, rows, kM,
                                                                       kEfConstruction, seed);
        std::atomic<std::size_t> next{0};
        const auto work = [&] {
          for (std::size_t i; (i = next.fetch_add(1)) < rows;) index->addPoint(base.row(i), i);
        };
        std::vector<std::thread> workers;
        for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(work);
        work();
        for (auto& w : workers) w.join();
        return index;
      };
      hnswlib::InnerProductSpace space(base.dims);
      start = Clock::now();
      std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;
      if (!ours_only) hnsw = build_hnswlib(space);
      const double hnswlib_build = seconds_since(start);
      OurInnerProductSpace our_space(base.dims);
      std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw_kernel;
      double hnswlib_kernel_build = 0.0;
      if (hnswlib_kernel) {
        start = Clock::now();
        hnsw_kernel = build_hnswlib(our_space);
        hnswlib_kernel_build = seconds_since(start);
      }
      // Layer-0 nodes no list points to (only the entry point may be one), and nodes a walk
      // from the entry point over layer 0 never reaches: searches cannot return either.
      std::size_t orphans = 0, unreached = 0;
      {
        std::vector<std::uint8_t> seen(graph.size(), 0);
        for (NodeId n = 0; n < graph.size(); ++n)
          for (std::uint32_t id : graph.neighbor_list(n, 0)) seen[id] = 1;
        for (NodeId n = 0; n < graph.size(); ++n)
          orphans += !seen[n] && !graph.is_duplicate(n) && n != graph.entry_point()->node;
        std::fill(seen.begin(), seen.end(), 0);
        std::vector<NodeId> stack{graph.entry_point()->node};
        seen[stack[0]] = 1;
        while (!stack.empty()) {
          const NodeId n = stack.back();
          stack.pop_back();
          for (std::uint32_t id : graph.neighbor_list(n, 0))
            if (!seen[id]) seen[id] = 1, stack.push_back(id);
        }
        for (NodeId n = 0; n < graph.size(); ++n) unreached += !seen[n] && !graph.is_duplicate(n);
      }
      std::printf("layer 0: %zu nodes without in-links, %zu unreachable from the entry point\n",
                  orphans, unreached);
      std::printf("build, %zu thread(s): ours %.2f s (%.1f MB), hnswlib %.2f s", threads,
                  ours_build, graph.bytes_used() / 1e6, hnswlib_build);
      if (hnswlib_kernel) std::printf(", hnswlib with our kernel %.2f s", hnswlib_kernel_build);
      std::printf("\n");

      // Searches, single thread, interleaved per ef so that machine noise hits both alike.
      MemorySearchContext context;
      std::vector<Candidate> results;
      const auto hnswlib_search = [&](hnswlib::HierarchicalNSW<float>& index) {
        return [&index](const float* q, std::size_t ef, std::vector<NodeId>& found) {
          index.setEf(ef);
          auto top = index.searchKnn(q, kK);
          found.clear();
          for (; !top.empty(); top.pop()) found.push_back(top.top().second);
        };
      };
      std::vector<Point> ours, theirs, theirs_kernel;
      // hnswlib also runs at twice the largest ef, so that its curve reaches our best recall.
      std::vector<std::size_t> their_efs = efs;
      their_efs.push_back(2 * efs.back());
      for (std::size_t ef : their_efs) {
        if (ef != their_efs.back()) {
          ours.push_back(measure(ef, repeat, queries, truth,
                                 [&](const float* q, std::size_t e, std::vector<NodeId>& found) {
                                   graph.search(q, kK, e, context, results);
                                   found.clear();
                                   for (const Candidate& c : results) found.push_back(c.node);
                                 }));
        }
        if (!ours_only)
          theirs.push_back(measure(ef, repeat, queries, truth, hnswlib_search(*hnsw)));
        if (hnswlib_kernel)
          theirs_kernel.push_back(
              measure(ef, repeat, queries, truth, hnswlib_search(*hnsw_kernel)));
      }
      print_curve("ours", ours);
      if (ours_only) continue;
      print_curve("hnswlib", theirs);
      if (hnswlib_kernel) print_curve("hnswlib (our kernel)", theirs_kernel);
      const auto ratio = [](const Point& p, const std::vector<Point>& curve) {
        const double their = qps_at_recall(curve, p.recall);
        if (std::isnan(their)) return std::string("n/a (above its best recall)");
        char text[32];
        std::snprintf(text, sizeof text, "%.2f", p.qps / their);
        return std::string(text);
      };
      for (const Point& p : ours) {
        std::printf("  ef %4zu: at recall %.4f ours/hnswlib QPS = %s", p.ef, p.recall,
                    ratio(p, theirs).c_str());
        if (hnswlib_kernel)
          std::printf(", ours/hnswlib-our-kernel = %s", ratio(p, theirs_kernel).c_str());
        std::printf("\n");
      }
    }
  }
  return 0;
}
