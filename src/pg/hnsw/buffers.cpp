// The buffer-manager side of the hnsw glue: the recent-buffer fast path (pin_block), prefetching
// what it will touch, and the ordered two-page lock of writers.
#include "pg/hnsw/buffers.h"

#include <array>
#include <vector>

#include "pg/pg_call.h"

extern "C" {
#include "miscadmin.h"
#include "pgstat.h"
// PostgreSQL 15's private buffer-manager header, for BufferDesc and its state bits: pin_block()
// raises a buffer's usage count itself (see raise_usage_count()) and prefetch_item() prefetches
// the descriptor. Both depend on that version's layout of the buffer descriptors.
#include "storage/buf_internals.h"
#include "utils/memutils.h"
}

namespace embedding::pg::hnsw {
namespace {

// Where this backend last found each block of the few indexes it used most recently. A stale
// entry costs one failed tag check; entries are never trusted without it.
class RecentBuffers {
 public:
  // A temporary index (local buffers) is told apart from a shared one by its backend.
  Buffer* slot(const RelFileNode& node, BackendId backend, BlockNumber block) {
    Entry* entry = nullptr;
    for (Entry& e : entries_)
      if (e.used && RelFileNodeEquals(e.node, node) && e.backend == backend) entry = &e;
    if (entry == nullptr) {
      entry = &entries_[next_victim_];
      next_victim_ = (next_victim_ + 1) % entries_.size();
      entry->used = true;
      entry->node = node;
      entry->backend = backend;
      entry->buffers.clear();
    }
    if (block >= entry->buffers.size()) entry->buffers.resize(block + 1024, InvalidBuffer);
    return &entry->buffers[block];
  }

 private:
  struct Entry {
    bool used = false;
    RelFileNode node{};
    BackendId backend = InvalidBackendId;
    std::vector<Buffer> buffers;
  };
  std::array<Entry, 4> entries_;
  std::size_t next_victim_ = 0;
};

RecentBuffers& recent_buffers() {
  static RecentBuffers* recent = nullptr;
  if (recent == nullptr) recent = new_owned<RecentBuffers>(TopMemoryContext);
  return *recent;
}

// Raises the usage count of a shared buffer this backend has pinned, as a ReadBuffer() pin does:
// the clock sweep lowers it on each pass and evicts a buffer whose count reached zero. Done the way
// PinBuffer() does it, by compare-and-swap while the header is not locked; a lost race (another
// backend changed the state meanwhile) leaves the count as it is, which is only a hint.
void raise_usage_count(Buffer buffer) {
  BufferDesc* desc = GetBufferDescriptor(buffer - 1);
  uint32 state = pg_atomic_read_u32(&desc->state);
  if ((state & BM_LOCKED) == 0 && BUF_STATE_GET_USAGECOUNT(state) < BM_MAX_USAGE_COUNT)
    pg_atomic_compare_exchange_u32(&desc->state, &state, state + BUF_USAGECOUNT_ONE);
}

}  // namespace

Buffer pin_block(Relation index, BlockNumber block) {
  // ReadRecentBuffer() skips the shared buffer table's hash probe under a partition lock. But it
  // does not raise the usage count of a shared buffer this backend has not pinned already (a local
  // buffer's it does), so a page read only through it would look unused to the clock sweep and be
  // evicted under pressure however hot it is: the count is raised here as ReadBuffer() would.
  Buffer* recent = recent_buffers().slot(index->rd_node, index->rd_backend, block);
  if (*recent != InvalidBuffer && ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, block, *recent)) {
    if (!BufferIsLocal(*recent)) raise_usage_count(*recent);
    // Counted as ReadBuffer() counts a hit: pg_statio_* and VACUUM's cost-based delay.
    pgstat_count_buffer_read(index);
    pgstat_count_buffer_hit(index);
    VacuumPageHit++;
    if (VacuumCostActive) VacuumCostBalance += VacuumCostPageHit;
    return *recent;
  }
  *recent = ReadBuffer(index, block);
  return *recent;
}

void prefetch_item(Relation index, BlockNumber block, OffsetNumber offset) {
  const Buffer recent = *recent_buffers().slot(index->rd_node, index->rd_backend, block);
  if (recent == InvalidBuffer || BufferIsLocal(recent)) return;
  // Only addresses are computed here: a stale buffer just prefetches the wrong lines.
  __builtin_prefetch(GetBufferDescriptor(recent - 1));
  Page page = BufferGetPage(recent);
  __builtin_prefetch(page);
  __builtin_prefetch(PageGetItemId(page, offset));
}

LockedPair lock_pair(Relation index, BlockNumber first, BlockNumber second) {
  LockedPair pair;
  pair.first = ReadBuffer(index, first);
  pair.second = second == first ? pair.first : ReadBuffer(index, second);
  if (second < first) LockBuffer(pair.second, BUFFER_LOCK_EXCLUSIVE);
  LockBuffer(pair.first, BUFFER_LOCK_EXCLUSIVE);
  if (second > first) LockBuffer(pair.second, BUFFER_LOCK_EXCLUSIVE);
  return pair;
}

void unlock_pair(const LockedPair& pair) {
  if (pair.second != pair.first) UnlockReleaseBuffer(pair.second);
  UnlockReleaseBuffer(pair.first);
}

}  // namespace embedding::pg::hnsw
