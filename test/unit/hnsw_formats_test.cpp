// The in-memory HNSW graph over every storage format: the vectors of a dense set stored as
// float4, as halfs, as sparse vectors and (binary-quantised) as bits. Each graph must find what
// brute force over the same stored bytes finds, and a dense and a sparse graph of the same
// vectors must agree with each other (the sparse rows vary in size: the offsets path).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "core/hnsw/memory_graph.h"
#include "core/vector/half.h"
#include "core/vector/stored_distance.h"

namespace embedding::hnsw {
namespace {

constexpr std::size_t kDims = 48;
constexpr std::size_t kRows = 3000;
constexpr std::size_t kQueries = 100;
constexpr std::size_t kK = 10;

// Rows with about a third of their elements zero, so that sparse vectors vary in length.
std::vector<std::vector<float>> dense_rows(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> rows(n, std::vector<float>(kDims));
  for (auto& row : rows)
    for (float& x : row) x = rng() % 3 == 0 ? 0.0f : normal(rng);
  return rows;
}

// One vector as `format` stores it (element_bytes() or 4 + 8 * nnz bytes, in 4-byte words).
std::vector<std::uint32_t> encode(const std::vector<float>& x, Format format) {
  std::vector<std::uint32_t> words;
  if (format == Format::kFloat32) {
    words.resize(kDims);
    std::memcpy(words.data(), x.data(), 4 * kDims);
  } else if (format == Format::kFloat16) {
    words.resize(element_bytes(format, kDims) / 4);
    auto* h = reinterpret_cast<vec::Half*>(words.data());
    for (std::size_t i = 0; i < kDims; ++i) h[i] = vec::float_to_half(x[i]);
  } else if (format == Format::kBit) {
    words.resize(element_bytes(format, kDims) / 4);
    auto* bits = reinterpret_cast<std::uint8_t*>(words.data());
    for (std::size_t i = 0; i < kDims; ++i)
      if (x[i] > 0) bits[i / 8] |= static_cast<std::uint8_t>(0x80 >> (i % 8));
  } else {
    std::vector<std::int32_t> indices;
    std::vector<float> values;
    for (std::size_t i = 0; i < kDims; ++i)
      if (x[i] != 0) indices.push_back(static_cast<std::int32_t>(i)), values.push_back(x[i]);
    words.resize(1 + 2 * indices.size());
    words[0] = static_cast<std::uint32_t>(indices.size());
    std::copy(indices.begin(), indices.end(), reinterpret_cast<std::int32_t*>(words.data() + 1));
    std::copy(values.begin(), values.end(),
              reinterpret_cast<float*>(words.data() + 1 + indices.size()));
  }
  return words;
}

struct Case {
  Format format;
  Metric metric;
};

class FormatGraph : public ::testing::TestWithParam<Case> {};

// Recall@10 against brute force over the stored vectors, with the graph's own distance.
TEST_P(FormatGraph, FindsWhatBruteForceFinds) {
  const Case c = GetParam();
  const auto base = dense_rows(kRows, 1), queries = dense_rows(kQueries, 2);
  std::vector<std::vector<std::uint32_t>> stored, asked;
  for (const auto& row : base) stored.push_back(encode(row, c.format));
  for (const auto& row : queries) asked.push_back(encode(row, c.format));
  MemoryGraph graph(kDims, c.metric, Params{}, 42, kRows, BuildTuning{}, c.format);
  for (const auto& v : stored) graph.add(v.data());
  graph.build();
  for (std::size_t i = 0; i < kRows; ++i)
    ASSERT_EQ(graph.vector_bytes(i), 4 * stored[i].size()) << i;
  const VectorDistance distance(c.metric, kDims, c.format);
  MemorySearchContext context;
  std::vector<Candidate> got;
  std::size_t hits = 0;
  for (const auto& q : asked) {
    std::vector<float> exact;
    for (const auto& v : stored) exact.push_back(distance(q.data(), v.data()));
    std::vector<float> sorted = exact;
    std::nth_element(sorted.begin(), sorted.begin() + kK - 1, sorted.end());
    const float kth = sorted[kK - 1];
    graph.search(q.data(), kK, 80, context, got);
    ASSERT_EQ(got.size(), kK);
    for (const Candidate& r : got) hits += exact[r.node] <= kth;  // ties count as found
  }
  const double recall = static_cast<double>(hits) / (kQueries * kK);
  // Bits have few distinct hamming distances, so ties make recall trivially high: the bound
  // differs by format only in how hard it is.
  EXPECT_GE(recall, 0.95) << "format " << static_cast<int>(c.format);
}

INSTANTIATE_TEST_SUITE_P(
    Formats, FormatGraph,
    ::testing::Values(Case{Format::kFloat32, Metric::kL2}, Case{Format::kFloat16, Metric::kL2},
                      Case{Format::kFloat16, Metric::kInnerProduct},
                      Case{Format::kFloat16, Metric::kL1}, Case{Format::kSparse, Metric::kL2},
                      Case{Format::kSparse, Metric::kInnerProduct},
                      Case{Format::kSparse, Metric::kL1}, Case{Format::kBit, Metric::kHamming},
                      Case{Format::kBit, Metric::kJaccard}));

// The same vectors stored dense and sparse are the same points: identical distances.
TEST(FormatGraph, SparseDistancesEqualDense) {
  const auto rows = dense_rows(200, 3);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kL1}) {
    const VectorDistance dense(metric, kDims, Format::kFloat32);
    const VectorDistance sparse(metric, kDims, Format::kSparse);
    for (std::size_t i = 1; i < rows.size(); ++i) {
      const auto a = encode(rows[i - 1], Format::kFloat32), b = encode(rows[i], Format::kFloat32);
      const auto sa = encode(rows[i - 1], Format::kSparse), sb = encode(rows[i], Format::kSparse);
      EXPECT_NEAR(dense(a.data(), b.data()), sparse(sa.data(), sb.data()),
                  1e-4f * (1.0f + std::abs(dense(a.data(), b.data()))));
    }
  }
}

TEST(FormatGraph, MetricsPairOnlyWithTheirFormats) {
  EXPECT_THROW(VectorDistance(Metric::kHamming, 8, Format::kFloat32), Error);
  EXPECT_THROW(VectorDistance(Metric::kL2, 8, Format::kBit), Error);
  EXPECT_NO_THROW(VectorDistance(Metric::kCosine, 8, Format::kSparse));
}

}  // namespace
}  // namespace embedding::hnsw
