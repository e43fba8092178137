// How the hnsw glue reaches its pages through the buffer manager: the recent-buffer fast path,
// prefetching, reading one element under its page's share lock, and locking two pages in order.
#pragma once

#include <type_traits>
#include <utility>

#include "pg/hnsw/pages.h"

namespace embedding::pg::hnsw {

// Pins `block` of the index like ReadBuffer(), but first tries the buffer this backend last found
// the block in (ReadRecentBuffer() checks its tag), which skips the shared buffer table's hash
// probe under a partition lock: the largest cost of a search's many page reads.
Buffer pin_block(Relation index, BlockNumber block);
// Starts loading into the CPU cache what pin_block(block) and reading item `offset` will touch
// (buffer descriptor, page header, line pointer), when the block's buffer is known.
void prefetch_item(Relation index, BlockNumber block, OffsetNumber offset);

// Runs fn(Page) on `block` under its share lock and returns what fn returns. The buffer manager
// calls around fn may raise a PostgreSQL error, which longjmps: fn and its result must be
// trivially destructible (capture by reference), and fn must not call PostgreSQL while the
// page is locked.
template <class Fn>
auto with_page(Relation index, BlockNumber block, Fn&& fn) {
  using Result = decltype(fn(Page{}));
  static_assert(std::is_trivially_destructible_v<std::remove_cvref_t<Fn>>,
                "with_page: the callback must be trivially destructible");
  static_assert(std::is_void_v<Result> || std::is_trivially_destructible_v<Result>,
                "with_page: the callback's result must be trivially destructible");
  Buffer buf = pin_block(index, block);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  if constexpr (std::is_void_v<Result>) {
    fn(BufferGetPage(buf));
    UnlockReleaseBuffer(buf);
  } else {
    Result result = fn(BufferGetPage(buf));
    UnlockReleaseBuffer(buf);
    return result;
  }
}

// Runs fn(const ElementTuple* element, Size size) on the element tuple of `node` under its
// page's share lock; element is nullptr when `node` is not an element tuple. As with_page().
template <class Fn>
auto with_element(Relation index, NodeId node, Fn&& fn) {
  static_assert(std::is_trivially_destructible_v<std::remove_cvref_t<Fn>>,
                "with_element: the callback must be trivially destructible");
  return with_page(index, node_block(node), [&fn, node](Page page) {
    Size size = 0;
    const auto* element =
        tuple_at<ElementTuple>(page, node_offset(node), TupleType::kElement, &size);
    return fn(element, element != nullptr ? size : Size{0});
  });
}

// Two pages locked exclusively for a writer (the same buffer twice when they are one page).
struct LockedPair {
  Buffer first;   // the buffer of the first block asked for
  Buffer second;  // the second's; equal to first for one page
};
// Locks blocks `first` and `second` exclusively in ascending block order, the order graph.h's
// lock order prescribes for writers that hold two pages.
LockedPair lock_pair(Relation index, BlockNumber first, BlockNumber second);
void unlock_pair(const LockedPair& pair);

}  // namespace embedding::pg::hnsw
