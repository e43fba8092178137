// The fitted-model registry (see analysis_models.h) and the SQL functions that fit, inspect and
// apply PCA and k-means models: pca_fit, pca_project, pca_info, kmeans_fit, kmeans_assign,
// kmeans_centers.
#include "pg/analysis_models.h"

#include <cstring>
#include <map>
#include <optional>
#include <string>

#include "core/analysis/clustering.h"
#include "core/common/error.h"
#include "core/models/model_image.h"
#include "pg/am/build.h"
#include "pg/analysis_rows.h"
#include "pg/guard.h"
#include "pg/halfvec.h"
#include "pg/model_store.h"
#include "pg/models.h"
#include "pg/pg_call.h"
#include "pg/vector.h"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
}

namespace embedding::pg {
namespace {

namespace store = embedding::pg::store;
using analysis::KMeansModel;
using analysis::PcaModel;

struct CachedModel {
  std::string checksum;
  uint64 checked_stamp = 0;
  std::optional<PcaModel> pca;
  std::optional<KMeansModel> kmeans;
  models::ModelKind kind = models::ModelKind::kWordVectors;  // what the name holds
};

using Registry = std::map<std::string, CachedModel, std::less<>>;

Registry& registry() {
  static Registry* r = nullptr;
  if (r == nullptr) r = new_owned<Registry>(TopMemoryContext);
  return *r;
}

const char* kind_label(analysis::AnalysisKind kind) {
  return kind == analysis::AnalysisKind::kPca ? "PCA" : "k-means";
}

// The entry when it holds a model of the kind wanted; otherwise an error naming what it is.
const CachedModel& checked_kind(const CachedModel& model, const char* name,
                                analysis::AnalysisKind kind) {
  if (kind == analysis::AnalysisKind::kPca ? model.pca.has_value() : model.kmeans.has_value())
    return model;
  throw Error(ErrorCode::kInvalidParameter, std::string("model \"") + name + "\" is a " +
                                                models::kind_name(model.kind) + " model, not a " +
                                                kind_label(kind) + " model");
}

const CachedModel& find_cached(const char* name, analysis::AnalysisKind kind) {
  const char* wanted = kind_label(kind);
  Registry& r = registry();
  auto it = r.find(name);
  const uint64 stamp = command_stamp();
  if (it != r.end() && it->second.checked_stamp == stamp)
    return checked_kind(it->second, name, kind);
  char hash[store::kHashHexSize];
  pg_call([&] { store::lookup(name, hash, nullptr); });
  if (hash[0] == '\0')
    throw Error(ErrorCode::kUndefinedObject,
                std::string(wanted) + " model \"" + name + "\" does not exist",
                "SELECT name, kind FROM embedding_models lists the models.");
  if (it == r.end() || it->second.checksum != hash) {
    bytea* data = nullptr;
    pg_call([&] { store::lookup(name, hash, &data); });
    if (data == nullptr) throw Error(ErrorCode::kUndefinedObject, "model vanished while read");
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(VARDATA_ANY(data)),
                                           VARSIZE_ANY_EXHDR(data));
    const models::ModelKind found = models::model_kind(bytes);
    CachedModel model;
    if (found == models::ModelKind::kPca)
      model.pca = analysis::read_pca(bytes);
    else if (found == models::ModelKind::kKMeans)
      model.kmeans = analysis::read_kmeans(bytes);
    model.kind = found;
    model.checksum = hash;
    pg_call([&] { pfree(data); });
    if (it != r.end()) r.erase(it);
    it = r.emplace(name, std::move(model)).first;
  }
  it->second.checked_stamp = stamp;
  return checked_kind(it->second, name, kind);
}

void check_dims(int dims, std::uint32_t expected) {
  if (static_cast<std::uint32_t>(dims) != expected)
    throw Error(ErrorCode::kDataException, "expected " + std::to_string(expected) +
                                               " dimensions, not " + std::to_string(dims));
}

// The floats of argument n, a vector or a halfvec (by the function's declared argument type),
// in palloc'd memory; *dims receives the count.
float* vector_arg(FunctionCallInfo fcinfo, int n, bool half, int* dims) {
  if (!half) {
    PgVector* v = EMB_GETARG_VECTOR(n);
    *dims = v->dim;
    return v->x;
  }
  PgHalfVector* v = EMB_GETARG_HALFVEC(n);
  *dims = v->dim;
  auto* x = static_cast<float*>(palloc(sizeof(float) * (v->dim + 1)));
  for (int j = 0; j < v->dim; ++j) x[j] = vec::half_to_float(v->x[j]);
  return x;
}

// Reads the one vector column of a fit's query.
QueryRows read_vectors(const char* function, const char* query) {
  QueryRows rows;
  const ColumnKind kinds[1] = {ColumnKind::kVector};
  pg_call([&] { read_query_rows(function, query, kinds, 1, 1, &rows); });
  return rows;
}

// Refuses a fit whose working memory (bytes beyond the rows) would exceed maintenance_work_mem.
void check_work_memory(const char* function, const QueryRows& rows, double bytes) {
  const double limit = static_cast<double>(maintenance_work_mem) * 1024.0;
  const double data = static_cast<double>(rows.rows) * rows.dims * sizeof(float);
  if (data + bytes > limit)
    throw Error(ErrorCode::kProgramLimit,
                std::string(function) + " needs about " +
                    std::to_string(static_cast<long>((data + bytes) / 1048576.0) + 1) +
                    " MB, more than maintenance_work_mem (" +
                    std::to_string(maintenance_work_mem / 1024) + " MB)",
                "Raise maintenance_work_mem, or sample the rows (TABLESAMPLE, LIMIT).");
}

}  // namespace

const PcaModel& find_pca_model(const char* name) {
  return *find_cached(name, analysis::AnalysisKind::kPca).pca;
}

const KMeansModel& find_kmeans_model(const char* name) {
  return *find_cached(name, analysis::AnalysisKind::kKMeans).kmeans;
}

void check_fit(const char* name) {
  if (*name == '\0') throw Error(ErrorCode::kInvalidParameter, "model name must not be empty");
  if (std::strcmp(name, kDefaultModelName) == 0)
    throw Error(ErrorCode::kDuplicateObject, std::string("model \"") + name + "\" already exists",
                "It is the default model that ships with the extension.");
  // Fitting adds a model, a database-wide object that no one else can drop: as for CREATE
  // SCHEMA, the role needs CREATE on the database.
  if (pg_database_aclcheck(MyDatabaseId, GetUserId(), ACL_CREATE) != ACLCHECK_OK)
    throw Error(ErrorCode::kPermission, "permission denied to fit a model",
                "Fitting stores a model in the database: it needs the CREATE privilege on the "
                "database.");
}

void store_fitted_model(const char* name, const char* source, const std::vector<std::byte>& image) {
  const models::ModelSummary summary = models::verify_model_image(image);
  pg_call([&] {
    store::insert_model(name, source, models::kind_name(summary.kind), summary, image.data(),
                        image.size());
  });
}

}  // namespace embedding::pg

using embedding::Error;
using embedding::ErrorCode;
namespace analysis = embedding::analysis;
namespace pg = embedding::pg;

// pca_fit(name, query, components, whiten): fits on the query's vectors and stores the model;
// returns the share of the variance the components keep.
EMB_FUNCTION(pca_fit) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const char* query = text_to_cstring(PG_GETARG_TEXT_PP(1));
  const int components = PG_GETARG_INT32(2);
  const bool whiten = PG_GETARG_BOOL(3);
  pg::check_fit(name);
  if (components < 1) throw Error(ErrorCode::kInvalidParameter, "components must be at least 1");
  const pg::QueryRows rows = pg::read_vectors("pca_fit", query);
  const int threads = pg::build_threads();
  analysis::PcaOptions options;
  options.threads = threads;
  pg::ProgressNotices notices("pca_fit", rows.rows);
  options.progress = [&](const std::string& message) { notices(message); };
  const std::size_t d = static_cast<std::size_t>(rows.dims);
  // The covariance (one double d x d per thread and the sum, and the solver's copy) and the
  // solver's blocks (a few d x 2k doubles).
  pg::check_work_memory("pca_fit", rows,
                        (threads + 3.0) * d * d * sizeof(double) +
                            8.0 * d * (2.0 * components + 16) * sizeof(double));
  embedding::pg::pg_call([&] {
    pg::progress_notice("pca_fit", rows.rows,
                        psprintf("fitting %d components to %zu rows of %d dimensions", components,
                                 rows.rows, rows.dims));
  });
  const char* source = psprintf("pca_fit(%zu rows, %d of %d dimensions%s)", rows.rows, components,
                                rows.dims, whiten ? ", whitened" : "");
  const analysis::PcaModel model = analysis::pca_fit(
      rows.vectors, rows.rows, d, static_cast<std::size_t>(components), whiten, options);
  if (model.solver_residual > 1e-6)
    pg::pg_call([&] {
      ereport(WARNING, (errmsg("pca_fit: the eigensolver stopped at relative residual %.1e; the "
                               "components may be inexact",
                               model.solver_residual),
                        errhint("Fewer components converge faster.")));
    });
  double kept = 0.0;
  for (double v : model.variance) kept += v;
  pg::store_fitted_model(name, source, analysis::pca_image(model));
  PG_RETURN_FLOAT8(model.total_variance > 0 ? kept / model.total_variance : 0.0);
}

static Datum project(FunctionCallInfo fcinfo, bool half) {
  const analysis::PcaModel& model = pg::find_pca_model(text_to_cstring(PG_GETARG_TEXT_PP(0)));
  int dims;
  const float* x = pg::vector_arg(fcinfo, 1, half, &dims);
  pg::check_dims(dims, model.dims);
  auto* out = static_cast<float*>(palloc(sizeof(float) * model.components));
  analysis::pca_project(model, x, out);
  if (half) PG_RETURN_POINTER(pg::halfvec_from_floats(out, static_cast<int>(model.components)));
  pg::PgVector* v = pg::new_vector(static_cast<int>(model.components));
  memcpy(v->x, out, sizeof(float) * model.components);
  PG_RETURN_POINTER(v);
}

// pca_project(model, v): v in the model's principal coordinates.
EMB_FUNCTION(pca_project) { return project(fcinfo, false); }
EMB_FUNCTION(pca_project_halfvec) { return project(fcinfo, true); }

// pca_info(model): (component, explained_variance_ratio, cumulative) per component.
EMB_FUNCTION(pca_info) {
  const analysis::PcaModel& model = pg::find_pca_model(text_to_cstring(PG_GETARG_TEXT_PP(0)));
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  double cumulative = 0.0;
  for (std::uint32_t c = 0; c < model.components; ++c) {
    const double ratio = model.total_variance > 0 ? model.variance[c] / model.total_variance : 0;
    cumulative += ratio;
    Datum values[3] = {Int32GetDatum(static_cast<int32>(c + 1)), Float8GetDatum(ratio),
                       Float8GetDatum(cumulative)};
    bool nulls[3] = {false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}

// kmeans_fit(name, query, k, max_iterations, seed, metric): k-means++ and Lloyd passes ('cosine':
// spherical k-means); stores the centers and returns the inertia.
EMB_FUNCTION(kmeans_fit) {
  const char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const char* query = text_to_cstring(PG_GETARG_TEXT_PP(1));
  const int k = PG_GETARG_INT32(2);
  const int max_iterations = PG_GETARG_INT32(3);
  const int seed = PG_GETARG_INT32(4);
  const char* metric = text_to_cstring(PG_GETARG_TEXT_PP(5));
  pg::check_fit(name);
  const bool cosine = strcmp(metric, "cosine") == 0;
  if (!cosine && strcmp(metric, "l2") != 0)
    throw Error(ErrorCode::kInvalidParameter, std::string("unknown metric \"") + metric + "\"",
                "Use 'l2' or 'cosine'.");
  if (k < 1) throw Error(ErrorCode::kInvalidParameter, "k must be at least 1");
  if (max_iterations < 1)
    throw Error(ErrorCode::kInvalidParameter, "max_iterations must be at least 1");
  const pg::QueryRows rows = pg::read_vectors("kmeans_fit", query);
  if (static_cast<std::size_t>(k) > rows.rows)
    throw Error(ErrorCode::kInvalidParameter, "k (" + std::to_string(k) +
                                                  ") is larger than the number of rows (" +
                                                  std::to_string(rows.rows) + ")");
  // Labels, bounds, norms and the update's order (or the seeding's distances), centers and seeds.
  pg::check_work_memory("kmeans_fit", rows, rows.rows * 24.0 + 12.0 * k * rows.dims);
  embedding::pg::pg_call([&] {
    pg::progress_notice(
        "kmeans_fit", rows.rows,
        psprintf("clustering %zu rows of %d dimensions into %d clusters", rows.rows, rows.dims, k));
  });
  pg::ProgressNotices notices("kmeans_fit", rows.rows);
  const analysis::ClusterFit fit = analysis::kmeans_fit(
      rows.vectors, rows.rows, static_cast<std::size_t>(rows.dims), static_cast<std::size_t>(k),
      max_iterations, static_cast<std::uint64_t>(static_cast<std::uint32_t>(seed)), cosine,
      pg::build_threads(), [&](int iteration, std::size_t changed, double inertia) {
        notices("iteration " + std::to_string(iteration) + ": inertia " + std::to_string(inertia) +
                ", " + std::to_string(changed) + " rows changed cluster");
      });
  analysis::KMeansModel model;
  model.dims = static_cast<std::uint32_t>(rows.dims);
  model.k = static_cast<std::uint32_t>(k);
  model.spherical = cosine;
  model.centers = fit.centers;
  model.sizes = fit.sizes;
  model.inertia = fit.inertia;
  model.samples = rows.rows;
  const std::string source = "kmeans_fit(" + std::to_string(rows.rows) + " rows, k " +
                             std::to_string(k) + ", " + metric + ", seed " + std::to_string(seed) +
                             ", " + std::to_string(fit.iterations) + " iterations)";
  pg::store_fitted_model(name, source.c_str(), analysis::kmeans_image(model));
  PG_RETURN_FLOAT8(fit.inertia);
}

static Datum assign(FunctionCallInfo fcinfo, bool half) {
  const analysis::KMeansModel& model = pg::find_kmeans_model(text_to_cstring(PG_GETARG_TEXT_PP(0)));
  int dims;
  const float* x = pg::vector_arg(fcinfo, 1, half, &dims);
  pg::check_dims(dims, model.dims);
  PG_RETURN_INT32(static_cast<int32>(analysis::kmeans_assign(model, x)) + 1);
}

// kmeans_assign(model, v): the number (1..k) of v's nearest center.
EMB_FUNCTION(kmeans_assign) { return assign(fcinfo, false); }
EMB_FUNCTION(kmeans_assign_halfvec) { return assign(fcinfo, true); }

// kmeans_centers(model): (cluster, center, size) per cluster.
EMB_FUNCTION(kmeans_centers) {
  const analysis::KMeansModel& model = pg::find_kmeans_model(text_to_cstring(PG_GETARG_TEXT_PP(0)));
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (std::uint32_t c = 0; c < model.k; ++c) {
    pg::PgVector* v = pg::new_vector(static_cast<int>(model.dims));
    memcpy(v->x, model.centers.data() + std::size_t{c} * model.dims, sizeof(float) * model.dims);
    Datum values[3] = {Int32GetDatum(static_cast<int32>(c + 1)), PointerGetDatum(v),
                       Int64GetDatum(static_cast<int64>(model.sizes[c]))};
    bool nulls[3] = {false, false, false};
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  return (Datum)0;
}
