// The fitted PCA and k-means models the analysis functions use: rows of the model store (kinds
// "pca" and "kmeans"), parsed once per backend and checked against the table once per command.
#pragma once

#include "core/analysis/model_file.h"
#include "core/analysis/pca.h"

namespace embedding::pg {

// The PCA (k-means) model called name; throws kUndefinedObject when there is none, and
// kInvalidParameter when the name is a model of another kind.
const analysis::PcaModel& find_pca_model(const char* name);
const analysis::KMeansModel& find_kmeans_model(const char* name);

// Checks that the caller may fit a model called name (CREATE on the database, the name new and
// not the default model's). Throws.
void check_fit(const char* name);

// Stores a fitted model's image under name (see store::insert_model); source says how it was
// fitted. PostgreSQL calls inside pg_call: safe with C++ objects alive.
void store_fitted_model(const char* name, const char* source, const std::vector<std::byte>& image);

}  // namespace embedding::pg
