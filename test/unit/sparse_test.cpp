// Unit tests for sparsevec's core: the text and wire formats (round trips, pgvector's rules and
// messages), and the merge-based distances and ordering against the same vectors made dense.
#include "core/vector/sparse.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/vector/arith.h"

namespace embedding::vec {
namespace {

struct Sparse {
  long dim = 0;
  std::vector<std::int32_t> indices;
  std::vector<float> values;
  SparseView view() const {
    return {static_cast<std::int32_t>(dim), static_cast<std::int32_t>(indices.size()),
            indices.data(), values.data()};
  }
  std::vector<float> dense() const {
    std::vector<float> x(dim, 0.0f);
    for (std::size_t i = 0; i < indices.size(); ++i) x[indices[i]] = values[i];
    return x;
  }
};

Sparse parse(const std::string& text) {
  Sparse s;
  const int capacity = sparse_text_capacity(text.c_str());
  s.indices.resize(capacity);
  s.values.resize(capacity);
  const int nnz =
      parse_sparse_text(text.c_str(), s.indices.data(), s.values.data(), capacity, &s.dim);
  s.indices.resize(nnz);
  s.values.resize(nnz);
  return s;
}

std::string format(const Sparse& s) {
  std::string out(sparse_text_bound(static_cast<int>(s.indices.size())), '\0');
  out.resize(format_sparse_text(s.view(), out.data()));
  return out;
}

std::string message_of(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SparseText, ParsesSortsAndDropsZeros) {
  const Sparse s = parse(" { 3 : 2 , 1 : 1.5, 2:0 } / 5 ");
  EXPECT_EQ(s.dim, 5);
  EXPECT_EQ(s.indices, (std::vector<std::int32_t>{0, 2}));
  EXPECT_EQ(s.values, (std::vector<float>{1.5f, 2.0f}));
  EXPECT_EQ(format(s), "{1:1.5,3:2}/5");
  EXPECT_EQ(format(parse("{}/3")), "{}/3");
}

TEST(SparseText, RefusesWhatPgvectorRefuses) {
  EXPECT_EQ(message_of("{1:1,1:2}/3"), "sparsevec indices must not contain duplicates");
  EXPECT_EQ(message_of("{0:1}/3"), "sparsevec index out of bounds");
  EXPECT_EQ(message_of("{4:1}/3"), "sparsevec index out of bounds");
  EXPECT_EQ(message_of("{1:1}/0"), "sparsevec must have at least 1 dimension");
  EXPECT_EQ(message_of("{1:nan}/2"), "NaN not allowed in sparsevec");
  EXPECT_EQ(message_of("{1:1e-46}/2"), "\"1e-46\" is out of range for type sparsevec");
  EXPECT_NE(message_of("{1:1}").find("invalid input syntax for type sparsevec"), std::string::npos);
  EXPECT_NE(message_of("{1:1}/2 x").find("invalid input syntax"), std::string::npos);
  std::string many = "{";
  for (int i = 1; i <= kMaxSparseNnz + 1; ++i) many += std::to_string(i) + ":1,";
  many.back() = '}';
  EXPECT_EQ(message_of(many + "/20000"), "sparsevec cannot have more than 16000 non-zero elements");
}

TEST(SparseText, RoundTripsRandomVectors) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    Sparse s;
    s.dim = 1 + rng() % 5000;
    for (long i = 0; i < s.dim; ++i)
      if (rng() % 20 == 0) {
        s.indices.push_back(static_cast<std::int32_t>(i));
        s.values.push_back(std::ldexp(static_cast<float>(rng() % 2000) - 1000.5f,
                                      static_cast<int>(rng() % 40) - 20));
      }
    const Sparse back = parse(format(s));
    ASSERT_EQ(back.dim, s.dim);
    ASSERT_EQ(back.indices, s.indices);
    ASSERT_EQ(back.values, s.values);  // no zeros or NaNs: equal floats are equal bits
  }
}

TEST(SparseBinary, RoundTripsAndChecks) {
  const Sparse s = parse("{2:1.5,4:-1}/5");
  std::vector<unsigned char> wire(sparse_binary_size(2));
  encode_sparse_binary(s.view(), wire.data());
  long dim = 0;
  const int nnz = decode_sparse_header(wire.data(), wire.size(), -1, &dim);
  Sparse back;
  back.dim = dim;
  back.indices.resize(nnz);
  back.values.resize(nnz);
  decode_sparse_elements(wire.data(), wire.size(), nnz, dim, back.indices.data(),
                         back.values.data());
  EXPECT_EQ(back.indices, s.indices);
  EXPECT_EQ(back.values, s.values);
  EXPECT_THROW(decode_sparse_header(wire.data(), wire.size() - 1, -1, &dim), Error);
  EXPECT_THROW(decode_sparse_header(wire.data(), wire.size(), 4, &dim), Error);
  std::vector<unsigned char> swapped = wire;  // indices out of order
  std::swap_ranges(swapped.begin() + 12, swapped.begin() + 16, swapped.begin() + 16);
  EXPECT_THROW(decode_sparse_elements(swapped.data(), swapped.size(), 2, 5, back.indices.data(),
                                      back.values.data()),
               Error);
  std::vector<unsigned char> zero = wire;  // a stored zero
  std::memset(zero.data() + 20, 0, 4);
  EXPECT_THROW(decode_sparse_elements(zero.data(), zero.size(), 2, 5, back.indices.data(),
                                      back.values.data()),
               Error);
}

// Distances and ordering equal the dense computation, in double.
TEST(SparseDistances, MatchDenseReference) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    const long dim = 1 + rng() % 300;
    Sparse a, b;
    a.dim = b.dim = dim;
    for (long i = 0; i < dim; ++i) {
      if (rng() % 4 == 0) a.indices.push_back(i), a.values.push_back((rng() % 200) / 10.0f - 10);
      if (rng() % 4 == 0) b.indices.push_back(i), b.values.push_back((rng() % 200) / 10.0f - 10);
      if (!a.values.empty() && a.values.back() == 0) a.values.back() = 1, a.indices.back() = i;
      if (!b.values.empty() && b.values.back() == 0) b.values.back() = 1, b.indices.back() = i;
    }
    const std::vector<float> x = a.dense(), y = b.dense();
    double l2 = 0, dot = 0, l1 = 0, nx = 0, ny = 0;
    for (long i = 0; i < dim; ++i) {
      l2 += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
      dot += double(x[i]) * y[i];
      l1 += std::fabs(double(x[i]) - y[i]);
      nx += double(x[i]) * x[i];
      ny += double(y[i]) * y[i];
    }
    const double tolerance = 1e-5 * (1 + l2 + std::fabs(dot) + l1);
    EXPECT_NEAR(sparse_l2_squared(a.view(), b.view()), l2, tolerance);
    EXPECT_NEAR(sparse_dot(a.view(), b.view()), dot, tolerance);
    EXPECT_NEAR(sparse_l1(a.view(), b.view()), l1, tolerance);
    EXPECT_NEAR(sparse_norm(a.view()), std::sqrt(nx), 1e-9 * (1 + nx));
    if (nx > 0 && ny > 0) {
      EXPECT_NEAR(sparse_cosine_distance(a.view(), b.view()), 1 - dot / std::sqrt(nx * ny), 1e-5);
    }
    EXPECT_EQ(sparse_compare(a.view(), b.view()),
              compare(x.data(), static_cast<int>(dim), y.data(), static_cast<int>(dim)));
  }
}

TEST(SparseDistances, ZeroVectorCosineIsNaN) {
  const Sparse zero = parse("{}/3"), one = parse("{1:1}/3");
  EXPECT_TRUE(std::isnan(sparse_cosine_distance(zero.view(), one.view())));
  EXPECT_EQ(sparse_l2_squared(zero.view(), one.view()), 1.0f);
}

TEST(SparseOrder, ShorterPrefixSortsFirst) {
  EXPECT_LT(sparse_compare(parse("{1:1}/3").view(), parse("{1:1}/4").view()), 0);
  EXPECT_LT(sparse_compare(parse("{4:1}/4").view(), parse("{1:1}/3").view()), 0);
  EXPECT_GT(sparse_compare(parse("{3:1}/3").view(), parse("{}/3").view()), 0);
  EXPECT_LT(sparse_compare(parse("{2:-1}/3").view(), parse("{}/3").view()), 0);
}

}  // namespace
}  // namespace embedding::vec
