// The GloVe rows of the in-process benchmarks (test/bench/glove_to_fvecs.js writes the file:
// int32 rows, int32 dims, float32 rows), split as hnsw_vs_hnswlib_tool has always split them:
// every row normalised, `queries` rows drawn with mt19937_64(seed), the rest in order as the
// base; and the exact top-k by cosine.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/hnsw/params.h"
#include "core/vector/kernels.h"
#include "core/vector/normalize.h"
#include "core/vector/stored_distance.h"

namespace bench {

struct Matrix {
  std::size_t rows = 0, dims = 0;
  std::vector<float> values;
  const float* row(std::size_t i) const { return values.data() + i * dims; }
};

// rows x dims float32s from `in`; exits naming `file` when they are not all there.
inline Matrix read_values(std::ifstream& in, std::size_t rows, std::size_t dims,
                          const std::string& file) {
  Matrix m;
  m.rows = rows;
  m.dims = dims;
  m.values.resize(rows * dims);
  in.read(reinterpret_cast<char*>(m.values.data()),
          static_cast<std::streamsize>(m.values.size() * sizeof(float)));
  if (!in) {
    std::fprintf(stderr, "%s is truncated\n", file.c_str());
    std::exit(1);
  }
  return m;
}

inline Matrix read_matrix(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s (test/bench/hnsw_vs_hnswlib.sh makes it)\n", file.c_str());
    std::exit(1);
  }
  std::int32_t header[2];
  in.read(reinterpret_cast<char*>(header), sizeof header);
  return read_values(in, static_cast<std::size_t>(header[0]), static_cast<std::size_t>(header[1]),
                     file);
}

// A float32 C-order 2-d .npy file (format version 1 or 2), such as hnsw_sql_bench.py's caches.
inline Matrix read_npy(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    std::fprintf(stderr, "%s is not a .npy file\n", file.c_str());
    std::exit(1);
  }
  std::uint32_t header_len = 0;
  if (magic[6] == 1) {
    std::uint16_t len16;
    in.read(reinterpret_cast<char*>(&len16), 2);
    header_len = len16;
  } else {
    in.read(reinterpret_cast<char*>(&header_len), 4);
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  const std::size_t shape = header.find("'shape': (");
  std::size_t rows = 0, dims = 0;
  if (header.find("'<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos || shape == std::string::npos ||
      std::sscanf(header.c_str() + shape + 10, "%zu, %zu", &rows, &dims) != 2) {
    std::fprintf(stderr, "%s: only float32 C-order 2-d arrays\n", file.c_str());
    std::exit(1);
  }
  return read_values(in, rows, dims, file);
}

// Normalises every row of `all`, then moves `query_count` drawn rows to `queries` and the rest,
// in order, to `base`.
inline void split(Matrix all, std::size_t query_count, std::uint64_t seed, Matrix& base,
                  Matrix& queries) {
  for (std::size_t i = 0; i < all.rows; ++i)
    embedding::vec::normalize(all.values.data() + i * all.dims, all.dims,
                              embedding::vec::NoDirection::kKeep);
  std::mt19937_64 rng(seed);
  std::vector<bool> is_query(all.rows, false);
  queries = Matrix{query_count, all.dims, {}};
  for (std::size_t q = 0; q < query_count; ++q) {
    std::size_t pick;
    do pick = rng() % all.rows;
    while (is_query[pick]);
    is_query[pick] = true;
    queries.values.insert(queries.values.end(), all.row(pick), all.row(pick) + all.dims);
  }
  base = Matrix{0, all.dims, {}};
  base.values.reserve(all.values.size());
  for (std::size_t i = 0; i < all.rows; ++i) {
    if (is_query[i]) continue;
    base.values.insert(base.values.end(), all.row(i), all.row(i) + all.dims);
    ++base.rows;
  }
}

// Exact top-k of each query among the first `rows` base rows by cosine (largest dot of
// normalised rows), two threads over the queries.
inline std::vector<std::vector<embedding::hnsw::NodeId>> ground_truth(const Matrix& base,
                                                                      std::size_t rows,
                                                                      const Matrix& queries,
                                                                      std::size_t k) {
  std::vector<std::vector<embedding::hnsw::NodeId>> truth(queries.rows);
  const auto& kernels = embedding::kernels::active();
  const auto work = [&](std::size_t first, std::size_t step) {
    std::vector<std::pair<float, embedding::hnsw::NodeId>> best;
    for (std::size_t q = first; q < queries.rows; q += step) {
      best.clear();
      for (std::size_t i = 0; i < rows; ++i) {
        const float d = -kernels.dot(queries.row(q), base.row(i), base.dims);
        if (best.size() < k || d < best.front().first) {
          best.emplace_back(d, static_cast<embedding::hnsw::NodeId>(i));
          std::push_heap(best.begin(), best.end());
          if (best.size() > k) {
            std::pop_heap(best.begin(), best.end());
            best.pop_back();
          }
        }
      }
      for (const auto& b : best) truth[q].push_back(b.second);
    }
  };
  std::thread other(work, 1, 2);
  work(0, 2);
  other.join();
  return truth;
}

// A comma list of counts; "all" stands for `all`.
inline std::vector<std::size_t> parse_list(const std::string& text, std::size_t all) {
  std::vector<std::size_t> out;
  for (std::size_t pos = 0; pos <= text.size();) {
    const std::size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    out.push_back(item == "all" ? all : std::stoul(item));
    pos = comma + 1;
  }
  return out;
}

}  // namespace bench
