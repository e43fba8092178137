// What the index access methods share in ambuild and ambuildempty: the build's threads, its
// state in a memory context of its own, one WAL pass over the written pages, and the init fork.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "storage/bufpage.h"
#include "utils/rel.h"
}

#include "pg/pg_call.h"

namespace embedding::pg {

// Threads a build runs its core work on: the backend's own and one per parallel maintenance
// worker allowed, at most one per core.
int build_threads();
// Logs pgvector's DEBUG1 message of a parallel build ("using N parallel workers": its tests and
// users look for it) when `threads` is more than one; `detail` says what the threads (of this
// backend, not background workers) do.
void report_build_threads(int threads, const char* detail);

// Throws unless the index is empty, as ambuild finds it.
void check_new_index(Relation index);
// The start of ambuild: checks the index is empty, then makes the build's state (with its member
// `index` set), which `context` owns: it is deleted with the context, also when an error ends the
// build.
template <class State>
State* start_build(Relation index, MemoryContext context) {
  check_new_index(index);
  State* state = new_owned<State>(context);
  state->index = index;
  return state;
}
// The end of ambuild: the result PostgreSQL gets (in the current memory context), after the
// build's context, and with it its state, is deleted.
IndexBuildResult* finish_build(MemoryContext context, double heap_tuples, double index_tuples);

// WAL-logs every page of the index in one pass, after a build wrote them through the buffer
// manager without WAL (log_newpage_range); nothing for an unlogged or temporary index.
void log_build_pages(Relation index);

// ambuildempty: writes pages[0..count) as blocks 0..count-1 of the index's init fork (what an
// unlogged index is reset to after a crash), each WAL-logged, then syncs the fork.
void write_init_fork(Relation index, const Page* pages, int count);

}  // namespace embedding::pg
