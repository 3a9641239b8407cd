package strongroom

/*
#include <stdint.h>
#include <strongroom.h>
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"strconv"
	"strings"
)

// Buffer is a secret of fixed length in the library's protected memory. Its methods are
// safe for concurrent use. Create one with NewBuffer, NewGuardedBuffer, RandomBuffer or
// BufferFromBytes, and Destroy it when done.
//
// Small buffers (up to 2 KiB) come from a pool of protected pages; larger ones, and those
// from NewGuardedBuffer, get a region of their own with guard pages on both sides, and can be
// frozen (made read-only).
type Buffer struct {
	id uint64 // the library's handle; never changes, so no lock is needed to read it
}

func (b *Buffer) handle() C.strongroom_buffer {
	if b == nil {
		return C.strongroom_buffer{} // 0 is never a live handle: ErrInvalidHandle
	}
	return C.strongroom_buffer{id: C.uint64_t(b.id)}
}

func newBuffer(h C.strongroom_buffer) *Buffer {
	b := &Buffer{id: uint64(h.id)}
	runtime.SetFinalizer(b, (*Buffer).finalize)
	return b
}

func (b *Buffer) finalize() {
	C.strongroom_buffer_destroy(b.handle())
}

// makeBuffer makes a zeroed or random buffer; flags: 0 or STRONGROOM_BUFFER_GUARDED.
func makeBuffer(n int, flags C.uint32_t, random bool) (*Buffer, error) {
	if err := checkSize(n, "the length"); err != nil {
		return nil, err
	}
	var out C.strongroom_buffer
	err := call(func() C.strongroom_status {
		if random {
			return C.strongroom_buffer_random(size(n), flags, &out)
		}
		return C.strongroom_buffer_new(size(n), flags, &out)
	})
	if err != nil {
		return nil, err
	}
	return newBuffer(out), nil
}

// NewBuffer returns a buffer of n zero bytes.
func NewBuffer(n int) (*Buffer, error) {
	return makeBuffer(n, 0, false)
}

// NewGuardedBuffer returns a buffer of n zero bytes in a guarded region of its own (guard
// pages on both sides), whatever its size; such a buffer can be frozen.
func NewGuardedBuffer(n int) (*Buffer, error) {
	return makeBuffer(n, C.STRONGROOM_BUFFER_GUARDED, false)
}

// RandomBuffer returns a buffer of n bytes from the system's random generator, drawn
// straight into protected memory.
func RandomBuffer(n int) (*Buffer, error) {
	return makeBuffer(n, 0, true)
}

// BufferFromBytes returns a buffer holding a copy of src, and wipes src (fills it with
// zeros), also when it fails, so the plaintext is not left in Go memory. Other copies of
// the bytes (a string they came from, a slice that was grown) are beyond its reach.
func BufferFromBytes(src []byte) (*Buffer, error) {
	var out C.strongroom_buffer
	err := call(func() C.strongroom_status {
		return C.strongroom_buffer_from_bytes(ptr(src), size(len(src)), 0, &out)
	})
	if err != nil {
		return nil, err
	}
	return newBuffer(out), nil
}

// Len returns the buffer's length in bytes.
func (b *Buffer) Len() (int, error) {
	defer runtime.KeepAlive(b)
	var n C.size_t
	err := call(func() C.strongroom_status { return C.strongroom_buffer_len(b.handle(), &n) })
	return int(n), err
}

// Read copies len(dst) bytes from offset into dst. The copy is ordinary Go memory, the
// caller's to wipe: prefer With. A range past the end is ErrInvalidArgument.
func (b *Buffer) Read(offset int, dst []byte) error {
	defer runtime.KeepAlive(b)
	if err := checkSize(offset, "the offset"); err != nil {
		return err
	}
	return call(func() C.strongroom_status {
		return C.strongroom_buffer_read(b.handle(), size(offset), ptr(dst), size(len(dst)))
	})
}

// Write copies src into the buffer at offset; src is left as it is. A range past the end is
// ErrInvalidArgument; a frozen buffer is ErrFrozen.
func (b *Buffer) Write(offset int, src []byte) error {
	defer runtime.KeepAlive(b)
	if err := checkSize(offset, "the offset"); err != nil {
		return err
	}
	return call(func() C.strongroom_status {
		return C.strongroom_buffer_write(b.handle(), size(offset), ptr(src), size(len(src)))
	})
}

// With calls fn with the buffer's bytes, without copying them: the slice points into the
// library's protected memory and is valid only until fn returns. fn must not keep it, hand
// it to another goroutine, or write through it (use WithMut to write). See the package
// documentation for what fn may call.
//
// The error is the library's (ErrInvalidHandle, ErrBusy, ...), in which case fn did not run.
// A panic in fn is raised again by With once the library has let go of the bytes.
func (b *Buffer) With(fn func(secret []byte)) error {
	defer runtime.KeepAlive(b)
	return lend(fn, func(ctx C.uintptr_t) error {
		return call(func() C.strongroom_status { return C.strongroom_go_buffer_with(b.handle(), ctx) })
	})
}

// WithMut is With for reading and writing: fn may change the secret in place through the
// slice. A frozen buffer is ErrFrozen, and fn does not run.
func (b *Buffer) WithMut(fn func(secret []byte)) error {
	defer runtime.KeepAlive(b)
	return lend(fn, func(ctx C.uintptr_t) error {
		return call(func() C.strongroom_status { return C.strongroom_go_buffer_with_mut(b.handle(), ctx) })
	})
}

// Freeze makes a guarded buffer read-only: writes through the library are ErrFrozen, and a
// stray write to its pages faults. A pooled buffer (from NewBuffer, up to 2 KiB) cannot be
// frozen: ErrUnsupported.
func (b *Buffer) Freeze() error {
	defer runtime.KeepAlive(b)
	return call(func() C.strongroom_status { return C.strongroom_buffer_freeze(b.handle()) })
}

// Melt makes a frozen buffer writable again.
func (b *Buffer) Melt() error {
	defer runtime.KeepAlive(b)
	return call(func() C.strongroom_status { return C.strongroom_buffer_melt(b.handle()) })
}

// EqualConstantTime reports whether the buffer holds exactly the bytes of other, taking the
// same time whatever the bytes (for equal lengths).
func (b *Buffer) EqualConstantTime(other []byte) (bool, error) {
	defer runtime.KeepAlive(b)
	var equal C.int
	err := call(func() C.strongroom_status {
		return C.strongroom_buffer_ct_eq(b.handle(), ptr(other), size(len(other)), &equal)
	})
	return err == nil && equal == 1, err
}

// Protections returns the protections the buffer really got.
func (b *Buffer) Protections() (Protections, error) {
	defer runtime.KeepAlive(b)
	var bits C.uint32_t
	err := call(func() C.strongroom_status { return C.strongroom_buffer_protections(b.handle(), &bits) })
	return Protections(bits), err
}

// Destroy wipes and frees the buffer. Destroying it again, or using it afterwards, is
// ErrInvalidHandle. It waits for other goroutines' calls on the buffer to finish.
func (b *Buffer) Destroy() error {
	err := call(func() C.strongroom_status { return C.strongroom_buffer_destroy(b.handle()) })
	if err == nil {
		runtime.SetFinalizer(b, nil)
	}
	return err
}

// Protections is a set of protection bits, as Buffer.Protections reports them.
type Protections uint32

// The protection bits.
const (
	ProtectionLocked       Protections = C.STRONGROOM_PROTECTION_LOCKED        // cannot be swapped out
	ProtectionSecretMemory Protections = C.STRONGROOM_PROTECTION_SECRET_MEMORY // memfd_secret: out of the kernel's direct map
	ProtectionDumpExcluded Protections = C.STRONGROOM_PROTECTION_DUMP_EXCLUDED // excluded from core dumps
	ProtectionForkSafe     Protections = C.STRONGROOM_PROTECTION_FORK_SAFE     // a forked child sees zeros or nothing
	ProtectionGuardPages   Protections = C.STRONGROOM_PROTECTION_GUARD_PAGES   // guard pages on both sides
	ProtectionCanary       Protections = C.STRONGROOM_PROTECTION_CANARY        // a canary is checked on free
	ProtectionFrozen       Protections = C.STRONGROOM_PROTECTION_FROZEN        // read-only now
)

var protectionNames = []struct {
	bit  Protections
	name string
}{
	{ProtectionLocked, "locked"},
	{ProtectionSecretMemory, "secret-memory"},
	{ProtectionDumpExcluded, "dump-excluded"},
	{ProtectionForkSafe, "fork-safe"},
	{ProtectionGuardPages, "guard-pages"},
	{ProtectionCanary, "canary"},
	{ProtectionFrozen, "frozen"},
}

// Has reports whether every bit of q is set in p.
func (p Protections) Has(q Protections) bool {
	return p&q == q
}

// String names the bits, such as "locked|dump-excluded|fork-safe|canary", or "none".
func (p Protections) String() string {
	var names []string
	for _, n := range protectionNames {
		if p&n.bit != 0 {
			names = append(names, n.name)
			p &^= n.bit
		}
	}
	if p != 0 {
		names = append(names, "0x"+strconv.FormatUint(uint64(p), 16))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}
