#include "shim.h"

#include "_cgo_export.h"

/* strongroomGoLend takes a writable pointer; the read-only callback casts the const away,
   and Buffer.With documents that its slice is for reading only. The library lends an empty
   secret as NULL (a placeholder address such as 1 in a Go pointer would crash the runtime
   when it copies a goroutine's stack). */
static int strongroom_go_read(void *ctx, const uint8_t *data, size_t len) {
  return strongroomGoLend((uintptr_t)ctx, (uint8_t *)data, len);
}

static int strongroom_go_write(void *ctx, uint8_t *data, size_t len) {
  return strongroomGoLend((uintptr_t)ctx, data, len);
}

strongroom_status strongroom_go_buffer_with(strongroom_buffer buffer, uintptr_t ctx) {
  return strongroom_buffer_with(buffer, strongroom_go_read, (void *)ctx, NULL);
}

strongroom_status strongroom_go_buffer_with_mut(strongroom_buffer buffer, uintptr_t ctx) {
  return strongroom_buffer_with_mut(buffer, strongroom_go_write, (void *)ctx, NULL);
}

strongroom_status strongroom_go_enclave_with(strongroom_enclave enclave, uintptr_t ctx) {
  return strongroom_enclave_with(enclave, strongroom_go_read, (void *)ctx, NULL);
}
