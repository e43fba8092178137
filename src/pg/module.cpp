// Module entry: the PG_MODULE_MAGIC block and _PG_init, which picks the distance kernels once per
// backend and registers the extension's GUCs.
#include "core/common/interrupt.h"
#include "core/vector/kernels.h"
#include "pg/guard.h"
#include "pg/hnsw/options.h"
#include "pg/ivfflat/options.h"
#include "pg/models.h"
#include "pg/pg_call.h"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
}

extern "C" void _PG_init(void) {
  // Choose the SIMD kernels now, not on the first distance call.
  (void)embedding::kernels::active();
  embedding::pg::hnsw::register_options();
  embedding::pg::ivfflat::register_options();
  embedding::pg::register_model_options();
  // Long core loops on this (the backend's) thread poll for cancel and statement_timeout; the
  // poll throws, so the loop unwinds and the guard raises the error.
  embedding::set_interrupt_poll(&embedding::pg::check_for_interrupts);
}
