// Benchmarks of core/quant: encode() at 1, 2, 4 and 8 bits (the former 24-candidate scale search
// against today's, with the codes' mean cos(g, x) as a counter), and level_dot and the estimate per
// code, scalar against AVX2 tables in the same run, at 100 and 1,536 dimensions.
//
// Rows are N(0.5, 1) vectors coded around their mean, as an index codes rows around the data's
// mean; 256 rows or codes are cycled, so codes stay in L1/L2 as a neighbour list's would. "1-bit
// floats" estimates 1-bit codes from the query's float coordinates instead of its bit planes.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/quant/code_kernels.h"
#include "core/quant/rabitq.h"
#include "core/quant/scale_search.h"

namespace {

namespace q = embedding::quant;

constexpr std::size_t kRows = 256;

struct Data {
  std::size_t dims;
  std::vector<float> rows;  // kRows x dims
  std::vector<float> mean;
  std::vector<float> query;
};

Data make_data(std::size_t dims) {
  std::mt19937_64 rng(dims);
  std::normal_distribution<float> normal(0.5f, 1.0f);
  Data d{dims, std::vector<float>(kRows * dims), std::vector<float>(dims, 0.0f),
         std::vector<float>(dims)};
  for (std::size_t i = 0; i < kRows * dims; ++i) d.rows[i] = normal(rng);
  for (std::size_t i = 0; i < kRows * dims; ++i) d.mean[i % dims] += d.rows[i] / kRows;
  for (float& v : d.query) v = normal(rng);
  return d;
}

const Data& data(std::size_t dims) {
  static const Data d100 = make_data(100), d1536 = make_data(1536);
  return dims == 100 ? d100 : d1536;
}

// cos(g, x) of a code, from its factors: error = |x| tan(angle) / sqrt(P - 1).
double cosine_of(const q::CodeFactors& f, std::size_t padded) {
  const double tangent = f.error * std::sqrt(static_cast<double>(padded - 1)) / f.norm;
  return 1.0 / std::sqrt(1.0 + tangent * tangent);
}

// search: null for today's encode(), else the former search.
void encode(benchmark::State& state, std::size_t dims, int bits, const q::CodeKernels* kernels,
            q::Quantizer::ScaleSearch search) {
  const Data& d = data(dims);
  q::Quantizer quantizer(dims, bits, 7, d.mean.data());
  quantizer.set_kernels(*kernels);
  std::vector<std::uint8_t> code(quantizer.code_bytes());
  std::vector<float> scratch(quantizer.scratch_floats());
  std::size_t k = 0;
  for (auto _ : state) {
    const float* row = d.rows.data() + (k++ % kRows) * dims;
    benchmark::DoNotOptimize(search != nullptr
                                 ? quantizer.encode(row, code.data(), scratch.data(), search)
                                 : quantizer.encode(row, code.data(), scratch.data()));
  }
  double cosines = 0.0;
  for (std::size_t r = 0; r < kRows; ++r) {
    const float* row = d.rows.data() + r * dims;
    const q::CodeFactors f = search != nullptr
                                 ? quantizer.encode(row, code.data(), scratch.data(), search)
                                 : quantizer.encode(row, code.data(), scratch.data());
    cosines += cosine_of(f, quantizer.padded());
  }
  state.counters["cos"] = cosines / kRows;
}

// Codes of every row, and a prepared query.
struct Coded {
  q::Quantizer quantizer;
  std::vector<std::uint8_t> codes;
  std::vector<q::CodeFactors> factors;
  q::PreparedQuery query;
};

Coded make_coded(std::size_t dims, int bits, const q::CodeKernels& kernels, bool planes) {
  const Data& d = data(dims);
  Coded c{q::Quantizer(dims, bits, 7, d.mean.data()), {}, {}, {}};
  c.quantizer.set_kernels(kernels);
  c.codes.resize(kRows * c.quantizer.code_bytes());
  c.factors.resize(kRows);
  std::vector<float> scratch(c.quantizer.scratch_floats());
  for (std::size_t r = 0; r < kRows; ++r)
    c.factors[r] = c.quantizer.encode(
        d.rows.data() + r * dims, c.codes.data() + r * c.quantizer.code_bytes(), scratch.data());
  c.quantizer.prepare(d.query.data(), true, c.query);
  if (!planes) c.query.planes.clear();
  return c;
}

void level_dot(benchmark::State& state, std::size_t dims, int bits, const q::CodeKernels* kernels) {
  const Coded c = make_coded(dims, bits, *kernels, false);
  const auto fn = kernels->level_dot[q::bit_width_index(bits)];
  const std::size_t bytes = c.quantizer.code_bytes();
  std::size_t k = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(
        fn(c.codes.data() + (k++ % kRows) * bytes, c.query.y.data(), c.quantizer.padded()));
}

void estimate(benchmark::State& state, std::size_t dims, int bits, const q::CodeKernels* kernels,
              bool planes) {
  const Coded c = make_coded(dims, bits, *kernels, planes);
  const std::size_t bytes = c.quantizer.code_bytes();
  std::size_t k = 0;
  for (auto _ : state) {
    const std::size_t r = k++ % kRows;
    benchmark::DoNotOptimize(
        c.quantizer.l2_squared(c.query, c.codes.data() + r * bytes, c.factors[r]));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const q::CodeKernels& scalar = q::scalar_code_kernels();
  std::vector<const q::CodeKernels*> tables{&scalar};
  if (const q::CodeKernels* avx2 = q::avx2_code_kernels()) tables.push_back(avx2);
  for (std::size_t dims : {100, 1536}) {
    for (int bits : {1, 2, 4, 8}) {
      const std::string suffix = "/" + std::to_string(dims) + "d/" + std::to_string(bits) + "bit";
      benchmark::RegisterBenchmark(("encode/former_24_scales" + suffix).c_str(), encode, dims, bits,
                                   &scalar, q::best_of_24_scales);
      for (const q::CodeKernels* t : tables)
        benchmark::RegisterBenchmark(("encode/" + std::string(t->name) + suffix).c_str(), encode,
                                     dims, bits, t, nullptr);
    }
  }
  for (std::size_t dims : {100, 1536}) {
    for (int bits : {1, 2, 4, 8}) {
      const std::string suffix = "/" + std::to_string(dims) + "d/" + std::to_string(bits) + "bit";
      for (const q::CodeKernels* t : tables) {
        const std::string name = std::string(t->name) + suffix;
        benchmark::RegisterBenchmark(("level_dot/" + name).c_str(), level_dot, dims, bits, t);
        benchmark::RegisterBenchmark(("estimate/" + name).c_str(), estimate, dims, bits, t, true);
        if (bits == 1)
          benchmark::RegisterBenchmark(("estimate/" + name + "_floats").c_str(), estimate, dims,
                                       bits, t, false);
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
