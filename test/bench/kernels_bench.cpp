// Benchmarks of the float32 distance kernels (scalar, AVX2+FMA, the dispatched table, the SQL-level
// wrappers and Eigen side by side) on vectors that stay in L1: ns per distance and GFLOP/s.
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
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/vector/kernels.h"

namespace {

using embedding::kernels::KernelTable;
// A distance under test; ctx is the KernelTable for the table variants.
using Fn = float (*)(const float* a, const float* b, std::size_t n, const void* ctx);

// A handful of vectors, reused: 4 x 1536 floats = 24 KiB, inside any L1 data cache.
constexpr std::size_t kVectors = 4;

struct Metric {
  const char* name;
  double flops_per_element;
};
constexpr Metric kL2{"l2_squared", 3}, kDot{"dot", 2}, kL1{"l1", 3}, kCosine{"dot_norms", 6};

void run(benchmark::State& state, std::size_t d, double flops_per_element, Fn distance,
         const void* ctx) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> data(kVectors * d);
  for (float& x : data) x = dist(rng);
  std::size_t k = 0;
  for (auto _ : state) {
    const float* a = data.data() + (k % kVectors) * d;
    const float* b = data.data() + ((k + 1) % kVectors) * d;
    ++k;
    benchmark::DoNotOptimize(distance(a, b, d, ctx));
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * flops_per_element * static_cast<double>(d) * 1e-9,
      benchmark::Counter::kIsRate);
}

// ---- Table kernels (through the function pointer, as callers use them) ----
float table_l2(const float* a, const float* b, std::size_t n, const void* t) {
  return static_cast<const KernelTable*>(t)->l2_squared(a, b, n);
}
float table_dot(const float* a, const float* b, std::size_t n, const void* t) {
  return static_cast<const KernelTable*>(t)->dot(a, b, n);
}
float table_l1(const float* a, const float* b, std::size_t n, const void* t) {
  return static_cast<const KernelTable*>(t)->l1(a, b, n);
}
float table_dot_norms(const float* a, const float* b, std::size_t n, const void* t) {
  float dot, norm_a, norm_b;
  static_cast<const KernelTable*>(t)->dot_norms(a, b, n, &dot, &norm_a, &norm_b);
  return dot + norm_a + norm_b;
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
float sql_l2(const float* a, const float* b, std::size_t n, const void*) {
  return static_cast<float>(embedding::kernels::l2_distance(a, b, n));
}
float sql_dot(const float* a, const float* b, std::size_t n, const void*) {
  return static_cast<float>(embedding::kernels::inner_product(a, b, n));
}
float sql_l1(const float* a, const float* b, std::size_t n, const void*) {
  return static_cast<float>(embedding::kernels::l1_distance(a, b, n));
}
float sql_cosine(const float* a, const float* b, std::size_t n, const void*) {
  return static_cast<float>(embedding::kernels::cosine_distance(a, b, n));
}

void add(const Metric& metric, std::size_t d, const std::string& variant, Fn fn, const void* ctx) {
  const std::string name = std::string(metric.name) + "/" + std::to_string(d) + "/" + variant;
  const double flops = metric.flops_per_element;
  benchmark::RegisterBenchmark(name.c_str(),
                               [=](benchmark::State& state) { run(state, d, flops, fn, ctx); });
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
  const Row rows[] = {{kL2, table_l2, eigen_l2, sql_l2},
                      {kDot, table_dot, eigen_dot, sql_dot},
                      {kL1, table_l1, eigen_l1, sql_l1},
                      {kCosine, table_dot_norms, eigen_dot_norms, sql_cosine}};
  for (const Row& row : rows) {
    for (const std::size_t d : {100, 384, 768, 1536}) {
      add(row.metric, d, "scalar", row.table_fn, &scalar);
      if (avx2 != nullptr) add(row.metric, d, "avx2", row.table_fn, avx2);
      add(row.metric, d, std::string("active:") + active.name, row.table_fn, &active);
      add(row.metric, d, "eigen", row.eigen_fn, nullptr);
      // For dot_norms the SQL row is the whole cosine distance (same flops, plus a sqrt/divide).
      add(row.metric, d, "sql", row.sql_fn, nullptr);
    }
  }

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
