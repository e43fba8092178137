// MemoryGraph::build: links the pending nodes on a WorkerTeam (core/common/threads.h). Workers run
// core code only, with signals blocked; the calling thread works too and alone reports progress.
#include <algorithm>
#include <chrono>
#include <limits>

#include "core/common/error.h"
#include "core/common/threads.h"
#include "core/hnsw/memory_graph.h"

namespace embedding::hnsw {

void MemoryGraph::build(const BuildOptions& options) {
  if (broken_) throw Error(ErrorCode::kInternal, "HNSW graph used after an interrupted build");
  const std::size_t begin = linked_;
  const std::size_t end = size();
  const std::size_t total = end - begin;
  if (total == 0) {
    if (options.progress) options.progress(0, 0);
    return;
  }
  const int threads = std::max(1, options.threads);
  if (threads > 1 && lock_count_ < end) {
    locks_ = std::make_unique<std::atomic<std::uint8_t>[]>(end);  // zeroed: unlocked
    lock_count_ = end;
  }

  WorkerTeam team(threads);
  std::atomic<std::size_t> next{begin};
  std::atomic<std::size_t> done{0};
  const auto cancelled = [&] { return options.cancel != nullptr && options.cancel->cancelled(); };

  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::milliseconds(std::max(1, options.progress_interval_ms));
  Clock::time_point next_report = Clock::now() + interval;
  const auto report = [&](bool force) {
    if (!options.progress) return;
    const Clock::time_point now = Clock::now();
    if (!force && now < next_report) return;
    next_report = now + interval;
    options.progress(done.load(std::memory_order_relaxed), total);
  };

  // Each thread claims one node at a time: an insert costs far more than the atomic add,
  // and nodes are linked roughly in id order, as a serial build would.
  const auto work = [&](int part) {
    MemorySearchContext context;
    prepare_context(context);
    while (!team.stopped()) {
      if (cancelled()) {
        team.stop();
        break;
      }
      const std::size_t node = next.fetch_add(1, std::memory_order_relaxed);
      if (node >= end) break;
      link_node(node, context);
      done.fetch_add(1, std::memory_order_relaxed);
      if (part == 0) report(false);
    }
  };
  // Once its own part is done, the caller keeps reporting (and letting the progress callback
  // cancel) until the workers finish.
  const auto waiting = [&] {
    report(false);
    if (cancelled()) team.stop();
  };

  concurrent_ = threads > 1;
  try {
    team.run(work, waiting);
  } catch (...) {
    concurrent_ = false;
    broken_ = true;
    throw;
  }
  concurrent_ = false;
  if (done.load() < total) {
    broken_ = true;
    throw Error(ErrorCode::kCancelled, "canceling statement due to user request",
                "HNSW index build interrupted");
  }
  linked_ = end;
  sort_duplicates();
  connect_orphans();
  report(true);
}

// Pruning can drop a node from every list that held it (rarely: test/bench/README.md, "Figures
// moved out of comments"). Nothing leads a search there, so its rows are never returned, not
// even for their own vector. Each such layer-0 node takes a slot in the list of its closest own
// neighbour that has room or a member with other in-links to spare (the member farthest from the
// list's owner is replaced). One pass over the lists, and a temporary count of 4 bytes per node
// beyond estimate_bytes_per_node(). Groups of nodes that link only to each other are not
// detected.
//
// Not for inner product: there a node without in-links is the normal case, not an accident (a
// small vector is never the largest inner product of its neighbours, and no query's best match
// either), and giving each one a slot pushes the links among large vectors, which every search
// follows, out of their lists and costs recall.
void MemoryGraph::connect_orphans() {
  const std::optional<EntryPoint> entry = entry_point();
  if (!entry || metric() == Metric::kInnerProduct) return;
  std::vector<std::uint32_t> in_links(size(), 0);
  for (NodeId n = 0; n < size(); ++n)
    for (std::uint32_t id : neighbor_list(n, 0)) ++in_links[id];
  const std::size_t capacity = neighbor_capacity(0);
  std::vector<Candidate> hosts;
  for (NodeId orphan = 0; orphan < size(); ++orphan) {
    if (in_links[orphan] != 0 || orphan == entry->node || is_duplicate(orphan)) continue;
    hosts.clear();
    for (std::uint32_t id : neighbor_list(orphan, 0))
      hosts.push_back({orderable(distance(orphan, id)), id});
    std::sort(hosts.begin(), hosts.end(), closer);
    for (const Candidate& host : hosts) {
      std::uint32_t* list = list_at(host.node, 0);
      float* distances = distances_at(host.node, 0);
      std::size_t count = list[0] & kCountMask;
      std::size_t slot = count;
      if (count == capacity) {
        float farthest = -std::numeric_limits<float>::infinity();
        for (std::size_t i = 0; i < count; ++i) {
          const float d = orderable(distance(host.node, list[1 + i]));
          if (in_links[list[1 + i]] >= 2 && d > farthest) farthest = d, slot = i;
        }
        if (slot == count) continue;  // every member would become an orphan itself
        --in_links[list[1 + slot]];
      } else {
        ++count;
      }
      list[1 + slot] = static_cast<std::uint32_t>(orphan);
      distances[slot] = host.distance;
      list[0] = static_cast<std::uint32_t>(count);  // the selection split is unknown now
      ++in_links[orphan];
      break;
    }
  }
}

}  // namespace embedding::hnsw
