// The metapage of an index access method's index (see metapage.h).
#include "pg/am/metapage.h"

#include <cstring>

extern "C" {
#include "storage/bufmgr.h"
}

namespace embedding::pg {

void read_meta_page(Relation index, void* meta, Size size) {
  Buffer buf = ReadBuffer(index, 0);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  std::memcpy(meta, PageGetContents(BufferGetPage(buf)), size);
  UnlockReleaseBuffer(buf);
}

void write_meta_page(Page page, const void* meta, Size size) {
  std::memcpy(PageGetContents(page), meta, size);
  reinterpret_cast<PageHeader>(page)->pd_lower =
      static_cast<LocationIndex>(PageGetContents(page) + size - page);
}

}  // namespace embedding::pg
