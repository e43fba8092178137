// Reading the rows of a user's query for the analysis functions: run through SPI with the
// caller's privileges (read-only, one SELECT), vectors (vector or halfvec) into one float array,
// labels as text and scores as numbers, memory bounded by maintenance_work_mem.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <chrono>
#include <cstddef>
#include <string>

namespace embedding::pg {

enum class ColumnKind { kVector, kText, kNumber };

// The columns a query returned, column by column: a vector column fills `vectors`
// (rows x dims floats), a text column texts[c] (palloc'd strings), a number column numbers[c].
struct QueryRows {
  static constexpr int kMaxColumns = 5;
  std::size_t rows = 0;
  int dims = 0;
  int columns = 0;  // how many the query returned (between `required` and the kinds given)
  float* vectors = nullptr;
  char** texts[kMaxColumns] = {};
  double* numbers[kMaxColumns] = {};
};

// Runs `query` and reads its rows into `out` (palloc'd in the current memory context). The
// query must return between `required` and `count` columns of the kinds given; a NULL, a
// vector of another dimension, a non-finite number, a wrong column type, no rows at all or more
// data than maintenance_work_mem are errors naming `function`. PostgreSQL calls only: call it
// through pg_call() when C++ objects are alive.
void read_query_rows(const char* function, const char* query, const ColumnKind* kinds, int count,
                     int required, QueryRows* out);

// A NOTICE "<function>: <message>" for runs over `rows` rows that take long enough to watch
// (10,000 rows or more); PostgreSQL calls only.
void progress_notice(const char* function, std::size_t rows, const char* message);

// The per-step NOTICEs of one long run (k-means passes, PCA steps, t-SNE iterations): lines
// "<function>: <message>" at most one every few seconds, for runs over `min_rows` rows or more
// (t-SNE is slow on fewer rows than the others). Safe under live C++ objects (an error in
// sending becomes PgError).
class ProgressNotices {
 public:
  ProgressNotices(const char* function, std::size_t rows, std::size_t min_rows = 10000);
  void operator()(const std::string& message);

 private:
  const char* function_;
  bool enabled_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace embedding::pg
