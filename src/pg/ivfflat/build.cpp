// ivfflat build: k-means on a sample of the rows, every row appended to its nearest center's list,
// the centers written, then all pages WAL-logged in one pass.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/common/error.h"
#include "core/ivf/assign.h"
#include "core/ivf/kmeans.h"
#include "core/vector/kernels.h"
#include "core/vector/normalize.h"
#include "pg/am/build.h"
#include "pg/am/metapage.h"
#include "pg/guard.h"
#include "pg/ivfflat/centers.h"
#include "pg/ivfflat/codes.h"
#include "pg/ivfflat/ivfflat.h"
#include "pg/ivfflat/options.h"
#include "pg/ivfflat/pages.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/tableam.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
}

namespace embedding::pg::ivfflat {
namespace {

using embedding::element_bytes;

// Rows whose lists are found together, on all build threads (at most 32 MB of vectors, and a
// quarter of maintenance_work_mem).
constexpr std::size_t kBatchRows = 4096;

struct BuildState {
  Relation index;
  Metric metric;
  Format format;
  int dimensions;
  int lists;
  Size bytes;  // of one stored vector
  // Pass 1: the sample, as floats (unit vectors for inner product and cosine), or for bit
  // strings as they are stored.
  std::vector<float> sample;
  std::vector<uint8> bit_sample;
  std::size_t sampled = 0;
  std::size_t target = 0;
  Size memory_limit = 0;
  double seen = 0;
  std::mt19937_64 rng{0x5eed};
  // Pass 2: the centers as stored, and each list's last page.
  std::vector<uint32> centers;
  std::vector<BlockNumber> first;
  std::vector<BlockNumber> last;
  std::unique_ptr<embedding::VectorDistance> rank;
  int threads = 1;
  // Pass 2 works in batches of rows (see flush_batch()).
  std::vector<ItemPointerData> batch_tids;
  std::vector<uint32> batch_rows;
  std::vector<std::uint32_t> batch_labels;
  // A quantised index (code_bits > 0): each list's codec (made at its first row), the code block
  // it is filling (in memory until full or the end) and its code chain.
  MetaPage meta{};
  int code_bits = 0;
  std::vector<std::unique_ptr<embedding::quant::SlotCodec>> codecs;
  std::vector<std::vector<uint8>> open_blocks;
  std::vector<BlockNumber> code_first;
  std::vector<BlockNumber> code_last;
  std::unique_ptr<embedding::quant::ListCodes> layout;
  std::vector<uint8> slot;
  std::vector<float> scratch;
  std::vector<float> row_floats;
  double index_tuples = 0;
  uint32 vector[2000 + 1];  // a prepared row (<= 8,000 bytes)
  float floats[4000];
};

// A prepared row as floats (for the sample).
void to_floats(const BuildState& s, float* out) {
  if (s.format == Format::kFloat16)
    embedding::kernels::active().half_to_float(
        reinterpret_cast<const embedding::vec::Half*>(s.vector), out, s.dimensions);
  else
    std::memcpy(out, s.vector, sizeof(float) * s.dimensions);
}

[[noreturn]] void memory_error(Size memory) {
  throw embedding::Error(embedding::ErrorCode::kProgramLimit,
                         "memory required is " + std::to_string(memory / (1024 * 1024) + 1) +
                             " MB, maintenance_work_mem is " +
                             std::to_string(maintenance_work_mem / 1024) + " MB");
}

void sample_row(BuildState& s, Datum value) {
  if (prepare_vector(value, s.metric, s.format, s.dimensions, s.vector, sizeof(s.vector),
                     "ivfflat") == 0)
    return;
  const bool bits = s.format == Format::kBit;
  if (!bits) to_floats(s, s.floats);
  // A zero vector has no direction: spherical k-means (inner product, cosine) leaves it out.
  if (center_metric(s.metric) == Metric::kInnerProduct &&
      !embedding::vec::normalize(s.floats, s.dimensions, embedding::vec::NoDirection::kKeep))
    return;
  const Size row_bytes = bits ? s.bytes : s.dimensions * sizeof(float);
  // Algorithm R: the first `target` rows, then each later row replaces a random one with
  // probability target / seen.
  s.seen += 1;
  std::size_t slot;
  if (s.sampled < s.target) {
    // The sample grows as rows come: what it holds, with the centers k-means will need, must fit
    // in maintenance_work_mem.
    const Size memory = (s.sampled + 1 + s.lists) * row_bytes;
    if (memory > s.memory_limit) memory_error(memory);
    slot = s.sampled++;
    if (bits)
      s.bit_sample.resize(s.sampled * s.bytes);
    else
      s.sample.resize(s.sampled * s.dimensions);
  } else {
    slot = static_cast<std::size_t>(std::uniform_real_distribution<double>(0.0, s.seen)(s.rng));
    if (slot >= s.target) return;
  }
  if (bits)
    std::memcpy(s.bit_sample.data() + slot * s.bytes, s.vector, s.bytes);
  else
    std::memcpy(s.sample.data() + slot * s.dimensions, s.floats, sizeof(float) * s.dimensions);
}

void sample_callback(Relation, ItemPointer, Datum* values, bool* isnull, bool, void* state) {
  if (isnull[0]) return;
  embedding::pg::guarded([&]() { sample_row(*static_cast<BuildState*>(state), values[0]); });
}

Buffer new_page(Relation index) {
  Buffer buf = ReadBuffer(index, P_NEW);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  init_page(BufferGetPage(buf));
  MarkBufferDirty(buf);
  return buf;
}

// Appends `item` to the chain that ends at `last` (a new page linked after it when it is full;
// with no chain yet, a new page becomes `first` and `last`) and returns where it went.
ItemPointerData append_item(BuildState& s, BlockNumber& first, BlockNumber& last, const void* item,
                            Size size) {
  Buffer buf;
  if (last == InvalidBlockNumber) {
    buf = new_page(s.index);
    first = last = BufferGetBlockNumber(buf);
  } else {
    buf = ReadBuffer(s.index, last);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  }
  Page page = BufferGetPage(buf);
  if (PageGetFreeSpace(page) < MAXALIGN(size)) {
    Buffer next = new_page(s.index);
    page_opaque(page)->next = BufferGetBlockNumber(next);
    MarkBufferDirty(buf);
    UnlockReleaseBuffer(buf);
    buf = next;
    page = BufferGetPage(buf);
    last = BufferGetBlockNumber(buf);
  }
  ItemPointerData where;
  ItemPointerSet(&where, BufferGetBlockNumber(buf), add_item(s.index, page, item, size));
  MarkBufferDirty(buf);
  UnlockReleaseBuffer(buf);
  return where;
}

// Writes list `list`'s open code block to its code chain and empties it.
void write_code_block(BuildState& s, int list) {
  std::vector<uint8>& block = s.open_blocks[list];
  append_item(s, s.code_first[list], s.code_last[list], block.data(), block.size());
  std::fill(block.begin(), block.end(), 0);
}

// Adds the code of the row at `entry` (heap TID `tid`, prepared vector `vector`) to its list's
// open code block, coded around the list's center.
void add_code(BuildState& s, int list, const ItemPointerData& entry, const ItemPointerData& tid,
              const void* vector) {
  if (!s.codecs[list]) s.codecs[list] = list_codec(s.meta, s.centers.data() + list * (s.bytes / 4));
  embedding::quant::stored_floats(s.format, vector, s.dimensions, s.row_floats.data());
  s.codecs[list]->encode(s.row_floats.data(), s.slot.data(), s.scratch.data());
  std::vector<uint8>& block = s.open_blocks[list];
  if (block.empty()) block.assign(code_block_size(s.meta), 0);
  auto* tuple = reinterpret_cast<CodeBlockTuple*>(block.data());
  const int row = tuple->count++;
  tuple->entry[row] = entry;
  tuple->heap[row] = tid;
  s.layout->put(tuple->area, row, s.slot.data());
  if (tuple->count == kCodeRows) write_code_block(s, list);
}

// Appends the prepared row `vector` to list `list` (its last page, or a new one linked after it),
// and in a quantised index its code.
void append_row(BuildState& s, int list, const ItemPointerData& tid, const void* vector) {
  const Size size = offsetof(EntryTuple, vector) + s.bytes;
  auto* entry = static_cast<EntryTuple*>(palloc0(size));
  entry->heap_tid = tid;
  std::memcpy(entry->vector, vector, s.bytes);
  const ItemPointerData where = append_item(s, s.first[list], s.last[list], entry, size);
  pfree(entry);
  if (s.code_bits != 0) add_code(s, list, where, tid, vector);
  s.index_tuples += 1;
}

// A quantised index: room for each list's codec and open code block, within
// maintenance_work_mem, and the scratch of encoding.
void start_codes(BuildState& s) {
  if (s.code_bits == 0) return;
  const auto padded = embedding::quant::padded_dims(s.dimensions);
  const Size memory = static_cast<Size>(s.lists) *
                      (code_block_size(s.meta) + (s.dimensions + padded) * sizeof(float) * 2);
  if (memory > s.memory_limit) memory_error(memory);
  s.codecs.resize(s.lists);
  s.open_blocks.resize(s.lists);
  s.code_first.assign(s.lists, InvalidBlockNumber);
  s.code_last.assign(s.lists, InvalidBlockNumber);
  s.layout = std::make_unique<embedding::quant::ListCodes>(code_layout(s.meta));
  const auto codec = list_codec(s.meta, s.centers.data());
  s.slot.assign(codec->stride(), 0);
  s.scratch.assign(codec->scratch_floats(), 0.0f);
  s.row_floats.assign(s.dimensions, 0.0f);
}

// The partly filled code blocks, after all full ones.
void finish_codes(BuildState& s) {
  if (s.code_bits == 0) return;
  for (int list = 0; list < s.lists; ++list)
    if (!s.open_blocks[list].empty() &&
        reinterpret_cast<const CodeBlockTuple*>(s.open_blocks[list].data())->count > 0)
      write_code_block(s, list);
  s.open_blocks = {};
  s.codecs.clear();
}

// The batched rows: their lists found on the core's threads (distances only, no PostgreSQL
// calls), then appended in scan order on this thread.
void flush_batch(BuildState& s) {
  const std::size_t n = s.batch_tids.size();
  if (n == 0) return;
  s.batch_labels.resize(n);
  embedding::ivf::assign_nearest(*s.rank, s.centers.data(), s.lists, s.bytes, s.batch_rows.data(),
                                 n, s.bytes, s.batch_labels.data(), s.threads);
  for (std::size_t i = 0; i < n; ++i)
    append_row(s, static_cast<int>(s.batch_labels[i]), s.batch_tids[i],
               s.batch_rows.data() + i * (s.bytes / 4));
  s.batch_tids.clear();
  s.batch_rows.clear();
}

void add_row(BuildState& s, ItemPointer tid, Datum value) {
  if (prepare_vector(value, s.metric, s.format, s.dimensions, s.vector, sizeof(s.vector),
                     "ivfflat") == 0)
    return;
  s.batch_tids.push_back(*tid);
  s.batch_rows.insert(s.batch_rows.end(), s.vector, s.vector + s.bytes / 4);
  if (s.batch_tids.size() >= kBatchRows || s.batch_rows.size() * 4 >= s.memory_limit / 4)
    flush_batch(s);
}

void add_callback(Relation, ItemPointer tid, Datum* values, bool* isnull, bool, void* state) {
  if (isnull[0]) return;
  embedding::pg::guarded([&]() { add_row(*static_cast<BuildState*>(state), tid, values[0]); });
}

// The metapage and the center pages (lists not yet placed); then one empty page per list.
void create_pages(BuildState& s, const MetaPage& meta) {
  Buffer buf = new_page(s.index);
  write_meta_page(BufferGetPage(buf), &meta, sizeof meta);
  UnlockReleaseBuffer(buf);
  for (int p = 0; p < meta.center_pages; ++p) UnlockReleaseBuffer(new_page(s.index));
  s.first.resize(s.lists);
  s.last.resize(s.lists);
  for (int list = 0; list < s.lists; ++list) {
    Buffer lbuf = new_page(s.index);
    s.first[list] = s.last[list] = BufferGetBlockNumber(lbuf);
    UnlockReleaseBuffer(lbuf);
  }
}

void write_centers(BuildState& s, const MetaPage& meta) {
  const Size size = center_size(meta);
  auto* center = static_cast<CenterTuple*>(palloc0(size));
  for (int list = 0; list < s.lists; ++list) {
    center->first = s.first[list];
    center->last = s.last[list];
    if (s.code_bits != 0) *code_chain(meta, center) = {s.code_first[list], s.code_last[list]};
    std::memcpy(center->vector, s.centers.data() + list * (s.bytes / 4), s.bytes);
    Buffer buf = ReadBuffer(s.index, center_block(meta, list));
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    add_item(s.index, BufferGetPage(buf), center, size, center_offset(meta, list));
    MarkBufferDirty(buf);
    UnlockReleaseBuffer(buf);
  }
  pfree(center);
}

// k-means on the sample, then the centers in the index's format.
void compute_centers(BuildState& s) {
  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseKMeans);
  embedding::ivf::KMeansOptions options;
  options.threads = s.threads = build_threads();
  report_build_threads(
      options.threads,
      "k-means and the assignment of rows to lists run on threads of this backend.");
  options.spherical = center_metric(s.metric) == Metric::kInnerProduct;
  s.centers.assign(s.lists * (s.bytes / 4), 0);
  if (s.format == Format::kBit) {
    // Per-bit counts of every center's rows, when there is more than one row a list.
    const Size memory = s.bit_sample.size() + static_cast<Size>(s.lists) * s.dimensions * 4;
    if (s.sampled > static_cast<std::size_t>(s.lists) && memory > s.memory_limit)
      memory_error(memory);
    const std::vector<uint8> centers = embedding::ivf::kmeans_bits(
        s.bit_sample.data(), s.sampled, s.bytes, s.dimensions, s.lists, options);
    for (int list = 0; list < s.lists; ++list)
      std::memcpy(s.centers.data() + list * (s.bytes / 4), centers.data() + list * s.bytes,
                  s.bytes);
    s.bit_sample = {};
    return;
  }
  const embedding::ivf::KMeansResult result =
      embedding::ivf::kmeans(s.sample.data(), s.sampled, s.dimensions, s.lists, options);
  s.sample = {};
  for (int list = 0; list < s.lists; ++list) {
    const float* c = result.centers.data() + static_cast<std::size_t>(list) * s.dimensions;
    uint32* out = s.centers.data() + list * (s.bytes / 4);
    if (s.format == Format::kFloat16)
      embedding::kernels::active().float_to_half(c, reinterpret_cast<embedding::vec::Half*>(out),
                                                 s.dimensions);
    else
      std::memcpy(out, c, sizeof(float) * s.dimensions);
  }
}

}  // namespace
}  // namespace embedding::pg::ivfflat

using namespace embedding::pg::ivfflat;
using embedding::pg::Format;

extern "C" IndexBuildResult* ivfflat_build(Relation heap, Relation index, IndexInfo* info) {
  return embedding::pg::guarded([&]() {
    MemoryContext cxt =
        AllocSetContextCreate(CurrentMemoryContext, "ivfflat build", ALLOCSET_DEFAULT_SIZES);
    BuildState* s = embedding::pg::start_build<BuildState>(index, cxt);
    s->format = embedding::pg::index_format(index, "ivfflat");
    if (s->format == Format::kSparse)
      throw embedding::Error(embedding::ErrorCode::kFeature,
                             "type not supported for ivfflat index");
    s->metric = embedding::pg::index_metric(index, "ivfflat");
    s->dimensions = embedding::pg::index_dimensions(index, s->format, "ivfflat");
    s->lists = index_lists(index);
    s->bytes = element_bytes(s->format, s->dimensions);
    if (index_quantization(index) == Quantization::kRabitq)
      s->code_bits = code_bits_for(s->format, s->metric, s->dimensions);
    // 50 sample rows a list, at least 10,000, no more than the table can hold.
    const double max_rows =
        static_cast<double>(RelationGetNumberOfBlocks(heap)) * MaxHeapTuplesPerPage;
    s->target = static_cast<std::size_t>(
        std::max(1.0, std::min<double>(std::max(s->lists * 50, 10000), max_rows)));
    s->memory_limit = static_cast<Size>(maintenance_work_mem) * 1024;
    table_index_build_scan(heap, index, info, false, false, sample_callback, s, nullptr);
    if (s->sampled < static_cast<std::size_t>(s->lists))
      ereport(NOTICE, (errmsg("ivfflat index created with little data"),
                       errdetail("This will cause low recall."),
                       errhint("Drop the index until the table has more data.")));
    compute_centers(*s);
    s->rank = std::make_unique<embedding::VectorDistance>(center_metric(s->metric), s->dimensions,
                                                          s->format);
    const MetaPage meta = new_meta(s->format, s->metric, s->dimensions, s->lists, s->code_bits);
    s->meta = meta;
    start_codes(*s);
    create_pages(*s, meta);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseAssign);
    const double heap_tuples =
        table_index_build_scan(heap, index, info, false, true, add_callback, s, nullptr);
    flush_batch(*s);
    finish_codes(*s);
    write_centers(*s, meta);
    embedding::pg::log_build_pages(index);
    return embedding::pg::finish_build(cxt, heap_tuples, s->index_tuples);
  });
}

// The init fork of an unlogged index: a metapage for one list, its center page and list page.
extern "C" void ivfflat_buildempty(Relation index) {
  embedding::pg::guarded([&]() {
    const Format format = embedding::pg::index_format(index, "ivfflat");
    const embedding::Metric metric = embedding::pg::index_metric(index, "ivfflat");
    const int dimensions = embedding::pg::index_dimensions(index, format, "ivfflat");
    const int bits = index_quantization(index) == Quantization::kRabitq
                         ? code_bits_for(format, metric, dimensions)
                         : 0;
    const MetaPage meta = new_meta(format, metric, dimensions, 1, bits);
    Page pages[3];  // blocks 0, 1, 2
    for (Page& page : pages) page = static_cast<Page>(palloc(BLCKSZ));
    init_meta_page(pages[kMetaBlock], meta);
    init_page(pages[1]);
    const Size size = center_size(meta);
    auto* center = static_cast<CenterTuple*>(palloc0(size));
    center->first = center->last = 2;
    if (bits != 0) *code_chain(meta, center) = {InvalidBlockNumber, InvalidBlockNumber};
    add_item(index, pages[1], center, size, FirstOffsetNumber);
    init_page(pages[2]);
    embedding::pg::write_init_fork(index, pages, 3);
  });
}
