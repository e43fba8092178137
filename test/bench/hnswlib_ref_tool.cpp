// hnswlib (Debian's libhnswlib-dev) on the rows and queries of the SQL benchmark, in process: the
// same-run reference column of test/bench/hnsw_sql_bench.py, which writes the files, runs this and
// reads its output. Cosine as hnswlib does it: InnerProductSpace on rows normalised here.
//
// Files: int32 rows, int32 dims, then rows x dims float32 (the format of glove_to_fvecs.js). The
// base file is mapped, not read: each row is normalised into a buffer that addPoint copies, so the
// memory is hnswlib's index alone (2 GB of 1,536-d rows are not held twice). Usage:
// hnswlib_ref_tool --base FILE --queries FILE [--m 16] [--ef-construction 64] [--seed 42]
//          [--threads 2] [--ef 10,20,40,80,160,320] [--rounds 1] [--noise-ef 40] [--repeats 3]
// Build with --threads threads calling addPoint; the searches on one thread, ef by ef: an untimed
// pass, then --repeats timed passes at --noise-ef and --rounds elsewhere (as the SQL sweep).
// Output, one JSON object a line: the build, then one line per ef with the passes' QPS (wall),
// CPU µs/query of this thread, p50 and p99 latency in ms, distance computations per query, and the
// ids found by the last pass (row positions in the base file, best first).
#include <fcntl.h>
#include <hnswlib/hnswlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/vector/normalize.h"
#include "core/vector/stored_distance.h"
#include "glove_bin.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kK = 10;

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "hnswlib_ref_tool: %s\n", message.c_str());
  std::exit(1);
}

// A read-only mapping of a row file: the header's counts and a pointer to the first float.
class RowFile {
 public:
  explicit RowFile(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY);
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) fail("cannot open " + path);
    bytes_ = static_cast<std::size_t>(st.st_size);
    void* map = bytes_ >= 8 ? mmap(nullptr, bytes_, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (map == MAP_FAILED) fail("cannot map " + path);
    map_ = static_cast<const char*>(map);
    std::int32_t header[2];
    std::memcpy(header, map_, sizeof header);
    rows = static_cast<std::size_t>(header[0]);
    dims = static_cast<std::size_t>(header[1]);
    if (header[0] < 0 || header[1] <= 0 || bytes_ != 8 + rows * dims * sizeof(float))
      fail(path + ": size does not match its header");
  }
  ~RowFile() { munmap(const_cast<char*>(map_), bytes_); }
  RowFile(const RowFile&) = delete;
  RowFile& operator=(const RowFile&) = delete;

  // Row i normalised to unit length into out (dims floats).
  void normalised_row(std::size_t i, float* out) const {
    std::memcpy(out, map_ + 8 + i * dims * sizeof(float), dims * sizeof(float));
    embedding::vec::normalize(out, dims, embedding::vec::NoDirection::kKeep);
  }

  std::size_t rows = 0, dims = 0;

 private:
  const char* map_ = nullptr;
  std::size_t bytes_ = 0;
};

double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Which inner product hnswlib's InnerProductSpace picked for these dims, and the instruction set
// its header was compiled for (CMakeLists.txt builds the hnswlib programs with -mavx2 -mfma:
// USE_AVX).
std::string simd_path(hnswlib::InnerProductSpace& space) {
  const hnswlib::DISTFUNC<float> f = space.get_dist_func();
  std::string picked = "InnerProductDistance (scalar)";
#if defined(USE_AVX)
  if (f == hnswlib::InnerProductDistanceSIMD16ExtAVX) picked = "InnerProductDistanceSIMD16ExtAVX";
  if (f == hnswlib::InnerProductDistanceSIMD4ExtAVX) picked = "InnerProductDistanceSIMD4ExtAVX";
#endif
#if defined(USE_SSE)
  if (f == hnswlib::InnerProductDistanceSIMD16ExtSSE) picked = "InnerProductDistanceSIMD16ExtSSE";
  if (f == hnswlib::InnerProductDistanceSIMD4ExtSSE) picked = "InnerProductDistanceSIMD4ExtSSE";
  if (f == hnswlib::InnerProductDistanceSIMD16ExtResiduals)
    picked = "InnerProductDistanceSIMD16ExtResiduals";
  if (f == hnswlib::InnerProductDistanceSIMD4ExtResiduals)
    picked = "InnerProductDistanceSIMD4ExtResiduals";
#endif
#if defined(USE_AVX512)
  const char* compiled = "USE_AVX512";
#elif defined(USE_AVX)
  const char* compiled = "USE_AVX";
#elif defined(USE_SSE)
  const char* compiled = "USE_SSE";
#else
  const char* compiled = "no SIMD";
#endif
  return std::string(compiled) + ", " + picked;
}

// Memory of the index: level 0 (links, vector, label per element) and the upper layers' link lists.
double index_mb(const hnswlib::HierarchicalNSW<float>& index, std::size_t rows) {
  double bytes = static_cast<double>(rows * index.size_data_per_element_);
  for (std::size_t i = 0; i < rows; ++i)
    bytes += static_cast<double>(index.element_levels_[i] * index.size_links_per_element_);
  return bytes / (1 << 20);
}

std::string json_list(const std::vector<double>& values) {
  std::string out = "[";
  char item[32];
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::snprintf(item, sizeof item, "%s%.6g", i ? ", " : "", values[i]);
    out += item;
  }
  return out + "]";
}

// The latency at quantile q of a pass (nearest rank), in ms.
double quantile_ms(std::vector<double> seconds, double q) {
  const std::size_t rank =
      static_cast<std::size_t>(q * static_cast<double>(seconds.size() - 1) + 0.5);
  std::nth_element(seconds.begin(), seconds.begin() + static_cast<std::ptrdiff_t>(rank),
                   seconds.end());
  return 1e3 * seconds[rank];
}

}  // namespace

int main(int argc, char** argv) {
  std::string base_path, queries_path, ef_arg = "10,20,40,80,160,320";
  std::size_t m = 16, ef_construction = 64, seed = 42, threads = 2, noise_ef = 40, rounds = 1,
              repeats = 3;
  const std::map<std::string, std::string*> texts = {
      {"--base", &base_path}, {"--queries", &queries_path}, {"--ef", &ef_arg}};
  const std::map<std::string, std::size_t*> numbers = {{"--m", &m},
                                                       {"--ef-construction", &ef_construction},
                                                       {"--seed", &seed},
                                                       {"--threads", &threads},
                                                       {"--rounds", &rounds},
                                                       {"--noise-ef", &noise_ef},
                                                       {"--repeats", &repeats}};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (texts.count(argv[i]))
      *texts.at(argv[i]) = argv[i + 1];
    else if (numbers.count(argv[i]))
      *numbers.at(argv[i]) = std::stoul(argv[i + 1]);
    else
      fail(std::string("unknown argument ") + argv[i]);
  }
  if (argc % 2 == 0) fail(std::string("missing value of ") + argv[argc - 1]);
  threads = std::max<std::size_t>(1, threads);
  if (base_path.empty() || queries_path.empty()) fail("--base and --queries are required");
  const RowFile base(base_path);
  const RowFile query_file(queries_path);
  if (query_file.dims != base.dims) fail("base and queries differ in dims");
  std::vector<float> queries(query_file.rows * query_file.dims);
  for (std::size_t q = 0; q < query_file.rows; ++q)
    query_file.normalised_row(q, queries.data() + q * query_file.dims);

  hnswlib::InnerProductSpace space(base.dims);
  const Clock::time_point start = Clock::now();
  hnswlib::HierarchicalNSW<float> index(&space, base.rows, m, ef_construction, seed);
  std::atomic<std::size_t> next{0};
  const auto add_rows = [&] {
    std::vector<float> row(base.dims);
    for (std::size_t i; (i = next.fetch_add(1)) < base.rows;) {
      base.normalised_row(i, row.data());
      index.addPoint(row.data(), i);
    }
  };
  std::vector<std::thread> workers;
  for (std::size_t t = 1; t < threads; ++t) workers.emplace_back(add_rows);
  add_rows();
  for (auto& w : workers) w.join();
  const double build_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "{\"rows\": %zu, \"dims\": %zu, \"queries\": %zu, \"m\": %zu, \"ef_construction\": %zu, "
      "\"build_threads\": %zu, \"build_s\": %.3f, \"index_mb\": %.3f, \"simd\": \"%s\"}\n",
      base.rows, base.dims, query_file.rows, m, ef_construction, threads, build_s,
      index_mb(index, base.rows), simd_path(space).c_str());
  std::fflush(stdout);

  std::vector<double> latency(query_file.rows);
  std::vector<std::size_t> found(query_file.rows * kK);
  for (std::size_t ef : bench::parse_list(ef_arg, 0)) {
    index.setEf(ef);
    std::vector<double> qps, cpu_us, p50, p99;
    long distances = 0;
    const std::size_t passes = 1 + (ef == noise_ef ? repeats : rounds);  // the first is untimed
    for (std::size_t pass = 0; pass < passes; ++pass) {
      index.metric_distance_computations = 0;
      const double cpu0 = thread_cpu_seconds();
      const Clock::time_point t0 = Clock::now();
      for (std::size_t q = 0; q < query_file.rows; ++q) {
        const Clock::time_point q0 = Clock::now();
        auto top = index.searchKnn(queries.data() + q * query_file.dims, kK);
        latency[q] = std::chrono::duration<double>(Clock::now() - q0).count();
        // top pops the farthest first: fill the row from its end.
        std::fill_n(found.begin() + static_cast<std::ptrdiff_t>(q * kK), kK, base.rows);
        for (std::size_t r = top.size(); r > 0; top.pop()) found[q * kK + --r] = top.top().second;
      }
      const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
      const double cpu = thread_cpu_seconds() - cpu0;
      distances = index.metric_distance_computations;
      if (pass == 0) continue;
      const auto n = static_cast<double>(query_file.rows);
      qps.push_back(n / wall);
      cpu_us.push_back(1e6 * cpu / n);
      p50.push_back(quantile_ms(latency, 0.50));
      p99.push_back(quantile_ms(latency, 0.99));
    }
    std::string ids = "[";
    for (std::size_t q = 0; q < query_file.rows; ++q) {
      ids += q ? ", [" : "[";
      for (std::size_t r = 0; r < kK && found[q * kK + r] < base.rows; ++r)
        ids += (r ? ", " : "") + std::to_string(found[q * kK + r]);
      ids += "]";
    }
    std::printf(
        "{\"ef\": %zu, \"qps_all\": %s, \"cpu_us_all\": %s, \"p50_ms_all\": %s, \"p99_ms_all\": "
        "%s, "
        "\"distances\": %.1f, \"ids\": %s]}\n",
        ef, json_list(qps).c_str(), json_list(cpu_us).c_str(), json_list(p50).c_str(),
        json_list(p99).c_str(),
        static_cast<double>(distances) / static_cast<double>(query_file.rows), ids.c_str());
    std::fflush(stdout);
  }
  return 0;
}
