// The table of loaded models, "#embedding".model_store: reads, the writes that only load_model()
// and drop_model() make, and the SHA-256 content hash that names a model's bytes. Every function
// here calls PostgreSQL and may ereport: call them through pg_call() when C++ objects are alive.
#pragma once

#include <cstddef>

#include "core/models/model_image.h"

extern "C" {
#include "postgres.h"
}

namespace embedding::pg::store {

// Kept in a schema of its own whose name sorts before ordinary schema names, so that pg_dump
// writes (and a plain pg_restore loads) the models' rows before any user table whose generated
// columns or CHECK constraints call embed() on them.
inline constexpr const char* kSchema = "#embedding";
inline constexpr const char* kTable = "\"#embedding\".model_store";

inline constexpr std::size_t kHashHexSize = 65;  // 64 hex digits and a NUL

// SHA-256 of bytes as lower-case hex; polls for interrupts between 16 MiB steps.
void sha256_hex(const void* bytes, std::size_t length, char out[kHashHexSize]);

// True when text is exactly 64 lower-case hex digits (so it is safe as a file name).
bool is_hash_hex(const char* text);

// The live (not dropped) model called name: its content hash into hash (empty when there is
// none) and, when data is not null, its file image copied into the caller's memory context.
// Opens its own SPI connection.
void lookup(const char* name, char hash[kHashHexSize], bytea** data);

// The content hashes of every live model (palloc'd, in the caller's memory context). Opens its
// own SPI connection.
char** live_hashes(int* count);

// Runs sql (with its parameters) against the table as the table's owner, with the store's guard
// trigger told that the write comes from load_model()/drop_model(). The caller has checked the
// privileges and the contract; sql must be fully schema-qualified (OPERATOR(pg_catalog.=)).
// Inside an SPI connection. Returns SPI_processed (SPI_tuptable holds the rows of a SELECT).
// nulls: as SPI_execute_with_args ('n' marks a NULL parameter; nullptr for none).
uint64 execute_as_owner(const char* sql, int nargs, Oid* types, Datum* values,
                        const char* nulls = nullptr);

// Stores a new model (load_model(), pca_fit(), kmeans_fit()): a row with the SHA-256 of bytes,
// written as the table's owner. A live model of that name is an error, and so is a dropped one
// whose hash differs (a name always means the same bytes); a dropped one with the same hash is
// revived. The caller has checked the privileges. Opens its own SPI connection.
void insert_model(const char* name, const char* source, const char* format,
                  const embedding::models::ModelSummary& summary, const void* bytes,
                  std::size_t size);
// The same with the image already in a palloc'd bytea (train_model() builds it there, so that
// the image is not held twice).
void insert_model_bytea(const char* name, const char* source, const char* format,
                        const embedding::models::ModelSummary& summary, bytea* data);

}  // namespace embedding::pg::store
