// embedding_map()'s coordinates and SVG writer (see scatter_svg.h).
#include "core/analysis/scatter_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/analysis/pca.h"

namespace embedding::analysis {
namespace {

constexpr double kSize = 800.0;  // the plot's square, in SVG units
constexpr double kMargin = 20.0;
// A qualitative palette (ten well-separated hues); groups beyond ten reuse it.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// Appends text escaped for XML character data and attribute values, dropping the control
// characters XML 1.0 forbids (bytes below 0x20 other than tab, newline, carriage return).
void append_escaped(std::string& out, const std::string& text) {
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (byte >= 0x20 || ch == '\t' || ch == '\n' || ch == '\r') out += ch;
    }
  }
}

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

}  // namespace

std::vector<float> map_coordinates(const float* rows, std::size_t n, std::size_t dims,
                                   int threads) {
  std::vector<float> xy(2 * n, 0.0f);
  if (n < 2) return xy;
  PcaOptions options;
  options.threads = threads;
  const std::size_t components = std::min<std::size_t>({2, n, dims});
  const PcaModel model = pca_fit(rows, n, dims, components, false, options);
  std::vector<float> point(components);
  for (std::size_t i = 0; i < n; ++i) {
    pca_project(model, rows + i * dims, point.data());
    for (std::size_t c = 0; c < components; ++c)
      xy[2 * i + c] = model.variance[c] > 0.0 ? point[c] : 0.0f;
  }
  return xy;
}

std::string scatter_svg(const std::vector<float>& xy, const std::vector<std::string>& labels,
                        const std::vector<std::string>& groups) {
  const std::size_t n = labels.size();
  float low_x = 0, high_x = 0, low_y = 0, high_y = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float x = xy[2 * i], y = xy[2 * i + 1];
    if (i == 0 || x < low_x) low_x = x;
    if (i == 0 || x > high_x) high_x = x;
    if (i == 0 || y < low_y) low_y = y;
    if (i == 0 || y > high_y) high_y = y;
  }
  // One scale for both axes, so distances on the map keep their proportions.
  const double span =
      std::max({static_cast<double>(high_x - low_x), static_cast<double>(high_y - low_y), 1e-12});
  const double scale = (kSize - 2 * kMargin) / span;
  std::map<std::string, std::size_t> colour_of;  // group -> palette index, by first appearance
  for (const std::string& g : groups) colour_of.emplace(g, colour_of.size());
  const double legend = colour_of.size() > 1 && colour_of.size() <= 20 ? 160.0 : 0.0;
  std::string out;
  out.reserve(200 + n * 120);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(kSize + legend) +
         "\" height=\"" + number(kSize) + "\" viewBox=\"0 0 " + number(kSize + legend) + " " +
         number(kSize) + "\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (std::size_t i = 0; i < n; ++i) {
    const double cx = kMargin + (xy[2 * i] - low_x) * scale;
    const double cy = kSize - kMargin - (xy[2 * i + 1] - low_y) * scale;  // y grows upwards
    const char* colour = groups.empty() ? kPalette[0] : kPalette[colour_of[groups[i]] % 10];
    out += "<circle cx=\"" + number(cx) + "\" cy=\"" + number(cy) + "\" r=\"3\" fill=\"" + colour +
           "\" fill-opacity=\"0.7\"><title>";
    append_escaped(out, labels[i]);
    out += "</title></circle>\n";
  }
  if (legend > 0) {
    std::size_t row = 0;
    for (const auto& [group, index] : colour_of) {
      const double y = kMargin + 18.0 * static_cast<double>(row++);
      out += "<circle cx=\"" + number(kSize + 15) + "\" cy=\"" + number(y) + "\" r=\"5\" fill=\"" +
             kPalette[index % 10] + "\"/><text x=\"" + number(kSize + 25) + "\" y=\"" +
             number(y + 4) + "\" font-family=\"sans-serif\" font-size=\"12\">";
      append_escaped(out, group);
      out += "</text>\n";
    }
  }
  out += "</svg>\n";
  return out;
}

}  // namespace embedding::analysis
