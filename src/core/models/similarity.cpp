// Brute-force top-k: one dot product per row through the active SIMD kernel and a k-element
// heap; a 341k x 100 model is 136 MB of rows, scanned once per query.
#include "core/models/similarity.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/vector/kernels.h"
#include "core/vector/normalize.h"

namespace embedding::models {
namespace {

// Heap order: the worst neighbour (lowest similarity, then highest id) on top.
bool better(const Neighbour& x, const Neighbour& y) {
  return x.similarity > y.similarity || (x.similarity == y.similarity && x.id < y.id);
}

void check_id(const Model& model, std::uint32_t id) {
  if (id >= model.vocab_size()) {
    throw Error(ErrorCode::kInvalidParameter, "word id " + std::to_string(id) +
                                                  " is outside the vocabulary of " +
                                                  std::to_string(model.vocab_size()) + " words");
  }
}

}  // namespace

std::vector<Neighbour> most_similar(const Model& model, std::span<const float> query, std::size_t k,
                                    std::span<const std::uint32_t> exclude,
                                    std::uint32_t row_limit) {
  const std::uint32_t dims = model.dims();
  if (query.size() != dims) {
    throw Error(ErrorCode::kDataException, "query has " + std::to_string(query.size()) +
                                               " dimensions, the model has " +
                                               std::to_string(dims));
  }
  std::vector<Neighbour> heap;
  if (k == 0) return heap;
  // A query without a direction (zero, NaN, inf) is similar to nothing.
  std::vector<float> unit(dims);
  if (!vec::normalize(query.data(), unit.data(), dims, vec::NoDirection::kKeep)) return heap;

  std::vector<std::uint32_t> excluded(exclude.begin(), exclude.end());
  std::sort(excluded.begin(), excluded.end());
  const std::uint32_t rows =
      row_limit == 0 ? model.vocab_size() : std::min(row_limit, model.vocab_size());
  k = std::min<std::size_t>(k, rows);
  heap.reserve(k + 1);
  const auto dot = kernels::active().dot;
  const float* matrix = model.matrix();
  float threshold = -INFINITY;  // similarity of the heap's worst entry once it is full
  for (std::uint32_t id = 0; id < rows; ++id) {
    poll_interrupts_every<14>(id);
    const float similarity = dot(unit.data(), matrix + std::size_t{id} * dims, dims);
    // Equal similarities keep the earlier (more frequent) word, so '>' suffices once full.
    if (!(similarity > threshold) && heap.size() == k) continue;
    if (std::isnan(similarity)) continue;
    if (std::binary_search(excluded.begin(), excluded.end(), id)) continue;
    heap.push_back({id, similarity});
    std::push_heap(heap.begin(), heap.end(), better);
    if (heap.size() > k) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.pop_back();
    }
    if (heap.size() == k) threshold = heap.front().similarity;
  }
  std::sort_heap(heap.begin(), heap.end(), better);
  return heap;
}

std::vector<Neighbour> most_similar_to_word(const Model& model, std::uint32_t word_id,
                                            std::size_t k, std::uint32_t row_limit) {
  check_id(model, word_id);
  const std::span<const float> query(model.unit_vector(word_id), model.dims());
  const std::uint32_t exclude[] = {word_id};
  return most_similar(model, query, k, exclude, row_limit);
}

std::vector<Neighbour> analogy(const Model& model, std::uint32_t a, std::uint32_t b,
                               std::uint32_t c, std::size_t k, std::uint32_t row_limit) {
  check_id(model, a);
  check_id(model, b);
  check_id(model, c);
  const std::uint32_t dims = model.dims();
  std::vector<float> query(dims);
  const float* va = model.unit_vector(a);
  const float* vb = model.unit_vector(b);
  const float* vc = model.unit_vector(c);
  for (std::uint32_t i = 0; i < dims; ++i) query[i] = vb[i] - va[i] + vc[i];
  const std::uint32_t exclude[] = {a, b, c};
  return most_similar(model, query, k, exclude, row_limit);
}

}  // namespace embedding::models
