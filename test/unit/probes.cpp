// The probes of probes.h. The unit tests' global operator new is plain malloc with the AllocProbe
// hook: while a probe is alive on a thread, that thread's largest allocation is recorded.
#include "probes.h"

#include <cstdlib>
#include <new>

#include "core/common/error.h"
#include "core/common/interrupt.h"

namespace embedding::testing {
namespace {

thread_local int active_probes = 0;
thread_local std::size_t largest_allocation = 0;
thread_local int polls_left = 0;

void cancel_when_due() {
  if (--polls_left <= 0) throw Error(ErrorCode::kCancelled, "cancelled by test");
}

}  // namespace

AllocProbe::AllocProbe() {
  if (active_probes++ == 0) largest_allocation = 0;
}
AllocProbe::~AllocProbe() { --active_probes; }
std::size_t AllocProbe::largest() const { return largest_allocation; }

CancelAtPoll::CancelAtPoll(int polls) {
  polls_left = polls;
  set_interrupt_poll(&cancel_when_due);
}
CancelAtPoll::~CancelAtPoll() { set_interrupt_poll(nullptr); }

}  // namespace embedding::testing

void* operator new(std::size_t size) {
  using namespace embedding::testing;
  if (active_probes > 0 && size > largest_allocation) largest_allocation = size;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
// The nothrow forms too (std::stable_sort's buffer uses them), so that every new of the test
// binary pairs with this file's delete (AddressSanitizer reports a malloc freed by its delete).
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return operator new(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
