// The metapage of an index access method's index: block 0, holding the access method's MetaPage
// struct at the start of the page's contents (after the page header).
#pragma once

extern "C" {
#include "postgres.h"

#include "storage/bufpage.h"
#include "utils/rel.h"
}

#include <type_traits>

namespace embedding::pg {

// Copies `size` bytes of block 0's contents into `meta`, under the page's share lock.
void read_meta_page(Relation index, void* meta, Size size);
template <class Meta>
Meta read_meta_page(Relation index) {
  static_assert(std::is_trivially_copyable_v<Meta>);
  Meta meta;
  read_meta_page(index, &meta, sizeof meta);
  return meta;
}
// Stores `size` bytes of `meta` at the start of `page`'s contents and moves pd_lower past them, so
// that a full-page image (which leaves out the hole between pd_lower and pd_upper) keeps them.
void write_meta_page(Page page, const void* meta, Size size);

}  // namespace embedding::pg
