/* The C side of benches/ffi.rs: timing loops that call libstrongroom as a C program does,
   timed here with CLOCK_MONOTONIC; criterion calls each with its iteration count
   (iter_custom) and records the elapsed nanoseconds, beside the Rust API in the same run. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "strongroom.h"

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void must(strongroom_status status) {
  if (status != STRONGROOM_OK) abort();
}

uint64_t ffi_loop_buffer_new_destroy(uint64_t iters, size_t len) {
  uint64_t start = now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    strongroom_buffer b;
    must(strongroom_buffer_new(len, 0, &b));
    must(strongroom_buffer_destroy(b));
  }
  return now_ns() - start;
}

uint64_t ffi_loop_enclave_open(uint64_t iters, strongroom_enclave enclave) {
  uint64_t start = now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    strongroom_buffer b;
    must(strongroom_enclave_open(enclave, &b));
    must(strongroom_buffer_destroy(b));
  }
  return now_ns() - start;
}

uint64_t ffi_loop_kem_decapsulate(uint64_t iters, strongroom_kem_key key, const uint8_t *ct, size_t ct_len) {
  uint64_t start = now_ns();
  for (uint64_t i = 0; i < iters; i++) {
    strongroom_buffer shared;
    must(strongroom_kem_decapsulate(key, ct, ct_len, &shared));
    must(strongroom_buffer_destroy(shared));
  }
  return now_ns() - start;
}
