// The centers of an ivfflat index: reading them into memory and moving a list's insert page (see
// centers.h).
#include "pg/ivfflat/centers.h"

#include <algorithm>
#include <cstring>

namespace embedding::pg::ivfflat {

Metric center_metric(Metric metric) {
  if (metric == Metric::kL2 || metric == Metric::kHamming) return metric;
  return Metric::kInnerProduct;
}

void read_centers(Relation index, Centers& out) {
  out.meta = read_meta(index);
  const MetaPage& meta = out.meta;
  const Size bytes = vector_bytes(meta);
  out.words = bytes / sizeof(uint32);
  out.vectors.resize(meta.lists * out.words);
  out.first.resize(meta.lists);
  out.last.resize(meta.lists);
  out.code_first.assign(quantized(meta) ? meta.lists : 0, InvalidBlockNumber);
  out.code_last.assign(quantized(meta) ? meta.lists : 0, InvalidBlockNumber);
  // A page at a time, all of its centers read under its share lock.
  for (int start = 0; start < meta.lists; start += meta.centers_per_page) {
    Buffer buf = ReadBuffer(index, center_block(meta, start));
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    const int end = std::min<int>(meta.lists, start + meta.centers_per_page);
    for (int i = start; i < end; ++i) {
      const OffsetNumber off = center_offset(meta, i);
      if (off > PageGetMaxOffsetNumber(page)) {
        UnlockReleaseBuffer(buf);
        corrupt(index, "missing center");
      }
      auto* center = reinterpret_cast<CenterTuple*>(PageGetItem(page, PageGetItemId(page, off)));
      out.first[i] = center->first;
      out.last[i] = center->last;
      std::memcpy(out.vectors.data() + i * out.words, center->vector, bytes);
      if (quantized(meta)) {
        out.code_first[i] = code_chain(meta, center)->first;
        out.code_last[i] = code_chain(meta, center)->last;
      }
    }
    UnlockReleaseBuffer(buf);
  }
}

void set_insert_page(Relation index, const MetaPage& meta, int list, BlockNumber block,
                     bool codes) {
  Buffer cbuf = ReadBuffer(index, center_block(meta, list));
  LockBuffer(cbuf, BUFFER_LOCK_EXCLUSIVE);
  GenericXLogState* state = GenericXLogStart(index);
  Page cpage = GenericXLogRegisterBuffer(state, cbuf, 0);
  auto* center = reinterpret_cast<CenterTuple*>(
      PageGetItem(cpage, PageGetItemId(cpage, center_offset(meta, list))));
  if (codes)
    code_chain(meta, center)->last = block;
  else
    center->last = block;
  GenericXLogFinish(state);
  UnlockReleaseBuffer(cbuf);
}

}  // namespace embedding::pg::ivfflat
