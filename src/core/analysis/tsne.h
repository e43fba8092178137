// t-SNE to two dimensions for embedding_map (van der Maaten and Hinton): input affinities over each
// point's 3 x perplexity nearest neighbours, exact repulsion (O(n^2) per iteration, so meant for
// up to about 10,000 points), PCA initialisation, early exaggeration, momentum and gains.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace embedding::analysis {

struct TsneOptions {
  double perplexity = 30.0;  // lowered to (n - 1) / 3 for small n
  int iterations = 500;
  int exaggeration_iterations = 125;  // of them, with the affinities multiplied by 12
  int threads = 1;
  std::function<void(int iteration)> progress;  // after each iteration, on the caller's thread
};

// 2n floats, x then y per row. n >= 2; deterministic for given rows and threads count.
std::vector<float> tsne_coordinates(const float* rows, std::size_t n, std::size_t dims,
                                    const TsneOptions& options);

}  // namespace embedding::analysis
