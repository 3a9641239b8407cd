/* C glue between the Go package and libstrongroom: the callbacks the library calls, which
   call the exported Go function strongroomGoLend (callback.go), and wrappers that pass them
   along with a cgo.Handle as the context. The handle is a number; it becomes a void * only
   here, on the C side, so no Go pointer ever reaches the library. */
#ifndef STRONGROOM_GO_SHIM_H
#define STRONGROOM_GO_SHIM_H

#include <stdint.h>
#include <strongroom.h>

strongroom_status strongroom_go_buffer_with(strongroom_buffer buffer, uintptr_t ctx);
strongroom_status strongroom_go_buffer_with_mut(strongroom_buffer buffer, uintptr_t ctx);
strongroom_status strongroom_go_enclave_with(strongroom_enclave enclave, uintptr_t ctx);

#endif
