// The analysis core on the benchmark sets, for analysis_bench.sh to compare with scikit-learn and
// scipy in the same run: PCA and k-means on a float32 .npy (times on the given threads, results
// written for the comparison), Spearman of two columns, retrieval metrics of two TSV files.
// Usage: analysis_tool pca NPY ROWS COMPONENTS THREADS OUT
//        analysis_tool kmeans NPY ROWS K ITERATIONS SEED THREADS OUT
//        analysis_tool spearman FILE            (lines "x y")
//        analysis_tool retrieval RUN QRELS K    (lines "query doc rank" / "query doc relevance")
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "core/analysis/clustering.h"
#include "core/analysis/pca.h"
#include "core/analysis/retrieval.h"
#include "core/models/evaluation.h"
#include "glove_bin.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bench::Matrix load(const char* file, const char* rows_arg) {
  bench::Matrix m = bench::read_npy(file);
  const std::size_t rows = std::stoul(rows_arg);
  if (rows > 0 && rows < m.rows) {
    m.rows = rows;
    m.values.resize(rows * m.dims);
  }
  return m;
}

template <class T>
void write_raw(const std::string& file, const std::vector<T>& values) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(T)));
}

int pca(char** argv) {
  const bench::Matrix m = load(argv[2], argv[3]);
  embedding::analysis::PcaOptions options;
  options.threads = std::stoi(argv[5]);
  const auto start = Clock::now();
  const auto model = embedding::analysis::pca_fit(m.values.data(), m.rows, m.dims,
                                                  std::stoul(argv[4]), false, options);
  const double elapsed = seconds_since(start);
  write_raw(std::string(argv[6]) + ".components", model.basis);
  write_raw(std::string(argv[6]) + ".variance", model.variance);
  std::printf("{\"seconds\": %.4f, \"total_variance\": %.17g, \"rows\": %zu, \"dims\": %zu}\n",
              elapsed, model.total_variance, m.rows, m.dims);
  return 0;
}

int kmeans(char** argv) {
  bench::Matrix m = load(argv[2], argv[3]);
  const auto start = Clock::now();
  const auto fit = embedding::analysis::kmeans_fit(m.values.data(), m.rows, m.dims,
                                                   std::stoul(argv[4]), std::stoi(argv[5]),
                                                   std::stoull(argv[6]), false, std::stoi(argv[7]));
  const double elapsed = seconds_since(start);
  write_raw(std::string(argv[8]) + ".seeds", fit.seeds);
  std::printf(
      "{\"seconds\": %.4f, \"seeding_seconds\": %.4f, \"inertia\": %.17g, \"iterations\": %d}\n",
      elapsed, fit.seeding_seconds, fit.inertia, fit.iterations);
  return 0;
}

int spearman(char** argv) {
  std::ifstream in(argv[2]);
  std::vector<double> x, y;
  double a, b;
  while (in >> a >> b) x.push_back(a), y.push_back(b);
  std::printf("%.17g\n", embedding::models::spearman(x, y));
  return 0;
}

int retrieval(char** argv) {
  std::vector<embedding::analysis::RunRow> run;
  std::vector<embedding::analysis::Judgement> qrels;
  std::ifstream run_in(argv[2]), qrels_in(argv[3]);
  std::string q, d;
  double value;
  while (run_in >> q >> d >> value) run.push_back({q, d, value});
  while (qrels_in >> q >> d >> value) qrels.push_back({q, d, value});
  const auto scores =
      embedding::analysis::retrieval_scores(std::move(run), std::move(qrels), std::stoul(argv[4]));
  for (const auto& s : scores)
    std::printf("%s %.17g %.17g %.17g\n", s.query.c_str(), s.recall, s.mrr, s.ndcg);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "pca" && argc == 7) return pca(argv);
  if (mode == "kmeans" && argc == 9) return kmeans(argv);
  if (mode == "spearman" && argc == 3) return spearman(argv);
  if (mode == "retrieval" && argc == 5) return retrieval(argv);
  std::fprintf(stderr, "usage: see the comment at the top of analysis_tool.cpp\n");
  return 2;
}
