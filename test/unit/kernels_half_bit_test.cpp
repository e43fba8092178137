// Unit tests for the halfvec and bit kernels: every table the host supports against long-double
// and bit-by-bit references, the bulk half <-> float conversions against the scalar ones, reads
// and writes that must stop at the end of unaligned arrays, and the SQL-level distances.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "core/vector/half.h"
#include "core/vector/kernels.h"

namespace embedding::kernels {
namespace {

using vec::float_to_half;
using vec::half_to_float;
using Halfs = std::vector<Half>;
using Bytes = std::vector<std::uint8_t>;

const std::size_t kLengths[] = {0,  1,  2,  3,   7,   8,    9,    15,   16,
                                17, 31, 33, 100, 384, 1536, 3072, 16000};

std::uint32_t bits_of(float f) { return std::bit_cast<std::uint32_t>(f); }
float float_of(std::uint32_t u) { return std::bit_cast<float>(u); }

// ---- References ----------------------------------------------------------------------------

// The four sums of the half kernels in long double, over the exact float values of the halfs,
// each with the sum of |terms| that its error bound scales with.
struct HalfSums {
  long double l2 = 0, dot = 0, l1 = 0, aa = 0, bb = 0;
  long double dot_magnitude = 0;
};

HalfSums reference_sums(const Half* a, const Half* b, std::size_t n) {
  HalfSums s;
  for (std::size_t i = 0; i < n; ++i) {
    const long double x = half_to_float(a[i]);
    const long double y = half_to_float(b[i]);
    s.l2 += (x - y) * (x - y);
    s.dot += x * y;
    s.dot_magnitude += std::fabs(x * y);
    s.l1 += std::fabs(x - y);
    s.aa += x * x;
    s.bb += y * y;
  }
  return s;
}

// Worst case for a float32 sum of n terms in any order: at most n + 2 roundings per term, so
// the error is at most gamma(n + 2) * sum|terms| with gamma(k) = k u / (1 - k u), u = 2^-24
// (Higham, 3.1). Products of halfs never reach float32's subnormal range.
double float_sum_bound(std::size_t n, long double magnitude) {
  const double k_u = static_cast<double>(n + 2) * std::ldexp(1.0, -24);
  return k_u / (1 - k_u) * static_cast<double>(magnitude);
}

// Bit by bit, the slowest way there is.
struct BitCounts {
  std::uint64_t hamming = 0, both = 0, a = 0, b = 0;
};

BitCounts reference_bits(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  BitCounts c;
  for (std::size_t i = 0; i < bytes; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      const bool x = (a[i] >> bit) & 1;
      const bool y = (b[i] >> bit) & 1;
      c.hamming += x != y;
      c.both += x && y;
      c.a += x;
      c.b += y;
    }
  }
  return c;
}

// ---- Inputs ----------------------------------------------------------------------------

Halfs random_halfs(std::size_t n, std::mt19937& rng, float low, float high) {
  std::uniform_real_distribution<float> dist(low, high);
  Halfs v(n);
  for (Half& h : v) h = float_to_half(dist(rng));
  return v;
}

// Subnormal halfs (|x| < 2^-14), either sign, never zero.
Halfs subnormal_halfs(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> mantissa(1, 0x3ff);
  std::bernoulli_distribution negative(0.5);
  Halfs v(n);
  for (Half& h : v) h = static_cast<Half>((negative(rng) ? 0x8000 : 0) | mantissa(rng));
  return v;
}

// +-65504 (the largest finite half) and a few other large values.
Halfs extreme_halfs(std::size_t n, std::mt19937& rng) {
  const Half choices[] = {0x7bff, 0xfbff, 0x7bfe, 0x7800 /* 32768 */, 0xfbfe};
  std::uniform_int_distribution<std::size_t> pick(0, std::size(choices) - 1);
  Halfs v(n);
  for (Half& h : v) h = choices[pick(rng)];
  return v;
}

// Nonzero small integers: every sum is exact in float32 for n <= 16000, so a kernel that skips
// or repeats an element gives a different result.
Halfs small_integer_halfs(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(1, 3);
  std::bernoulli_distribution negative(0.5);
  Halfs v(n);
  for (Half& h : v) h = float_to_half(static_cast<float>(negative(rng) ? -dist(rng) : dist(rng)));
  return v;
}

Bytes random_bytes(std::size_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> dist(0, 255);
  Bytes v(n);
  for (std::uint8_t& x : v) x = static_cast<std::uint8_t>(dist(rng));
  return v;
}

// Two pages, the second PROT_NONE: an array that ends at end() crashes a kernel that reads or
// writes one byte too far.
class GuardedPage {
 public:
  GuardedPage() : page_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))) {
    void* p = mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(p, MAP_FAILED);
    base_ = static_cast<char*>(p);
    EXPECT_EQ(mprotect(base_ + page_, page_, PROT_NONE), 0);
  }
  ~GuardedPage() { munmap(base_, 2 * page_); }
  GuardedPage(const GuardedPage&) = delete;
  GuardedPage& operator=(const GuardedPage&) = delete;

  // Room for `count` elements of T that end right at the guard page.
  template <typename T>
  T* at_end(std::size_t count) {
    return reinterpret_cast<T*>(base_ + page_ - count * sizeof(T));
  }
  // A copy of v that ends right at the guard page.
  template <typename T>
  T* copy_to_end(const std::vector<T>& v) {
    T* p = at_end<T>(v.size());
    if (!v.empty()) std::memcpy(p, v.data(), v.size() * sizeof(T));
    return p;
  }

 private:
  std::size_t page_;
  char* base_ = nullptr;
};

// For every length from 0 to max_length: two arrays from make(length), each copied to end right
// at a guard page (so at every alignment the element size allows), then check(a, b, length).
template <typename Make, typename Check>
void at_guard_pages(std::size_t max_length, Make make, Check check) {
  GuardedPage page_a, page_b;
  for (std::size_t n = 0; n <= max_length; ++n) {
    SCOPED_TRACE("length " + std::to_string(n));
    check(page_a.copy_to_end(make(n)), page_b.copy_to_end(make(n)), n);
  }
}

// ---- One fixture per group, run once per table -------------------------------------------

class TableTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    table_ = GetParam() == "scalar" ? &scalar_table() : avx2_table();
    if (table_ == nullptr) GTEST_SKIP() << "this CPU (or build) has no AVX2+FMA+F16C+POPCNT";
    ASSERT_STREQ(table_->name, GetParam().c_str());
  }

  void expect_half_sums_near_reference(const Half* a, const Half* b, std::size_t n) {
    const HalfSums ref = reference_sums(a, b, n);
    EXPECT_NEAR(table_->half_l2_squared(a, b, n), ref.l2, float_sum_bound(n, ref.l2));
    EXPECT_NEAR(table_->half_dot(a, b, n), ref.dot, float_sum_bound(n, ref.dot_magnitude));
    EXPECT_NEAR(table_->half_l1(a, b, n), ref.l1, float_sum_bound(n, ref.l1));
    float dot = -1, norm_a = -1, norm_b = -1;
    table_->half_dot_norms(a, b, n, &dot, &norm_a, &norm_b);
    EXPECT_NEAR(dot, ref.dot, float_sum_bound(n, ref.dot_magnitude));
    EXPECT_NEAR(norm_a, ref.aa, float_sum_bound(n, ref.aa));
    EXPECT_NEAR(norm_b, ref.bb, float_sum_bound(n, ref.bb));
  }

  // For inputs whose sums are exact in float32: every kernel must give exactly the reference.
  void expect_half_sums_exact(const Half* a, const Half* b, std::size_t n) {
    const HalfSums ref = reference_sums(a, b, n);
    EXPECT_EQ(table_->half_l2_squared(a, b, n), ref.l2);
    EXPECT_EQ(table_->half_dot(a, b, n), ref.dot);
    EXPECT_EQ(table_->half_l1(a, b, n), ref.l1);
    float dot = -1, norm_a = -1, norm_b = -1;
    table_->half_dot_norms(a, b, n, &dot, &norm_a, &norm_b);
    EXPECT_EQ(dot, ref.dot);
    EXPECT_EQ(norm_a, ref.aa);
    EXPECT_EQ(norm_b, ref.bb);
  }

  void expect_bits_match_reference(const std::uint8_t* a, const std::uint8_t* b,
                                   std::size_t bytes) {
    const BitCounts ref = reference_bits(a, b, bytes);
    EXPECT_EQ(table_->bit_hamming(a, b, bytes), ref.hamming);
    std::uint64_t both = 99, count_a = 99, count_b = 99;
    table_->bit_jaccard_counts(a, b, bytes, &both, &count_a, &count_b);
    EXPECT_EQ(both, ref.both);
    EXPECT_EQ(count_a, ref.a);
    EXPECT_EQ(count_b, ref.b);
  }

  const KernelTable* table_ = nullptr;
};

class HalfKernelsTest : public TableTest {};
class HalfConversionsTest : public TableTest {};
class BitKernelsTest : public TableTest {};

// ---- Half kernels --------------------------------------------------------------------------

TEST_P(HalfKernelsTest, MatchReferenceWithinFloatErrorBound) {
  std::mt19937 rng(1234);
  for (const std::size_t n : kLengths) {
    SCOPED_TRACE("n = " + std::to_string(n));
    for (const auto& [low, high] :
         {std::pair{-1.0f, 1.0f}, std::pair{0.5f, 1.5f}, std::pair{-65504.0f, 65504.0f}}) {
      SCOPED_TRACE("range " + std::to_string(low) + " .. " + std::to_string(high));
      const Halfs a = random_halfs(n, rng, low, high);
      const Halfs b = random_halfs(n, rng, low, high);
      expect_half_sums_near_reference(a.data(), b.data(), n);
    }
    SCOPED_TRACE("+-65504 and subnormals");
    const Halfs extreme = extreme_halfs(n, rng);
    const Halfs tiny = subnormal_halfs(n, rng);
    expect_half_sums_near_reference(extreme.data(), extreme_halfs(n, rng).data(), n);
    expect_half_sums_near_reference(tiny.data(), subnormal_halfs(n, rng).data(), n);
    expect_half_sums_near_reference(extreme.data(), tiny.data(), n);
  }
}

// Products of subnormal halfs (down to 2^-48) are normal floats: nothing may be flushed to 0.
// Sums of powers of two and of 65504 = 2047 * 2^5 are exact for these lengths.
TEST_P(HalfKernelsTest, SubnormalsAndTheLargestHalf) {
  for (const std::size_t n : {1, 7, 8, 9, 33, 100}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Halfs smallest(n, 0x0001);  // 2^-24
    const Halfs twice(n, 0x0002);     // 2^-23
    const Halfs largest(n, 0x7bff);   // 65504
    const Halfs negative(n, 0xfbff);  // -65504
    expect_half_sums_exact(smallest.data(), twice.data(), n);
    EXPECT_EQ(table_->half_dot(smallest.data(), smallest.data(), n), n * std::ldexp(1.0f, -48));
    EXPECT_EQ(table_->half_dot(largest.data(), smallest.data(), n), n * std::ldexp(2047.0f, -19));
    EXPECT_EQ(table_->half_l1(largest.data(), negative.data(), n), n * 131008.0f);
    const double l2 = n * 131008.0 * 131008.0;
    EXPECT_NEAR(table_->half_l2_squared(largest.data(), negative.data(), n), l2,
                float_sum_bound(n, l2));
    expect_half_sums_near_reference(largest.data(), negative.data(), n);
  }
}

TEST_P(HalfKernelsTest, ExactOnSmallIntegersForEveryLength) {
  std::mt19937 rng(99);
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 130; ++n) lengths.push_back(n);
  lengths.insert(lengths.end(), {384, 767, 768, 769, 1536, 3072, 16000});
  for (const std::size_t n : lengths) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Halfs a = small_integer_halfs(n, rng);
    const Halfs b = small_integer_halfs(n, rng);
    expect_half_sums_exact(a.data(), b.data(), n);
  }
}

// Halfs that end exactly at a PROT_NONE page, so 2-byte aligned only: a tail that reads one
// element too far crashes, and a wrong tail gives a wrong sum.
TEST_P(HalfKernelsTest, UnalignedAndNeverReadPastTheEnd) {
  std::mt19937 rng(7);
  at_guard_pages(
      70, [&](std::size_t n) { return small_integer_halfs(n, rng); },
      [&](const Half* a, const Half* b, std::size_t n) { expect_half_sums_exact(a, b, n); });
}

// The same random vector at an address 2 bytes off 16- and 32-byte alignment gives the very
// same sums as at an aligned one.
TEST_P(HalfKernelsTest, OddAddressGivesTheSameResult) {
  std::mt19937 rng(8);
  for (const std::size_t n : kLengths) {
    SCOPED_TRACE("n = " + std::to_string(n));
    // An aligned copy at the start, an odd one 2 * (16000 + 33) bytes in: 2 mod 32.
    constexpr std::size_t kOdd = 16000 + 33;
    alignas(32) static Half storage_a[2 * kOdd], storage_b[2 * kOdd];
    const Halfs a = random_halfs(n, rng, -1.0f, 1.0f);
    const Halfs b = random_halfs(n, rng, -1.0f, 1.0f);
    std::copy(a.begin(), a.end(), storage_a);
    std::copy(b.begin(), b.end(), storage_b);
    std::copy(a.begin(), a.end(), storage_a + kOdd);
    std::copy(b.begin(), b.end(), storage_b + kOdd);
    const Half* odd_a = storage_a + kOdd;
    const Half* odd_b = storage_b + kOdd;
    EXPECT_EQ(table_->half_l2_squared(odd_a, odd_b, n),
              table_->half_l2_squared(storage_a, storage_b, n));
    EXPECT_EQ(table_->half_dot(odd_a, odd_b, n), table_->half_dot(storage_a, storage_b, n));
    EXPECT_EQ(table_->half_l1(odd_a, odd_b, n), table_->half_l1(storage_a, storage_b, n));
    expect_half_sums_near_reference(odd_a, odd_b, n);
  }
}

TEST_P(HalfKernelsTest, IdenticalVectorsGiveZeroDistanceAndEqualPartials) {
  std::mt19937 rng(5);
  for (const std::size_t n : kLengths) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Halfs a = random_halfs(n, rng, -100.0f, 100.0f);
    EXPECT_EQ(table_->half_l2_squared(a.data(), a.data(), n), 0.0f);
    EXPECT_EQ(table_->half_l1(a.data(), a.data(), n), 0.0f);
    float dot = -1, norm_a = -1, norm_b = -1;
    table_->half_dot_norms(a.data(), a.data(), n, &dot, &norm_a, &norm_b);
    // Bit-identical, which is what makes the cosine distance exactly 0.
    EXPECT_EQ(dot, norm_a);
    EXPECT_EQ(norm_a, norm_b);
    EXPECT_EQ(dot, table_->half_dot(a.data(), a.data(), n));
  }
}

// ---- Bulk conversions ----------------------------------------------------------------------

void expect_same_halfs(const Half* actual, const Half* expected, std::size_t n) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (actual[i] == expected[i]) continue;
    if (++wrong <= 5)
      ADD_FAILURE() << "element " << i << ": 0x" << std::hex << actual[i] << " instead of 0x"
                    << expected[i];
  }
  EXPECT_EQ(wrong, 0u);
}

void expect_same_float_bits(const float* actual, const float* expected, std::size_t n) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (bits_of(actual[i]) == bits_of(expected[i])) continue;
    if (++wrong <= 5)
      ADD_FAILURE() << "element " << i << ": 0x" << std::hex << bits_of(actual[i])
                    << " instead of 0x" << bits_of(expected[i]);
  }
  EXPECT_EQ(wrong, 0u);
}

// Every half, NaNs (quiet and signalling, either sign) included.
TEST_P(HalfConversionsTest, HalfToFloatEqualsScalarForAllHalfs) {
  Halfs all(65536);
  std::vector<float> expected(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    all[i] = static_cast<Half>(i);
    expected[i] = half_to_float(all[i]);
  }
  std::vector<float> out(all.size(), -1.0f);
  table_->half_to_float(all.data(), out.data(), all.size());
  expect_same_float_bits(out.data(), expected.data(), all.size());
  // Exact: back to the same half for every non-NaN.
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!vec::half_is_nan(all[i])) {
      ASSERT_EQ(float_to_half(out[i]), all[i]) << i;
    }
  }
}

// Values whose half is known independently of either implementation.
TEST_P(HalfConversionsTest, FloatToHalfOnEdgeCases) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::pair<float, Half> cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3c00},
      {-2.0f, 0xc000},
      {65504.0f, 0x7bff},
      {-65504.0f, 0xfbff},
      {65519.99f, 0x7bff},  // below the midpoint to the next (infinite) step: 65504
      {65520.0f, 0x7c00},   // the midpoint: ties to even, past 65504, so infinity
      {-65520.0f, 0xfc00},
      {1e6f, 0x7c00},
      {std::numeric_limits<float>::max(), 0x7c00},
      {inf, 0x7c00},
      {-inf, 0xfc00},
      {nan, 0x7e00},
      {-nan, 0xfe00},
      {float_of(0x7f800001), 0x7e00},  // signalling NaN: quietened
      {float_of(0xffbfffff), 0xfe00},
      {float_of(0x7fffffff), 0x7e00},
      {std::ldexp(1.0f, -14), 0x0400},                        // smallest normal half
      {std::ldexp(1.0f, -24), 0x0001},                        // smallest subnormal half
      {std::ldexp(1023.0f, -24), 0x03ff},                     // largest subnormal half
      {std::ldexp(1.0f, -25), 0x0000},                        // tie between 0 and 2^-24: even
      {std::ldexp(3.0f, -25), 0x0002},                        // tie: to even (2 * 2^-24)
      {std::nextafter(std::ldexp(1.0f, -25), 1.0f), 0x0001},  // just past the tie
      {-std::ldexp(1.0f, -26), 0x8000},                       // rounds to -0
      {std::ldexp(2047.0f, -25), 0x0400},                     // tie between 0x3ff and 0x400
      {1.0f + std::ldexp(1.0f, -11), 0x3c00},                 // tie: down to even
      {1.0f + std::ldexp(3.0f, -11), 0x3c02},                 // tie: up to even
      {std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f), 0x3c01},
      {std::numeric_limits<float>::denorm_min(), 0x0000},
      {-std::numeric_limits<float>::denorm_min(), 0x8000},
      {std::numeric_limits<float>::min(), 0x0000},
  };
  std::vector<float> in;
  Halfs expected;
  for (const auto& [f, h] : cases) {
    in.push_back(f);
    expected.push_back(h);
    EXPECT_EQ(float_to_half(f), h) << "scalar, 0x" << std::hex << bits_of(f);
  }
  // Each case alone (the tail path) and all together (the block path).
  for (std::size_t i = 0; i < in.size(); ++i) {
    Half out = 0x1234;
    table_->float_to_half(&in[i], &out, 1);
    EXPECT_EQ(out, expected[i]) << "case " << i << ", 0x" << std::hex << bits_of(in[i]);
  }
  Halfs out(in.size(), 0x1234);
  table_->float_to_half(in.data(), out.data(), in.size());
  expect_same_halfs(out.data(), expected.data(), in.size());
}

// A few million floats: any bit pattern (mostly far outside the half range, NaNs included), and
// floats inside it with every exponent, subnormals and ties included.
TEST_P(HalfConversionsTest, FloatToHalfEqualsScalarOnMillionsOfFloats) {
  std::mt19937 rng(2024);
  std::uniform_int_distribution<std::uint32_t> any_bits;
  std::uniform_int_distribution<std::uint32_t> exponent(127 - 27, 127 + 16);  // 2^-27 .. 2^16
  std::uniform_int_distribution<std::uint32_t> mantissa(0, 0x7fffff);
  std::uniform_int_distribution<std::uint32_t> low_bits(0, 3);
  constexpr std::size_t kCount = 1 << 21;
  std::vector<float> in(3 * kCount);
  for (std::size_t i = 0; i < kCount; ++i) {
    in[i] = float_of(any_bits(rng));
    const std::uint32_t sign = any_bits(rng) & 0x80000000u;
    in[kCount + i] = float_of(sign | exponent(rng) << 23 | mantissa(rng));
    // Mantissas near a rounding point: the 13 bits a normal half drops are 0x0fff..0x1001.
    in[2 * kCount + i] = float_of(sign | exponent(rng) << 23 | (mantissa(rng) & ~0x1fffu) |
                                  (0x0fffu + low_bits(rng)));
  }
  Halfs expected(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) expected[i] = float_to_half(in[i]);
  Halfs out(in.size(), 0x1234);
  table_->float_to_half(in.data(), out.data(), in.size());
  expect_same_halfs(out.data(), expected.data(), in.size());
}

// Every length from 0 to 40 at arrays that end at a guard page (2-byte aligned halfs): the
// tails convert what they should and touch nothing past the end.
TEST_P(HalfConversionsTest, TailsNeverReadOrWritePastTheEnd) {
  GuardedPage page_in, page_out;
  std::mt19937 rng(3);
  for (std::size_t n = 0; n <= 40; ++n) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const Halfs halfs = random_halfs(n, rng, -1000.0f, 1000.0f);
    const Half* h = page_in.copy_to_end(halfs);
    float* f = page_out.at_end<float>(n);
    for (std::size_t i = 0; i < n; ++i) f[i] = -1.0f;
    table_->half_to_float(h, f, n);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(f[i], half_to_float(halfs[i])) << i;

    float* f_in = page_in.at_end<float>(n);
    for (std::size_t i = 0; i < n; ++i) f_in[i] = 0.001f * static_cast<float>(i * 977) - 3.0f;
    Half* h_out = page_out.at_end<Half>(n + 1);  // one sentinel before the output
    for (std::size_t i = 0; i <= n; ++i) h_out[i] = 0x1234;
    table_->float_to_half(f_in, h_out + 1, n);
    EXPECT_EQ(h_out[0], 0x1234);
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(h_out[1 + i], float_to_half(f_in[i])) << i;
  }
}

// ---- Bit kernels ---------------------------------------------------------------------------

TEST_P(BitKernelsTest, MatchBitByBitReference) {
  std::mt19937 rng(21);
  std::vector<std::size_t> lengths;
  for (std::size_t bytes = 0; bytes <= 70; ++bytes) lengths.push_back(bytes);
  lengths.push_back(8000);  // 64,000 bits
  for (const std::size_t bytes : lengths) {
    SCOPED_TRACE("bytes = " + std::to_string(bytes));
    const Bytes a = random_bytes(bytes, rng);
    const Bytes b = random_bytes(bytes, rng);
    const Bytes ones(bytes, 0xff);
    const Bytes zeros(bytes, 0x00);
    for (const Bytes* x : {&a, &ones, &zeros}) {
      for (const Bytes* y : {&b, &ones, &zeros})
        expect_bits_match_reference(x->data(), y->data(), bytes);
    }
    // A string against itself.
    expect_bits_match_reference(a.data(), a.data(), bytes);
  }
}

// All-ones strings give counts that show every byte was counted exactly once.
TEST_P(BitKernelsTest, AllOnesCountsEveryBit) {
  for (const std::size_t bytes : {0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 384, 8000}) {
    SCOPED_TRACE("bytes = " + std::to_string(bytes));
    const Bytes ones(bytes, 0xff);
    const Bytes zeros(bytes, 0x00);
    EXPECT_EQ(table_->bit_hamming(ones.data(), zeros.data(), bytes), 8 * bytes);
    EXPECT_EQ(table_->bit_hamming(ones.data(), ones.data(), bytes), 0u);
    std::uint64_t both = 0, count_a = 0, count_b = 0;
    table_->bit_jaccard_counts(ones.data(), ones.data(), bytes, &both, &count_a, &count_b);
    EXPECT_EQ(both, 8 * bytes);
    EXPECT_EQ(count_a, 8 * bytes);
    EXPECT_EQ(count_b, 8 * bytes);
  }
}

// Strings at every byte offset that end at a guard page: unaligned words, and a tail that
// stops at the last byte.
TEST_P(BitKernelsTest, UnalignedAndNeverReadPastTheEnd) {
  std::mt19937 rng(22);
  at_guard_pages(
      70, [&](std::size_t bytes) { return random_bytes(bytes, rng); },
      [&](const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
        expect_bits_match_reference(a, b, bytes);
      });
  // One byte off alignment, a long string.
  const Bytes va = random_bytes(8001, rng);
  const Bytes vb = random_bytes(8001, rng);
  expect_bits_match_reference(va.data() + 1, vb.data() + 1, 8000);
}

INSTANTIATE_TEST_SUITE_P(Tables, HalfKernelsTest, ::testing::Values("scalar", "avx2"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Tables, HalfConversionsTest, ::testing::Values("scalar", "avx2"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Tables, BitKernelsTest, ::testing::Values("scalar", "avx2"),
                         [](const auto& info) { return info.param; });

// ---- Dispatch --------------------------------------------------------------------------------

TEST(HalfBitKernelDispatch, Avx2TableWhenTheCpuHasEveryExtension) {
#if defined(__x86_64__) || defined(__i386__)
  // Asked of the CPU directly (F16C by CPUID: clang 14 has no "f16c" cpu_supports feature), so
  // that an avx2_table() wrongly returning nullptr, or a table despite a missing extension, fails.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
  const bool has_all = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                       __builtin_cpu_supports("popcnt") && f16c;
  if (!has_all) {
    EXPECT_EQ(avx2_table(), nullptr);
    GTEST_SKIP() << "this CPU lacks one of AVX2, FMA, F16C, POPCNT";
  }
  ASSERT_NE(avx2_table(), nullptr);
  EXPECT_STREQ(avx2_table()->name, "avx2");
#else
  EXPECT_EQ(avx2_table(), nullptr);
#endif
}

// ---- SQL-level distances -------------------------------------------------------------------

TEST(HalfSqlDistances, MatchReference) {
  std::mt19937 rng(31);
  for (const std::size_t n : kLengths) {
    if (n == 0) continue;
    SCOPED_TRACE("n = " + std::to_string(n));
    // Positive terms: each float32 sum is within gamma(n + 2) relative.
    const double relative = float_sum_bound(n, 1);
    const Halfs a = random_halfs(n, rng, 0.5f, 1.5f);
    const Halfs b = random_halfs(n, rng, 0.5f, 1.5f);
    const HalfSums ref = reference_sums(a.data(), b.data(), n);
    const long double l2 = std::sqrt(ref.l2);
    EXPECT_NEAR(half_l2_distance(a.data(), b.data(), n), l2, relative * l2);
    EXPECT_NEAR(half_inner_product(a.data(), b.data(), n), ref.dot, relative * ref.dot);
    EXPECT_NEAR(half_l1_distance(a.data(), b.data(), n), ref.l1, relative * ref.l1);
    const long double cosine = 1 - ref.dot / std::sqrt(ref.aa * ref.bb);
    EXPECT_NEAR(half_cosine_distance(a.data(), b.data(), n), cosine, 3 * relative);
    // Accumulated in double: far tighter than float32.
    const long double norm = std::sqrt(ref.aa);
    EXPECT_NEAR(half_norm(a.data(), n), norm, 1e-12 * norm);
  }
  // The norm of the largest halfs overflows nothing.
  const Halfs largest(16000, 0x7bff);
  EXPECT_NEAR(half_norm(largest.data(), largest.size()), 65504.0 * std::sqrt(16000.0),
              1e-12 * 65504.0 * std::sqrt(16000.0));
  const double l2 = 131008.0 * std::sqrt(16000.0);
  EXPECT_NEAR(half_l2_distance(largest.data(), Halfs(16000, 0xfbff).data(), 16000), l2,
              float_sum_bound(16000, 1) * l2);
}

TEST(HalfSqlDistances, ZeroAndIdenticalVectors) {
  std::mt19937 rng(32);
  for (const std::size_t n : kLengths) {
    if (n == 0) continue;
    SCOPED_TRACE("n = " + std::to_string(n));
    const Halfs zero(n, 0x0000);
    const Halfs negative_zero(n, 0x8000);
    const Halfs ones(n, 0x3c00);
    EXPECT_TRUE(std::isnan(half_cosine_distance(zero.data(), ones.data(), n)));
    EXPECT_TRUE(std::isnan(half_cosine_distance(ones.data(), negative_zero.data(), n)));
    EXPECT_TRUE(std::isnan(half_cosine_distance(zero.data(), zero.data(), n)));
    EXPECT_EQ(half_l2_distance(zero.data(), ones.data(), n), std::sqrt(double(n)));
    EXPECT_EQ(half_l1_distance(zero.data(), ones.data(), n), double(n));
    EXPECT_EQ(half_inner_product(zero.data(), ones.data(), n), 0.0);
    EXPECT_EQ(half_norm(zero.data(), n), 0.0);
    EXPECT_EQ(half_cosine_distance(ones.data(), ones.data(), n), 0.0);

    for (const auto& [low, high] : {std::pair{-1.0f, 1.0f}, std::pair{-65504.0f, 65504.0f}}) {
      const Halfs a = random_halfs(n, rng, low, high);
      EXPECT_EQ(half_l2_distance(a.data(), a.data(), n), 0.0);
      EXPECT_EQ(half_l1_distance(a.data(), a.data(), n), 0.0);
      EXPECT_EQ(half_cosine_distance(a.data(), a.data(), n), 0.0);
    }
    const Halfs tiny = subnormal_halfs(n, rng);
    EXPECT_EQ(half_cosine_distance(tiny.data(), tiny.data(), n), 0.0);
  }
  EXPECT_TRUE(std::isnan(half_cosine_distance(nullptr, nullptr, 0)));
  EXPECT_EQ(half_l2_distance(nullptr, nullptr, 0), 0.0);
  EXPECT_EQ(half_norm(nullptr, 0), 0.0);
}

// Nearly parallel vectors (b = a * factor, rounded to halfs): rounding puts the computed
// similarity past +-1 now and then, and the distance must still be exactly 0 or 2.
TEST(HalfSqlDistances, CosineIsClampedToZeroAndTwo) {
  std::mt19937 rng(33);
  int above_one = 0;
  int below_minus_one = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const std::size_t n = 1 + trial % 200;
    const Halfs a = random_halfs(n, rng, -1.0f, 1.0f);
    for (const float factor : {3.0f, -3.0f, 0.7f, -0.7f}) {
      Halfs b(a);
      for (Half& h : b) h = float_to_half(factor * half_to_float(h));
      float dot, norm_a, norm_b;
      active().half_dot_norms(a.data(), b.data(), n, &dot, &norm_a, &norm_b);
      const double raw = dot / std::sqrt(double(norm_a) * double(norm_b));
      const double cosine = half_cosine_distance(a.data(), b.data(), n);
      above_one += raw > 1;
      below_minus_one += raw < -1;
      if (std::isnan(raw)) {  // a rounded to all zeros
        EXPECT_TRUE(std::isnan(cosine));
      } else {
        EXPECT_EQ(cosine, 1.0 - std::clamp(raw, -1.0, 1.0)) << "similarity " << raw;
      }
    }
  }
  // Otherwise this test would not have exercised the clamp at all.
  EXPECT_GT(above_one, 0);
  EXPECT_GT(below_minus_one, 0);
}

TEST(BitSqlDistances, HammingAndJaccard) {
  const Bytes zeros(48, 0x00);
  const Bytes ones(48, 0xff);
  EXPECT_EQ(bit_hamming_distance(zeros.data(), ones.data(), 48), 384.0);
  EXPECT_EQ(bit_hamming_distance(ones.data(), ones.data(), 48), 0.0);
  // pgvector: 1 when nothing is shared, two zero strings included (not 0/0).
  EXPECT_EQ(bit_jaccard_distance(zeros.data(), zeros.data(), 48), 1.0);
  EXPECT_EQ(bit_jaccard_distance(zeros.data(), ones.data(), 48), 1.0);
  EXPECT_EQ(bit_jaccard_distance(nullptr, nullptr, 0), 1.0);
  EXPECT_EQ(bit_hamming_distance(nullptr, nullptr, 0), 0.0);
  EXPECT_EQ(bit_jaccard_distance(ones.data(), ones.data(), 48), 0.0);

  // 1100 and 1010: one shared bit of three set in either.
  const std::uint8_t a = 0b1100, b = 0b1010, c = 0b0011;
  EXPECT_EQ(bit_hamming_distance(&a, &b, 1), 2.0);
  EXPECT_DOUBLE_EQ(bit_jaccard_distance(&a, &b, 1), 1.0 - 1.0 / 3.0);
  EXPECT_EQ(bit_jaccard_distance(&a, &c, 1), 1.0);  // disjoint, non-zero

  std::mt19937 rng(34);
  for (const std::size_t bytes : {1, 9, 48, 192, 384, 8000}) {
    SCOPED_TRACE("bytes = " + std::to_string(bytes));
    const Bytes x = random_bytes(bytes, rng);
    const Bytes y = random_bytes(bytes, rng);
    const BitCounts ref = reference_bits(x.data(), y.data(), bytes);
    EXPECT_EQ(bit_hamming_distance(x.data(), y.data(), bytes), double(ref.hamming));
    const double jaccard =
        ref.both == 0 ? 1.0 : 1.0 - double(ref.both) / double(ref.a + ref.b - ref.both);
    EXPECT_EQ(bit_jaccard_distance(x.data(), y.data(), bytes), jaccard);
    EXPECT_EQ(bit_jaccard_distance(x.data(), x.data(), bytes), ref.a == 0 ? 1.0 : 0.0);
  }
}

}  // namespace
}  // namespace embedding::kernels
