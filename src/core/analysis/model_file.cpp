// PCA and k-means model images (see model_file.h).
#include "core/analysis/model_file.h"

#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

#include "core/common/error.h"
#include "core/ivf/kmeans.h"
#include "core/vector/normalize.h"

namespace embedding::analysis {
namespace {

constexpr char kMagic[8] = {'E', 'M', 'B', 'A', 'N', 'A', '0', '1'};

struct Header {
  char magic[8];
  std::uint32_t kind;
  std::uint32_t dims;   // input dimensions
  std::uint32_t count;  // PCA components, or k
  std::uint32_t flags;  // bit 0: whiten (PCA) or spherical (k-means)
  std::uint64_t samples;
  double total;  // PCA: total variance; k-means: inertia
};
static_assert(sizeof(Header) == 40);

constexpr std::uint32_t kMaxDims = 65535;
constexpr std::uint32_t kMaxCount = 1u << 20;

class Writer {
 public:
  template <class T>
  void put(const T* values, std::size_t count) {
    const auto* p = reinterpret_cast<const std::byte*>(values);
    bytes_.insert(bytes_.end(), p, p + count * sizeof(T));
  }
  std::vector<std::byte> take() { return std::move(bytes_); }

 private:
  std::vector<std::byte> bytes_;
};

// A writer holding the header of an image of `kind`.
Writer start_image(AnalysisKind kind, std::uint32_t dims, std::uint32_t count, bool flag,
                   std::uint64_t samples, double total) {
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.kind = static_cast<std::uint32_t>(kind);
  h.dims = dims;
  h.count = count;
  h.flags = flag ? 1 : 0;
  h.samples = samples;
  h.total = total;
  Writer w;
  w.put(&h, 1);
  return w;
}

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(ErrorCode::kCorruptData, "corrupt analysis model: " + what);
}

Header read_header(std::span<const std::byte> bytes) {
  Header h;
  if (bytes.size() < sizeof h) corrupt("shorter than its header");
  std::memcpy(&h, bytes.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) corrupt("bad magic");
  if (h.kind != 1 && h.kind != 2) corrupt("unknown kind");
  if (h.dims < 1 || h.dims > kMaxDims || h.count < 1 || h.count > kMaxCount || h.flags > 1)
    corrupt("sizes out of range");
  if (!std::isfinite(h.total) || h.total < 0) corrupt("bad total");
  return h;
}

// Reads count values of T at *offset, checking the bounds and (for floating types) finiteness.
template <class T>
std::vector<T> read_array(std::span<const std::byte> bytes, std::size_t& offset,
                          std::size_t count) {
  if (count > (bytes.size() - offset) / sizeof(T)) corrupt("truncated");
  std::vector<T> values(count);
  std::memcpy(values.data(), bytes.data() + offset, count * sizeof(T));
  offset += count * sizeof(T);
  if constexpr (std::is_floating_point_v<T>)
    for (const T v : values)
      if (!std::isfinite(v)) corrupt("a value is not finite");
  return values;
}

Header checked(std::span<const std::byte> bytes, AnalysisKind kind) {
  const Header h = read_header(bytes);
  if (h.kind != static_cast<std::uint32_t>(kind))
    throw Error(ErrorCode::kInvalidParameter,
                kind == AnalysisKind::kPca ? "the model is a k-means model, not a PCA model"
                                           : "the model is a PCA model, not a k-means model");
  return h;
}

}  // namespace

bool is_analysis_image(std::span<const std::byte> bytes) {
  return bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, sizeof kMagic) == 0;
}

AnalysisKind analysis_kind(std::span<const std::byte> bytes) {
  return static_cast<AnalysisKind>(read_header(bytes).kind);
}

std::vector<std::byte> pca_image(const PcaModel& model) {
  Writer w = start_image(AnalysisKind::kPca, model.dims, model.components, model.whiten,
                         model.samples, model.total_variance);
  w.put(model.mean.data(), model.mean.size());
  w.put(model.basis.data(), model.basis.size());
  w.put(model.variance.data(), model.variance.size());
  return w.take();
}

std::vector<std::byte> kmeans_image(const KMeansModel& model) {
  Writer w = start_image(AnalysisKind::kKMeans, model.dims, model.k, model.spherical, model.samples,
                         model.inertia);
  w.put(model.centers.data(), model.centers.size());
  w.put(model.sizes.data(), model.sizes.size());
  return w.take();
}

PcaModel read_pca(std::span<const std::byte> bytes) {
  const Header h = checked(bytes, AnalysisKind::kPca);
  if (h.count > h.dims) corrupt("more components than dimensions");
  PcaModel model;
  model.dims = h.dims;
  model.components = h.count;
  model.whiten = h.flags & 1;
  model.samples = h.samples;
  model.total_variance = h.total;
  std::size_t offset = sizeof(Header);
  model.mean = read_array<float>(bytes, offset, h.dims);
  model.basis = read_array<float>(bytes, offset, std::size_t{h.count} * h.dims);
  model.variance = read_array<double>(bytes, offset, h.count);
  if (offset != bytes.size()) corrupt("trailing bytes");
  for (const double v : model.variance)
    if (v < 0) corrupt("a negative variance");
  return model;
}

KMeansModel read_kmeans(std::span<const std::byte> bytes) {
  const Header h = checked(bytes, AnalysisKind::kKMeans);
  KMeansModel model;
  model.dims = h.dims;
  model.k = h.count;
  model.spherical = h.flags & 1;
  model.samples = h.samples;
  model.inertia = h.total;
  std::size_t offset = sizeof(Header);
  model.centers = read_array<float>(bytes, offset, std::size_t{h.count} * h.dims);
  model.sizes = read_array<std::uint64_t>(bytes, offset, h.count);
  if (offset != bytes.size()) corrupt("trailing bytes");
  return model;
}

std::uint32_t kmeans_assign(const KMeansModel& model, const float* x) {
  const float* point = x;
  std::vector<float> unit;
  if (model.spherical) {
    unit.assign(x, x + model.dims);
    if (!vec::normalize(unit.data(), model.dims, vec::NoDirection::kKeep))
      throw Error(ErrorCode::kDataException, "a cosine k-means model cannot assign a zero vector");
    point = unit.data();
  }
  return static_cast<std::uint32_t>(
      ivf::nearest_center(model.centers.data(), model.k, model.dims, point, model.spherical));
}

}  // namespace embedding::analysis
