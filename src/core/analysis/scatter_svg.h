// The 2-D map of embedding_map(): points (from a PCA to two dimensions) drawn as an SVG scatter
// plot, each point's label as its tooltip and each group in its own colour.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace embedding::analysis {

// The first two principal coordinates of n rows (n >= 1; with one row, or rows that do not
// vary, the points sit at 0): 2n floats, x then y per row.
std::vector<float> map_coordinates(const float* rows, std::size_t n, std::size_t dims, int threads);

// A standalone SVG document (UTF-8): one circle per point with a <title> tooltip holding its
// label (XML-escaped; characters XML forbids are dropped), coloured by groups[i] (empty groups: one
// colour), and a legend of the groups when there are at most 20.
std::string scatter_svg(const std::vector<float>& xy, const std::vector<std::string>& labels,
                        const std::vector<std::string>& groups);

}  // namespace embedding::analysis
