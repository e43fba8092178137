// The names the vector types' SQL-callable functions use: their extern "C" definitions stand
// outside namespace embedding, so each glue file of the types would otherwise repeat this list.
#pragma once

#include "core/common/error.h"
#include "pg/halfvec.h"
#include "pg/sparsevec.h"
#include "pg/vector.h"

namespace embedding::vec {}
namespace vec = embedding::vec;
using embedding::Error;
using embedding::ErrorCode;
using embedding::pg::PgHalfVector;
using embedding::pg::PgSparseVector;
using embedding::pg::PgVector;
