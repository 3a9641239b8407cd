package strongroom

// This file exports the function the library calls back, through the C shims in shim.c.

/*
#include <stddef.h>
#include <stdint.h>
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/cgo"
	"runtime/debug"
	"unsafe"
)

// loan is what a With call hands the library as its callback's context, through a
// cgo.Handle (a number, so no Go pointer reaches C).
type loan struct {
	fn       func([]byte)
	panicked bool
	value    interface{}
}

// lend runs c, a call that lends a secret to strongroomGoLend with ctx as its context, and
// then raises any panic fn raised, now that the library has let go of the secret.
func lend(fn func([]byte), c func(ctx C.uintptr_t) error) error {
	if fn == nil {
		return &Error{Code: int(ErrNullPointer.Code), Message: "the function is nil"}
	}
	l := &loan{fn: fn}
	h := cgo.NewHandle(l)
	defer h.Delete()
	err := c(C.uintptr_t(h))
	if l.panicked {
		panic(l.value)
	}
	return err
}

//export strongroomGoLend
func strongroomGoLend(ctx C.uintptr_t, data *C.uint8_t, n C.size_t) C.int {
	l := cgo.Handle(ctx).Value().(*loan)
	returned := false
	defer func() {
		if !returned {
			// Only runtime.Goexit gets here (run recovers panics). It would unwind through
			// the library's frames, skipping them, and leave the handle held for ever.
			fmt.Fprintf(os.Stderr, "strongroom: runtime.Goexit (t.Fatal, t.FailNow, t.Skip...) inside a With callback; "+
				"it cannot unwind through the library, so the process ends here\n%s", debug.Stack())
			os.Exit(2)
		}
	}()
	l.run(view(data, n))
	returned = true
	return 0
}

// run calls the function, catching a panic so that it does not unwind through C.
func (l *loan) run(b []byte) {
	finished := false
	defer func() {
		if !finished {
			l.panicked = true
			l.value = recover()
		}
	}()
	l.fn(b)
	finished = true
}

// view is the library's n bytes at data as a slice, without a copy (data is NULL when n is
// 0: the C shims see to it).
func view(data *C.uint8_t, n C.size_t) []byte {
	if n == 0 || data == nil {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(data)), int(n))
}
