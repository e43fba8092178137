// Benchmarks of the vector text codec (pgvector literal parse and shortest round-trip format)
// and the binary wire codec, in vectors per second at d = 384 (and 100, 1536 for scale).
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "core/vector/codec.h"

namespace vec = embedding::vec;

namespace {

std::vector<float> random_vector(int d) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 0.3f);
  std::vector<float> v(d);
  for (float& x : v) x = dist(rng);
  return v;
}

std::string literal(const std::vector<float>& v) {
  std::string s(v.size() * vec::kMaxElementChars + 2, '\0');
  s.resize(vec::format_text(v.data(), static_cast<int>(v.size()), s.data()));
  return s;
}

void BM_ParseText(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  const std::string text = literal(random_vector(d));
  std::vector<float> out(d + 1);
  for (auto _ : state) {
    int n = vec::parse_text(text.c_str(), out.data(), d + 1);
    benchmark::DoNotOptimize(n);
  }
  state.counters["vectors/s"] = benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
  state.counters["bytes"] = static_cast<double>(text.size());
}

void BM_FormatText(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  const std::vector<float> v = random_vector(d);
  std::string out(d * vec::kMaxElementChars + 2, '\0');
  for (auto _ : state) {
    std::size_t n = vec::format_text(v.data(), d, out.data());
    benchmark::DoNotOptimize(n);
  }
  state.counters["vectors/s"] = benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
}

void BM_BinaryRoundTrip(benchmark::State& state) {
  const int d = static_cast<int>(state.range(0));
  const std::vector<float> v = random_vector(d);
  std::vector<unsigned char> wire(vec::binary_size(d));
  std::vector<float> back(d);
  for (auto _ : state) {
    vec::encode_binary(v.data(), d, wire.data());
    int n = vec::decode_binary_header(wire.data(), wire.size(), -1);
    vec::decode_binary_elements(wire.data(), wire.size(), back.data(), n);
    benchmark::DoNotOptimize(back.data());
  }
  state.counters["vectors/s"] = benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_ParseText)->Arg(100)->Arg(384)->Arg(1536);
BENCHMARK(BM_FormatText)->Arg(100)->Arg(384)->Arg(1536);
BENCHMARK(BM_BinaryRoundTrip)->Arg(384);

BENCHMARK_MAIN();
