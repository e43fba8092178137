// hnswhandler: the IndexAmRoutine of the hnsw access method, every field set deliberately, plus
// the per-index facts the phases share (metric, dimensions, vector preparation).
#include <cmath>
#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/hnsw/distance.h"
#include "core/vector/kernels.h"
#include "pg/guard.h"
#include "pg/halfvec.h"
#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/options.h"
#include "pg/hnsw/pages.h"
#include "pg/sparsevec.h"
#include "pg/vector.h"

extern "C" {
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/varbit.h"
}

namespace embedding::pg::hnsw {

using embedding::hnsw::Format;
using embedding::hnsw::Metric;

embedding::hnsw::BuildTuning index_tuning(Size vector_bytes) {
  embedding::hnsw::BuildTuning tuning;
  // Identical vectors share one element, as many as its page room allows (about a thousand for
  // small vectors), so that even a very common vector stays one reachable node.
  tuning.merge_duplicates = true;
  tuning.max_duplicates = static_cast<std::size_t>(max_heap_tids(vector_bytes) - 1);
  return tuning;
}

int max_index_dimensions(Format format) {
  switch (format) {
    case Format::kFloat32:
      return 2000;
    case Format::kFloat16:
      return 4000;
    case Format::kBit:
      return 64000;
    case Format::kSparse:
      return static_cast<int>(embedding::vec::kMaxSparseDim);
  }
  return 0;
}

Metric index_metric(Relation index) {
  Oid distance_proc = index_getprocid(index, 1, 1);
  const char* name = get_func_name(distance_proc);
  if (name == nullptr) throw Error(ErrorCode::kInternal, "hnsw opclass has no distance function");
  const auto is = [name](const char* candidate) { return std::strcmp(name, candidate) == 0; };
  if (is("vector_l2_squared_distance") || is("halfvec_l2_squared_distance") ||
      is("sparsevec_l2_squared_distance") || is("l2_distance"))
    return Metric::kL2;
  if (is("l1_distance")) return Metric::kL1;
  if (is("vector_negative_inner_product") || is("halfvec_negative_inner_product") ||
      is("sparsevec_negative_inner_product") || is("inner_product"))
    return OidIsValid(index_getprocid(index, 1, 2)) ? Metric::kCosine : Metric::kInnerProduct;
  if (is("cosine_distance")) return Metric::kCosine;
  if (is("hamming_distance")) return Metric::kHamming;
  if (is("jaccard_distance")) return Metric::kJaccard;
  throw Error(ErrorCode::kFeature, "type not supported for hnsw index");
}

Format index_format(Relation index) {
  // The column's type, not the opclass's: a varbit column passes for bit_hamming_ops but has no
  // fixed length (pgvector refuses it the same way). By unqualified name, whatever the schema.
  const Oid type_oid = TupleDescAttr(RelationGetDescr(index), 0)->atttypid;
  NameData type;
  HeapTuple tuple = SearchSysCache1(TYPEOID, ObjectIdGetDatum(type_oid));
  if (!HeapTupleIsValid(tuple)) throw Error(ErrorCode::kInternal, "cache lookup failed for type");
  type = reinterpret_cast<Form_pg_type>(GETSTRUCT(tuple))->typname;
  ReleaseSysCache(tuple);
  Format format;
  if (type_oid == BITOID) {
    format = Format::kBit;
  } else if (std::strcmp(NameStr(type), "vector") == 0) {
    format = Format::kFloat32;
  } else if (std::strcmp(NameStr(type), "halfvec") == 0) {
    format = Format::kFloat16;
  } else if (std::strcmp(NameStr(type), "sparsevec") == 0) {
    format = Format::kSparse;
  } else {
    throw Error(ErrorCode::kFeature, "type not supported for hnsw index");
  }
  if (!embedding::hnsw::supports(format, index_metric(index)))
    throw Error(ErrorCode::kFeature, "type not supported for hnsw index");
  return format;
}

int index_dimensions(Relation index, Format format) {
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(index), 0);
  int dims = attr->atttypmod;
  if (dims < 0) throw Error(ErrorCode::kDataException, "column does not have dimensions");
  if (dims > max_index_dimensions(format))
    throw Error(ErrorCode::kProgramLimit, "column cannot have more than " +
                                              std::to_string(max_index_dimensions(format)) +
                                              " dimensions for hnsw index");
  return dims;
}

namespace {

[[noreturn]] void wrong_dimensions(int expected, int actual) {
  throw Error(ErrorCode::kDataException, "expected " + std::to_string(expected) +
                                             " dimensions, not " + std::to_string(actual));
}

// A sparsevec as the index stores it: nnz, the indices, the values (normalised for cosine, the
// elements that underflow to zero dropped).
Size prepare_sparse(Datum value, Metric metric, int dimensions, void* out, Size capacity) {
  PgSparseVector* v = detoast_sparsevec(value);
  if (v->dim != dimensions) wrong_dimensions(dimensions, v->dim);
  const Size needed = 4 + 8 * static_cast<Size>(v->nnz);
  if (needed > capacity)
    throw Error(ErrorCode::kProgramLimit, "sparsevec cannot have more than " +
                                              std::to_string((capacity - 4) / 8) +
                                              " non-zero elements for hnsw index");
  auto* words = static_cast<int32*>(out);
  const float* values = sparse_values(v);
  double norm = 1.0;
  if (metric == Metric::kCosine) {
    norm = embedding::vec::sparse_norm(view(v));
    if (!(norm > 0.0) || !std::isfinite(norm)) return 0;
  }
  auto* out_values = reinterpret_cast<float*>(words + 1 + v->nnz);
  int32 nnz = 0;
  for (int32 i = 0; i < v->nnz; ++i) {
    const float x = static_cast<float>(values[i] / norm);
    if (x == 0.0f) continue;
    words[1 + nnz] = v->indices[i];
    out_values[nnz++] = x;  // behind its final place until the gap closes below
  }
  // Values were written after v->nnz indices; move them up behind the nnz kept.
  std::memmove(words + 1 + nnz, out_values, sizeof(float) * nnz);
  words[0] = nnz;
  return 4 + 8 * static_cast<Size>(nnz);
}

}  // namespace

Size prepare_vector(Datum value, Metric metric, Format format, int dimensions, void* out,
                    Size capacity) {
  if (format == Format::kSparse) return prepare_sparse(value, metric, dimensions, out, capacity);
  const Size bytes = embedding::hnsw::element_bytes(format, dimensions);
  if (bytes > capacity) throw Error(ErrorCode::kInternal, "hnsw vector buffer too small");
  std::memset(out, 0, bytes);  // the padding, so that identical vectors compare equal bytewise
  switch (format) {
    case Format::kFloat32: {
      PgVector* v = detoast_vector(value);
      if (v->dim != dimensions) wrong_dimensions(dimensions, v->dim);
      auto* x = static_cast<float*>(out);
      std::memcpy(x, v->x, sizeof(float) * dimensions);
      if (metric == Metric::kCosine && !embedding::hnsw::normalize(x, dimensions)) return 0;
      return bytes;
    }
    case Format::kFloat16: {
      PgHalfVector* v = detoast_halfvec(value);
      if (v->dim != dimensions) wrong_dimensions(dimensions, v->dim);
      auto* x = static_cast<embedding::vec::Half*>(out);
      if (metric != Metric::kCosine) {
        std::memcpy(x, v->x, sizeof(embedding::vec::Half) * dimensions);
        return bytes;
      }
      // Normalised in float, then rounded to halfs (|x| <= 1 cannot overflow).
      auto* scratch = static_cast<float*>(palloc(sizeof(float) * dimensions));
      embedding::kernels::active().half_to_float(v->x, scratch, dimensions);
      const bool ok = embedding::hnsw::normalize(scratch, dimensions);
      if (ok) embedding::kernels::active().float_to_half(scratch, x, dimensions);
      pfree(scratch);
      return ok ? bytes : 0;
    }
    case Format::kBit: {
      VarBit* v = DatumGetVarBitP(value);
      if (VARBITLEN(v) != dimensions) wrong_dimensions(dimensions, VARBITLEN(v));
      std::memcpy(out, VARBITS(v), VARBITBYTES(v));
      return bytes;
    }
    case Format::kSparse:
      break;
  }
  return 0;
}

}  // namespace embedding::pg::hnsw

namespace {

char* hnsw_buildphasename(int64 phase) {
  switch (phase) {
    case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
      return const_cast<char*>("initializing");
    case embedding::pg::hnsw::kPhaseLoad:
      return const_cast<char*>("loading tuples");
    case embedding::pg::hnsw::kPhaseLink:
      return const_cast<char*>("linking the graph");
    case embedding::pg::hnsw::kPhaseWrite:
      return const_cast<char*>("writing pages");
    default:
      return nullptr;
  }
}

bool hnsw_validate(Oid opclass) { return true; }

}  // namespace

extern "C" {
PG_FUNCTION_INFO_V1(hnswhandler);
Datum hnswhandler(PG_FUNCTION_ARGS) {
  IndexAmRoutine* am = makeNode(IndexAmRoutine);
  am->amstrategies = 0;  // ordering operators only, no search strategies
  am->amsupport = 3;     // 1 distance, 2 norm (cosine), 3 type support (pgvector's, unused)
  am->amoptsprocnum = 0;
  am->amcanorder = false;
  am->amcanorderbyop = true;  // ORDER BY embedding <op> $1
  am->amcanbackward = false;
  am->amcanunique = false;
  am->amcanmulticol = false;
  am->amoptionalkey = true;
  am->amsearcharray = false;
  am->amsearchnulls = false;
  am->amstorage = false;
  am->amclusterable = false;
  am->ampredlocks = false;
  am->amcanparallel = false;
  am->amcaninclude = false;
  am->amusemaintenanceworkmem = false;  // the build reads maintenance_work_mem itself
  am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
  am->amkeytype = InvalidOid;

  am->ambuild = hnsw_build;
  am->ambuildempty = hnsw_buildempty;
  am->aminsert = hnsw_insert;
  am->ambulkdelete = hnsw_bulkdelete;
  am->amvacuumcleanup = hnsw_vacuumcleanup;
  am->amcanreturn = nullptr;  // vectors are stored normalised for cosine: no index-only scans
  am->amcostestimate = hnsw_costestimate;
  am->amoptions = hnsw_options;
  am->amproperty = nullptr;
  am->ambuildphasename = hnsw_buildphasename;
  am->amvalidate = hnsw_validate;
  am->amadjustmembers = nullptr;
  am->ambeginscan = hnsw_beginscan;
  am->amrescan = hnsw_rescan;
  am->amgettuple = hnsw_gettuple;
  am->amgetbitmap = nullptr;
  am->amendscan = hnsw_endscan;
  am->ammarkpos = nullptr;
  am->amrestrpos = nullptr;
  am->amestimateparallelscan = nullptr;
  am->aminitparallelscan = nullptr;
  am->amparallelrescan = nullptr;
  PG_RETURN_POINTER(am);
}
}
