package strongroom

/*
#cgo pkg-config: strongroom
#include <stdint.h>
#include <strongroom.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Version returns the version of the library loaded at run time, such as "0.1.0".
func Version() string {
	return C.GoString(C.strongroom_version())
}

// call runs f, a call into the library, and turns its status into an error. The goroutine
// stays on one OS thread from the call to the read of strongroom_last_error, which is
// thread-local: without the lock, the goroutine could move to another thread in between, or
// another goroutine's failure could overwrite the message.
func call(f func() C.strongroom_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	status := f()
	if status == C.STRONGROOM_OK {
		return nil
	}
	return &Error{Code: int(status), Message: C.GoString(C.strongroom_last_error())}
}

// ptr is a pointer to b's first byte for the duration of one C call (nil for an empty
// slice, which the library accepts with a length of 0). cgo lets C use Go memory during a
// call as long as it holds no Go pointers, which a []byte does not.
func ptr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// size converts a length that the caller has checked is not negative.
func size(n int) C.size_t {
	return C.size_t(n)
}

func checkSize(n int, what string) error {
	if n < 0 {
		return argumentError(what + " is negative")
	}
	return nil
}
