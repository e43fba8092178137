// What the vector index access methods (hnsw, ivfflat) share about the indexed column: its
// storage format (from its type), the metric (from the opclass), its dimensions, and the
// preparation of a value as the index stores it.
#include "pg/index_vector.h"

#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/vector/kernels.h"
#include "core/vector/normalize.h"
#include "pg/halfvec.h"
#include "pg/sparsevec.h"
#include "pg/vector.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/varbit.h"
}

namespace embedding::pg {

namespace {

[[noreturn]] void not_supported(const char* am) {
  throw Error(ErrorCode::kFeature, std::string("type not supported for ") + am + " index");
}

}  // namespace

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

Metric index_metric(Relation index, const char* am) {
  Oid distance_proc = index_getprocid(index, 1, 1);
  const char* name = get_func_name(distance_proc);
  if (name == nullptr) throw Error(ErrorCode::kInternal, "opclass has no distance function");
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
  not_supported(am);
}

Format index_format(Relation index, const char* am) {
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
    not_supported(am);
  }
  if (!embedding::supports(format, index_metric(index, am))) not_supported(am);
  return format;
}

int index_dimensions(Relation index, Format format, const char* am) {
  Form_pg_attribute attr = TupleDescAttr(RelationGetDescr(index), 0);
  int dims = attr->atttypmod;
  if (dims < 0) throw Error(ErrorCode::kDataException, "column does not have dimensions");
  if (dims > max_index_dimensions(format))
    throw Error(ErrorCode::kProgramLimit, "column cannot have more than " +
                                              std::to_string(max_index_dimensions(format)) +
                                              " dimensions for " + am + " index");
  return dims;
}

namespace {

[[noreturn]] void wrong_dimensions(int expected, int actual) {
  throw Error(ErrorCode::kDataException, "expected " + std::to_string(expected) +
                                             " dimensions, not " + std::to_string(actual));
}

// A sparsevec as the index stores it: nnz, the indices, the values (normalised for cosine, the
// elements that underflow to zero dropped).
Size prepare_sparse(Datum value, Metric metric, int dimensions, void* out, Size capacity,
                    const char* am) {
  PgSparseVector* v = detoast_sparsevec(value);
  if (v->dim != dimensions) wrong_dimensions(dimensions, v->dim);
  const Size needed = 4 + 8 * static_cast<Size>(v->nnz);
  if (needed > capacity)
    throw Error(ErrorCode::kProgramLimit, "sparsevec cannot have more than " +
                                              std::to_string((capacity - 4) / 8) +
                                              " non-zero elements for " + am + " index");
  auto* words = static_cast<int32*>(out);
  // The values go behind v->nnz indices first, then move up once the kept count is known.
  auto* out_values = reinterpret_cast<float*>(words + 1 + v->nnz);
  if (metric != Metric::kCosine)
    std::memcpy(out_values, sparse_values(v), sizeof(float) * v->nnz);
  else if (!embedding::vec::normalize(sparse_values(v), out_values, v->nnz,
                                      embedding::vec::NoDirection::kKeep))
    return 0;
  int32 nnz = 0;
  for (int32 i = 0; i < v->nnz; ++i) {
    if (out_values[i] == 0.0f) continue;
    words[1 + nnz] = v->indices[i];
    out_values[nnz++] = out_values[i];
  }
  // Values were written after v->nnz indices; move them up behind the nnz kept.
  std::memmove(words + 1 + nnz, out_values, sizeof(float) * nnz);
  words[0] = nnz;
  return 4 + 8 * static_cast<Size>(nnz);
}

}  // namespace

Size prepare_vector(Datum value, Metric metric, Format format, int dimensions, void* out,
                    Size capacity, const char* am) {
  if (format == Format::kSparse)
    return prepare_sparse(value, metric, dimensions, out, capacity, am);
  const Size bytes = embedding::element_bytes(format, dimensions);
  if (bytes > capacity)
    throw Error(ErrorCode::kInternal, std::string(am) + " vector buffer too small");
  std::memset(out, 0, bytes);  // the padding, so that identical vectors compare equal bytewise
  switch (format) {
    case Format::kFloat32: {
      PgVector* v = detoast_vector(value);
      if (v->dim != dimensions) wrong_dimensions(dimensions, v->dim);
      auto* x = static_cast<float*>(out);
      std::memcpy(x, v->x, sizeof(float) * dimensions);
      if (metric == Metric::kCosine &&
          !embedding::vec::normalize(x, dimensions, embedding::vec::NoDirection::kKeep))
        return 0;
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
      const bool ok =
          embedding::vec::normalize(scratch, dimensions, embedding::vec::NoDirection::kKeep);
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

}  // namespace embedding::pg
