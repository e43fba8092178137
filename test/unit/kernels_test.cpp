// Unit tests for the float32 distance kernels: every table the host supports against a
// long-double reference, and the SQL-level distances on zero, huge, tiny and degenerate inputs.
#include "core/vector/kernels.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace embedding::kernels {
namespace {

using Vec = std::vector<float>;

const std::size_t kLengths[] = {0,  1,  2,  3,   7,   8,   9,    15,   16,
                                17, 31, 33, 100, 384, 768, 1536, 16000};

// An exact-enough reference: the value and the sum of |terms| that its error bound scales with.
struct Reference {
  long double value = 0;
  long double magnitude = 0;
};

Reference reference_l2_squared(const Vec& a, const Vec& b) {
  Reference r;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const long double diff = static_cast<long double>(a[i]) - b[i];
    r.value += diff * diff;
  }
  r.magnitude = r.value;
  return r;
}

Reference reference_dot(const Vec& a, const Vec& b) {
  Reference r;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const long double product = static_cast<long double>(a[i]) * b[i];
    r.value += product;
    r.magnitude += std::fabs(product);
  }
  return r;
}

Reference reference_l1(const Vec& a, const Vec& b) {
  Reference r;
  for (std::size_t i = 0; i < a.size(); ++i)
    r.value += std::fabs(static_cast<long double>(a[i]) - b[i]);
  r.magnitude = r.value;
  return r;
}

long double reference_cosine_distance(const Vec& a, const Vec& b) {
  const long double similarity =
      reference_dot(a, b).value / std::sqrt(reference_dot(a, a).value * reference_dot(b, b).value);
  return 1 - similarity;
}

// Worst case for a float32 sum of n terms, in any summation order: each term goes through at
// most n + 2 roundings (difference, square, n - 1 additions), so the error is at most
// gamma(n + 2) * sum|terms| (Higham, Accuracy and Stability, 3.1), where
// gamma(k) = k u / (1 - k u) and u = 2^-24. Subnormal products add at most 2^-150 each.
double float_sum_bound(std::size_t n, long double magnitude) {
  const double k_u = static_cast<double>(n + 2) * std::ldexp(1.0, -24);
  return k_u / (1 - k_u) * static_cast<double>(magnitude) + n * std::ldexp(1.0, -150);
}

Vec random_vector(std::size_t n, std::mt19937& rng, float low, float high) {
  std::uniform_real_distribution<float> dist(low, high);
  Vec v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Nonzero small integers: every sum below is exact in float32 for n <= 16000 (at most
// 36 * 16000 < 2^24), so a kernel that skips or repeats any element gives a different result.
Vec small_integer_vector(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(1, 3);
  std::bernoulli_distribution negative(0.5);
  Vec v(n);
  for (float& x : v) x = static_cast<float>(negative(rng) ? -dist(rng) : dist(rng));
  return v;
}

// ---- Raw float32 kernels, once per table -------------------------------------------------

class KernelTableTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "scalar") {
      table_ = &scalar_table();
    } else {
      table_ = avx2_table();
      if (table_ == nullptr) GTEST_SKIP() << "this CPU (or build) has no AVX2+FMA";
    }
    ASSERT_EQ(GetParam(), table_->name);
  }
  const KernelTable* table_ = nullptr;
};

TEST_P(KernelTableTest, MatchesReferenceWithinFloatErrorBound) {
  std::mt19937 rng(1234);
  for (const std::size_t n : kLengths) {
    for (const auto& [low, high] : {std::pair{-1.0f, 1.0f}, std::pair{0.5f, 1.5f}}) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", range " + std::to_string(low));
      const Vec a = random_vector(n, rng, low, high);
      const Vec b = random_vector(n, rng, low, high);

      const Reference l2 = reference_l2_squared(a, b);
      EXPECT_NEAR(table_->l2_squared(a.data(), b.data(), n), l2.value,
                  float_sum_bound(n, l2.magnitude));
      const Reference dot = reference_dot(a, b);
      EXPECT_NEAR(table_->dot(a.data(), b.data(), n), dot.value, float_sum_bound(n, dot.magnitude));
      const Reference l1 = reference_l1(a, b);
      EXPECT_NEAR(table_->l1(a.data(), b.data(), n), l1.value, float_sum_bound(n, l1.magnitude));

      float d = -1, na = -1, nb = -1;
      table_->dot_norms(a.data(), b.data(), n, &d, &na, &nb);
      EXPECT_NEAR(d, dot.value, float_sum_bound(n, dot.magnitude));
      const Reference aa = reference_dot(a, a);
      const Reference bb = reference_dot(b, b);
      EXPECT_NEAR(na, aa.value, float_sum_bound(n, aa.magnitude));
      EXPECT_NEAR(nb, bb.value, float_sum_bound(n, bb.magnitude));
    }
  }
}

TEST_P(KernelTableTest, ExactOnSmallIntegersForEveryLength) {
  std::mt19937 rng(99);
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 130; ++n) lengths.push_back(n);
  lengths.insert(lengths.end(), {384, 767, 768, 769, 1536, 16000});
  for (const std::size_t n : lengths) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Vec a = small_integer_vector(n, rng);
    const Vec b = small_integer_vector(n, rng);
    EXPECT_EQ(table_->l2_squared(a.data(), b.data(), n), reference_l2_squared(a, b).value);
    EXPECT_EQ(table_->dot(a.data(), b.data(), n), reference_dot(a, b).value);
    EXPECT_EQ(table_->l1(a.data(), b.data(), n), reference_l1(a, b).value);
    float d = -1, na = -1, nb = -1;
    table_->dot_norms(a.data(), b.data(), n, &d, &na, &nb);
    EXPECT_EQ(d, reference_dot(a, b).value);
    EXPECT_EQ(na, reference_dot(a, a).value);
    EXPECT_EQ(nb, reference_dot(b, b).value);
  }
}

// Vectors that end exactly at a PROT_NONE page: a kernel that reads one float too far (a
// wrong tail) crashes the test instead of silently reading neighbouring memory.
TEST_P(KernelTableTest, NeverReadsPastTheEnd) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  auto guarded = [page]() {
    void* p = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    EXPECT_EQ(mprotect(static_cast<char*>(p) + page, page, PROT_NONE), 0);
    return static_cast<char*>(p);
  };
  char* block_a = guarded();
  char* block_b = guarded();
  std::mt19937 rng(7);
  for (std::size_t n = 0; n <= 70; ++n) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Vec va = small_integer_vector(n, rng);
    const Vec vb = small_integer_vector(n, rng);
    float* a = reinterpret_cast<float*>(block_a + page) - n;
    float* b = reinterpret_cast<float*>(block_b + page) - n;
    if (n > 0) {
      std::memcpy(a, va.data(), n * sizeof(float));
      std::memcpy(b, vb.data(), n * sizeof(float));
    }
    EXPECT_EQ(table_->l2_squared(a, b, n), reference_l2_squared(va, vb).value);
    EXPECT_EQ(table_->dot(a, b, n), reference_dot(va, vb).value);
    EXPECT_EQ(table_->l1(a, b, n), reference_l1(va, vb).value);
    float d = -1, na = -1, nb = -1;
    table_->dot_norms(a, b, n, &d, &na, &nb);
    EXPECT_EQ(d, reference_dot(va, vb).value);
  }
  munmap(block_a, 2 * page);
  munmap(block_b, 2 * page);
}

TEST_P(KernelTableTest, IdenticalVectorsGiveZeroDistanceAndEqualPartials) {
  std::mt19937 rng(5);
  for (const std::size_t n : kLengths) {
    const Vec a = random_vector(n, rng, -10.0f, 10.0f);
    EXPECT_EQ(table_->l2_squared(a.data(), a.data(), n), 0.0f);
    EXPECT_EQ(table_->l1(a.data(), a.data(), n), 0.0f);
    float d = -1, na = -1, nb = -1;
    table_->dot_norms(a.data(), a.data(), n, &d, &na, &nb);
    // Same operations in the same order: bit-identical, which is what makes cosine exactly 0.
    EXPECT_EQ(d, na);
    EXPECT_EQ(na, nb);
    EXPECT_EQ(d, table_->dot(a.data(), a.data(), n));
  }
}

INSTANTIATE_TEST_SUITE_P(Tables, KernelTableTest, ::testing::Values("scalar", "avx2"),
                         [](const auto& info) { return info.param; });

// ---- Dispatch ----------------------------------------------------------------------------

TEST(KernelDispatch, Avx2AgreesWithScalar) {
  const KernelTable* avx2 = avx2_table();
  if (avx2 == nullptr) GTEST_SKIP() << "this CPU (or build) has no AVX2+FMA";
  const KernelTable& scalar = scalar_table();
  std::mt19937 rng(42);
  for (const std::size_t n : kLengths) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Vec a = random_vector(n, rng, -1.0f, 1.0f);
    const Vec b = random_vector(n, rng, -1.0f, 1.0f);
    // Each is within the bound of the exact value, hence within twice of each other.
    EXPECT_NEAR(avx2->l2_squared(a.data(), b.data(), n), scalar.l2_squared(a.data(), b.data(), n),
                2 * float_sum_bound(n, reference_l2_squared(a, b).magnitude));
    EXPECT_NEAR(avx2->dot(a.data(), b.data(), n), scalar.dot(a.data(), b.data(), n),
                2 * float_sum_bound(n, reference_dot(a, b).magnitude));
    EXPECT_NEAR(avx2->l1(a.data(), b.data(), n), scalar.l1(a.data(), b.data(), n),
                2 * float_sum_bound(n, reference_l1(a, b).magnitude));
  }
}

TEST(KernelDispatch, ActiveIsAvx2WhenTheCpuSupportsIt) {
  const char* requested = std::getenv("EMBEDDING_KERNELS");
  if (requested != nullptr && std::string(requested) == "scalar") {
    EXPECT_STREQ(active().name, "scalar");
    GTEST_SKIP() << "EMBEDDING_KERNELS=scalar forces the scalar table";
  }
#if defined(__x86_64__) || defined(__i386__)
  // Asked of the CPU directly, so that an avx2_table() wrongly returning nullptr fails here.
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "this CPU has no AVX2+FMA";
#else
  GTEST_SKIP() << "not an x86 CPU";
#endif
  ASSERT_NE(avx2_table(), nullptr);
  EXPECT_STREQ(active().name, "avx2");
  EXPECT_EQ(&active(), avx2_table());
  EXPECT_EQ(&active(), &active());  // fixed after the first call
}

TEST(KernelDispatch, SelectTableHonoursAScalarRequestAndIgnoresUnknownNames) {
  EXPECT_EQ(&select_table("scalar"), &scalar_table());
  const KernelTable& best = avx2_table() != nullptr ? *avx2_table() : scalar_table();
  EXPECT_EQ(&select_table(nullptr), &best);
  EXPECT_EQ(&select_table("avx2"), &best);
  EXPECT_EQ(&select_table("no-such-isa"), &best);
}

// ---- SQL-level distances -----------------------------------------------------------------

// How close a result from the double-precision fallback must be: a double sum of exact
// products, far tighter than any float32 pass could manage.
constexpr double kDoubleRelative = 1e-12;

// `relative` bounds l2, inner product and cosine; `l1_relative` bounds l1, which has no
// underflow fallback and so may legitimately stay in float32 where the others do not.
void expect_sql_distances_match_reference(const Vec& a, const Vec& b, double relative,
                                          double l1_relative) {
  const std::size_t n = a.size();
  const double l2 = l2_distance(a.data(), b.data(), n);
  const long double l2_ref = std::sqrt(reference_l2_squared(a, b).value);
  EXPECT_TRUE(std::isfinite(l2));
  EXPECT_NEAR(l2, l2_ref, relative * l2_ref);
  if (l2_ref > 0) {
    EXPECT_GT(l2, 0.0);
  }

  const double ip = inner_product(a.data(), b.data(), n);
  const Reference dot = reference_dot(a, b);
  EXPECT_TRUE(std::isfinite(ip));
  EXPECT_NEAR(ip, dot.value, relative * dot.magnitude);
  if (dot.value != 0) {
    EXPECT_NE(ip, 0.0);
  }

  const double l1 = l1_distance(a.data(), b.data(), n);
  const long double l1_ref = reference_l1(a, b).value;
  EXPECT_TRUE(std::isfinite(l1));
  EXPECT_NEAR(l1, l1_ref, l1_relative * l1_ref);

  const double cosine = cosine_distance(a.data(), b.data(), n);
  EXPECT_TRUE(std::isfinite(cosine));
  EXPECT_NEAR(cosine, reference_cosine_distance(a, b), 3 * relative);

  const long double norm_ref = std::sqrt(reference_dot(a, a).value);
  EXPECT_NEAR(norm(a.data(), n), norm_ref, kDoubleRelative * norm_ref);
}

Vec scaled(const Vec& v, float scale) {
  Vec out(v);
  for (float& x : out) x *= scale;
  return out;
}

TEST(SqlDistances, MatchReferenceOnOrdinaryVectors) {
  std::mt19937 rng(11);
  for (const std::size_t n : kLengths) {
    if (n == 0) continue;
    SCOPED_TRACE("n = " + std::to_string(n));
    // Positive terms: the float32 passes are within gamma(n + 2) relative.
    const double relative = float_sum_bound(n, 1);
    expect_sql_distances_match_reference(random_vector(n, rng, 0.5f, 1.5f),
                                         random_vector(n, rng, 0.5f, 1.5f), relative, relative);
  }
}

// Products near 1e76 overflow float32; the double pass must give the finite answer.
TEST(SqlDistances, HugeMagnitudesFallBackToDouble) {
  std::mt19937 rng(12);
  for (const std::size_t n : {1, 2, 7, 16, 33, 100, 768}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Vec a = scaled(random_vector(n, rng, -1.0f, 1.0f), 1e38f);
    const Vec b = scaled(random_vector(n, rng, -1.0f, 1.0f), 1e38f);
    // l1 of one or two elements can stay below FLT_MAX, hence in float32.
    const double l1_relative = float_sum_bound(n, 1);
    expect_sql_distances_match_reference(a, b, kDoubleRelative, l1_relative);
    EXPECT_GT(cosine_distance(a.data(), scaled(a, -1.0f).data(), n), 2.0 - 1e-12);
    const Vec top(n, std::numeric_limits<float>::max());
    const Vec bottom(n, -std::numeric_limits<float>::max());
    expect_sql_distances_match_reference(top, bottom, kDoubleRelative,  // a - b overflows
                                         kDoubleRelative);
    const double top_norm = std::numeric_limits<float>::max() * std::sqrt(double(n));
    EXPECT_NEAR(norm(top.data(), n), top_norm, kDoubleRelative * top_norm);
  }
}

// Squares of 1e-30 (or of denormals) underflow to 0 in float32; the answers are not 0.
TEST(SqlDistances, TinyMagnitudesFallBackToDouble) {
  std::mt19937 rng(13);
  const float denorm = std::numeric_limits<float>::denorm_min();
  for (const std::size_t n : {1, 2, 7, 16, 33, 100, 768}) {
    for (const float scale : {1e-20f, 1e-30f, 1e-38f, 1000 * denorm}) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", scale " + std::to_string(std::log10(scale)));
      const Vec a = scaled(random_vector(n, rng, 0.5f, 1.0f), scale);
      const Vec b = scaled(random_vector(n, rng, -1.0f, -0.5f), scale);
      // Only the double pass can be this close; l1 stays in float32 (sums of tiny
      // differences do not underflow), within gamma(n + 2) relative.
      expect_sql_distances_match_reference(a, b, kDoubleRelative, float_sum_bound(n, 1));
      EXPECT_GT(l2_distance(a.data(), b.data(), n), 0.0);
      EXPECT_LT(inner_product(a.data(), b.data(), n), 0.0);
      EXPECT_GT(norm(a.data(), n), 0.0);
    }
    // Denormal inputs, the smallest there are.
    const Vec a(n, denorm);
    const Vec b(n, 2 * denorm);
    EXPECT_NEAR(l2_distance(a.data(), b.data(), n), denorm * std::sqrt(double(n)),
                1e-12 * denorm * std::sqrt(double(n)));
    EXPECT_NEAR(inner_product(a.data(), b.data(), n), 2.0 * denorm * denorm * n,
                1e-12 * 2.0 * denorm * denorm * n);
    EXPECT_NEAR(cosine_distance(a.data(), b.data(), n), 0.0, 1e-12);
  }
}

TEST(SqlDistances, ZeroVectors) {
  for (const std::size_t n : {1, 3, 16, 100}) {
    const Vec zero(n, 0.0f);
    const Vec ones(n, 1.0f);
    EXPECT_TRUE(std::isnan(cosine_distance(zero.data(), ones.data(), n)));
    EXPECT_TRUE(std::isnan(cosine_distance(ones.data(), zero.data(), n)));
    EXPECT_TRUE(std::isnan(cosine_distance(zero.data(), zero.data(), n)));
    EXPECT_EQ(l2_distance(zero.data(), zero.data(), n), 0.0);
    EXPECT_EQ(l2_distance(zero.data(), ones.data(), n), std::sqrt(double(n)));
    EXPECT_EQ(inner_product(zero.data(), ones.data(), n), 0.0);
    EXPECT_EQ(l1_distance(zero.data(), ones.data(), n), double(n));
    EXPECT_EQ(norm(zero.data(), n), 0.0);
  }
  EXPECT_TRUE(std::isnan(cosine_distance(nullptr, nullptr, 0)));  // empty: no direction either
  EXPECT_EQ(l2_distance(nullptr, nullptr, 0), 0.0);
}

TEST(SqlDistances, IdenticalVectorsAreAtDistanceZero) {
  std::mt19937 rng(14);
  for (const std::size_t n : kLengths) {
    if (n == 0) continue;
    for (const float scale : {1.0f, 1e38f, 1e-30f}) {
      SCOPED_TRACE("n = " + std::to_string(n) + ", scale " + std::to_string(std::log10(scale)));
      const Vec a = scaled(random_vector(n, rng, -1.0f, 1.0f), scale);
      EXPECT_EQ(l2_distance(a.data(), a.data(), n), 0.0);
      EXPECT_EQ(l1_distance(a.data(), a.data(), n), 0.0);
      EXPECT_EQ(cosine_distance(a.data(), a.data(), n), 0.0);
    }
  }
}

// Rounding can put the computed similarity of parallel vectors just past +-1: the distance
// must still be exactly 0 (never negative) or exactly 2 (never above).
TEST(SqlDistances, CosineIsClampedToZeroAndTwo) {
  std::mt19937 rng(15);
  int above_one = 0;
  int below_minus_one = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::size_t n = 1 + trial % 200;
    const Vec a = random_vector(n, rng, -1.0f, 1.0f);
    for (const float factor : {3.0f, -3.0f, 0.7f, -0.7f}) {
      const Vec b = scaled(a, factor);
      float d, na, nb;
      active().dot_norms(a.data(), b.data(), n, &d, &na, &nb);
      const double raw = d / std::sqrt(double(na) * double(nb));
      const double cosine = cosine_distance(a.data(), b.data(), n);
      EXPECT_GE(cosine, 0.0);
      EXPECT_LE(cosine, 2.0);
      if (raw > 1) {
        ++above_one;
        EXPECT_EQ(cosine, 0.0);
      }
      if (raw < -1) {
        ++below_minus_one;
        EXPECT_EQ(cosine, 2.0);
      }
    }
  }
  // Otherwise this test would not have exercised the clamp at all.
  EXPECT_GT(above_one, 0);
  EXPECT_GT(below_minus_one, 0);
}

// Cancellation: the errors stay within the float32 bound relative to sum|terms| (dot, cosine),
// and l2 between close vectors loses nothing: a - b is exact when a and b are within 2x.
TEST(SqlDistances, CancellationStaysWithinBounds) {
  std::mt19937 rng(16);
  for (const std::size_t n : {3, 17, 100, 768, 1536}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Vec base = random_vector(n, rng, 1000.0f, 2000.0f);
    Vec near = base;
    for (float& x : near) x += std::uniform_real_distribution<float>(-1e-3f, 1e-3f)(rng);
    const long double l2_ref = std::sqrt(reference_l2_squared(base, near).value);
    EXPECT_NEAR(l2_distance(base.data(), near.data(), n), l2_ref, 2 * float_sum_bound(n, l2_ref));

    // Alternating signs with large magnitudes: the exact dot is small next to sum|terms|.
    Vec a = random_vector(n, rng, 1e6f, 2e6f);
    for (std::size_t i = 1; i < n; i += 2) a[i] = -a[i];
    const Vec b = random_vector(n, rng, 0.99f, 1.01f);
    const Reference dot = reference_dot(a, b);
    EXPECT_NEAR(inner_product(a.data(), b.data(), n), dot.value, float_sum_bound(n, dot.magnitude));

    // Nearly parallel: the distance is tiny; its absolute error is at most about 3 gamma(n+2)
    // (the dot and both norms each within gamma relative, |similarity| <= 1).
    const double cosine = cosine_distance(base.data(), near.data(), n);
    EXPECT_GE(cosine, 0.0);
    EXPECT_NEAR(cosine, reference_cosine_distance(base, near), 3 * float_sum_bound(n, 1));
  }
  // Summed left to right in float32, 1e8 + 1 rounds to 1e8 and the result is 0; a result that
  // small goes to the double pass, so whatever order a table sums in, the answer is exactly 1.
  const Vec a = {1e8f, 1.0f, -1e8f};
  const Vec b = {1.0f, 1.0f, 1.0f};
  EXPECT_EQ(inner_product(a.data(), b.data(), 3), 1.0);
}

}  // namespace
}  // namespace embedding::kernels
