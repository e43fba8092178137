// Benchmarks of the float32 distance kernels (scalar, AVX2+FMA, the dispatched table, the SQL-level
// wrappers and Eigen side by side) on vectors that stay in L1: ns per distance and GFLOP/s. Then
// the same for halfvec (half_*: scalar and AVX2+F16C tables, SQL level; flops counted as for
// float32, the conversions not counted) and for bit strings (hamming, jaccard: scalar and
// AVX2+POPCNT tables, SQL level; d is the number of bits, the strings are binary-quantised float
// vectors of dimension d, and Gbit/s counts bits of each string compared per second).
//
// Peak for these kernels = 2 FMA units x 8 floats (one 256-bit vector) x 2 flops (FMA) x clock.
// On the development machine (AMD EPYC, family 26 / Zen 5, 2 vCPUs) /proc/cpuinfo "cpu MHz" says
// 2096 MHz (lscpu gives no max clock under the hypervisor): 2 x 8 x 2 x 2.096 GHz = 67.1 GFLOP/s.
// The program prints the same figure for the machine it runs on (context "avx2_fma_peak_gflops").
// Flops counted per element: dot 2 (mul, add), l2 3 (sub, mul, add), l1 3 (sub, abs, add),
// dot_norms 6 (three multiply-adds). Eigen is compiled for plain x86-64 here, as the project never
// uses -march=native, so its packets are SSE2 (4 floats, no FMA).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/vector/half.h"
#include "core/vector/kernels.h"

namespace {

namespace k = embedding::kernels;
using k::Half;
using k::KernelTable;
// A distance under test over elements of type T (float, Half, or bytes of a bit string); ctx is
// the KernelTable for the table variants.
template <typename T>
using DistanceFn = float (*)(const T* a, const T* b, std::size_t n, const void* ctx);
using Fn = DistanceFn<float>;

// A handful of vectors, reused: up to 4, as many as fit in 24 KiB (4 x 1536 floats; 2 x 3072
// floats), inside any L1 data cache.
constexpr std::size_t kMaxVectors = 4;
constexpr std::size_t kDataBytes = 24 * 1024;

struct Metric {
  const char* name;
  double per_element;   // flops per element, or bits per bit
  const char* counter;  // what per_element counts, per second
};
constexpr Metric kL2{"l2_squared", 3, "GFLOP/s"}, kDot{"dot", 2, "GFLOP/s"},
    kL1{"l1", 3, "GFLOP/s"}, kCosine{"dot_norms", 6, "GFLOP/s"};
constexpr Metric kHalfL2{"half_l2_squared", 3, "GFLOP/s"}, kHalfDot{"half_dot", 2, "GFLOP/s"},
    kHalfL1{"half_l1", 3, "GFLOP/s"}, kHalfCosine{"half_dot_norms", 6, "GFLOP/s"};
constexpr Metric kHamming{"hamming", 1, "Gbit/s"}, kJaccard{"jaccard", 1, "Gbit/s"};

// `count` vectors of dimension d, one after the other: d floats or halfs, or d bits.
template <typename T>
std::vector<T> make_vectors(std::size_t count, std::size_t d, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<T> data;
  if constexpr (std::is_same_v<T, std::uint8_t>) {
    data.assign(count * d / 8, 0);  // sign bits of random floats, as binary quantisation stores
    for (std::size_t bit = 0; bit < count * d; ++bit)
      if (dist(rng) > 0) data[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
  } else {
    data.resize(count * d);
    for (T& x : data) {
      if constexpr (std::is_same_v<T, Half>) {
        x = embedding::vec::float_to_half(dist(rng));
      } else {
        x = dist(rng);
      }
    }
  }
  return data;
}

template <typename T>
void run(benchmark::State& state, std::size_t d, const Metric& metric, DistanceFn<T> distance,
         const void* ctx) {
  const std::size_t n = std::is_same_v<T, std::uint8_t> ? d / 8 : d;  // elements per vector
  const std::size_t vectors = std::clamp<std::size_t>(kDataBytes / (n * sizeof(T)), 2, kMaxVectors);
  std::mt19937 rng(1);
  const std::vector<T> data = make_vectors<T>(vectors, d, rng);
  std::size_t k = 0;
  for (auto _ : state) {
    const T* a = data.data() + (k % vectors) * n;
    const T* b = data.data() + ((k + 1) % vectors) * n;
    ++k;
    benchmark::DoNotOptimize(distance(a, b, n, ctx));
  }
  state.counters[metric.counter] = benchmark::Counter(
      static_cast<double>(state.iterations()) * metric.per_element * static_cast<double>(d) * 1e-9,
      benchmark::Counter::kIsRate);
}

// ---- Table kernels (through the function pointer, as callers use them) ----
// Member is the table's function pointer for one sum (&KernelTable::dot, ::half_l1, ...).
template <typename T, auto Member>
float table_sum(const T* a, const T* b, std::size_t n, const void* t) {
  return static_cast<float>((static_cast<const KernelTable*>(t)->*Member)(a, b, n));
}
template <typename T, auto Member>
float table_dot_norms(const T* a, const T* b, std::size_t n, const void* t) {
  float dot, norm_a, norm_b;
  (static_cast<const KernelTable*>(t)->*Member)(a, b, n, &dot, &norm_a, &norm_b);
  return dot + norm_a + norm_b;
}
float table_jaccard(const std::uint8_t* a, const std::uint8_t* b, std::size_t n, const void* t) {
  std::uint64_t both, count_a, count_b;
  static_cast<const KernelTable*>(t)->bit_jaccard_counts(a, b, n, &both, &count_a, &count_b);
  return static_cast<float>(both + count_a + count_b);
}

// ---- Eigen ----
using Map = Eigen::Map<const Eigen::VectorXf>;
float eigen_l2(const float* a, const float* b, std::size_t n, const void*) {
  const auto size = static_cast<Eigen::Index>(n);
  return (Map(a, size) - Map(b, size)).squaredNorm();
}
float eigen_dot(const float* a, const float* b, std::size_t n, const void*) {
  const auto size = static_cast<Eigen::Index>(n);
  return Map(a, size).dot(Map(b, size));
}
float eigen_l1(const float* a, const float* b, std::size_t n, const void*) {
  const auto size = static_cast<Eigen::Index>(n);
  return (Map(a, size) - Map(b, size)).cwiseAbs().sum();
}
float eigen_dot_norms(const float* a, const float* b, std::size_t n, const void*) {
  const auto size = static_cast<Eigen::Index>(n);
  const Map va(a, size), vb(b, size);
  return va.dot(vb) + va.squaredNorm() + vb.squaredNorm();
}

// ---- SQL-level wrappers (active table, fallback checks, double conversion) ----
template <typename T, double (*Distance)(const T*, const T*, std::size_t)>
float sql(const T* a, const T* b, std::size_t n, const void*) {
  return static_cast<float>(Distance(a, b, n));
}

template <typename T>
void add(const Metric& metric, std::size_t d, const std::string& variant, DistanceFn<T> fn,
         const void* ctx) {
  const std::string name = std::string(metric.name) + "/" + std::to_string(d) + "/" + variant;
  benchmark::RegisterBenchmark(name.c_str(),
                               [=](benchmark::State& state) { run(state, d, metric, fn, ctx); });
}

template <typename T>
struct TypedRow {
  const Metric& metric;
  DistanceFn<T> table_fn, sql_fn;
};

template <typename T, std::size_t N>
void add_typed_rows(const TypedRow<T> (&rows)[N], const KernelTable& scalar,
                    const KernelTable* avx2) {
  for (const TypedRow<T>& row : rows) {
    for (const std::size_t d : {384, 1536, 3072}) {
      add(row.metric, d, "scalar", row.table_fn, &scalar);
      if (avx2 != nullptr) add(row.metric, d, "avx2", row.table_fn, avx2);
      add(row.metric, d, "sql", row.sql_fn, nullptr);
    }
  }
}

double cpu_mhz() {  // first "cpu MHz" line of /proc/cpuinfo; 0 when absent
  double mhz = 0;
  if (std::FILE* f = std::fopen("/proc/cpuinfo", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::strncmp(line, "cpu MHz", 7) == 0) {
        if (const char* colon = std::strchr(line, ':')) mhz = std::atof(colon + 1);
        break;
      }
    }
    std::fclose(f);
  }
  return mhz;
}

}  // namespace

int main(int argc, char** argv) {
  const KernelTable& scalar = embedding::kernels::scalar_table();
  const KernelTable* avx2 = embedding::kernels::avx2_table();
  const KernelTable& active = embedding::kernels::active();

  struct Row {
    const Metric& metric;
    Fn table_fn, eigen_fn, sql_fn;
  };
  const Row rows[] = {
      {kL2, table_sum<float, &KernelTable::l2_squared>, eigen_l2, sql<float, k::l2_distance>},
      {kDot, table_sum<float, &KernelTable::dot>, eigen_dot, sql<float, k::inner_product>},
      {kL1, table_sum<float, &KernelTable::l1>, eigen_l1, sql<float, k::l1_distance>},
      // For dot_norms the SQL row is the whole cosine distance (same flops, plus a sqrt/divide).
      {kCosine, table_dot_norms<float, &KernelTable::dot_norms>, eigen_dot_norms,
       sql<float, k::cosine_distance>}};
  for (const Row& row : rows) {
    for (const std::size_t d : {100, 384, 768, 1536, 3072}) {
      add(row.metric, d, "scalar", row.table_fn, &scalar);
      if (avx2 != nullptr) add(row.metric, d, "avx2", row.table_fn, avx2);
      add(row.metric, d, std::string("active:") + active.name, row.table_fn, &active);
      add(row.metric, d, "eigen", row.eigen_fn, nullptr);
      add(row.metric, d, "sql", row.sql_fn, nullptr);
    }
  }

  // halfvec and bit strings: both tables and the SQL level (active table), at the dimensions of
  // common embedding models; the float32 rows above have the same d for comparison.
  const TypedRow<Half> half_rows[] = {
      {kHalfL2, table_sum<Half, &KernelTable::half_l2_squared>, sql<Half, k::half_l2_distance>},
      {kHalfDot, table_sum<Half, &KernelTable::half_dot>, sql<Half, k::half_inner_product>},
      {kHalfL1, table_sum<Half, &KernelTable::half_l1>, sql<Half, k::half_l1_distance>},
      {kHalfCosine, table_dot_norms<Half, &KernelTable::half_dot_norms>,
       sql<Half, k::half_cosine_distance>}};
  const TypedRow<std::uint8_t> bit_rows[] = {
      {kHamming, table_sum<std::uint8_t, &KernelTable::bit_hamming>,
       sql<std::uint8_t, k::bit_hamming_distance>},
      {kJaccard, table_jaccard, sql<std::uint8_t, k::bit_jaccard_distance>}};
  add_typed_rows(half_rows, scalar, avx2);
  add_typed_rows(bit_rows, scalar, avx2);

  const double mhz = cpu_mhz();
  benchmark::AddCustomContext("cpu_mhz (/proc/cpuinfo)", std::to_string(mhz));
  benchmark::AddCustomContext("avx2_fma_peak_gflops (2 FMA x 8 x 2 x clock)",
                              std::to_string(2 * 8 * 2 * mhz / 1000));
  benchmark::AddCustomContext("active_table", active.name);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
