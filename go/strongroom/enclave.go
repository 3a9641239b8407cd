package strongroom

/*
#include <stdint.h>
#include <strongroom.h>
#include "shim.h"
*/
import "C"

import "runtime"

// Enclave is a secret kept encrypted under a per-process key: cheap to hold in numbers, and
// opened for a moment when needed. Its methods are safe for concurrent use.
type Enclave struct {
	id uint64
}

func (e *Enclave) handle() C.strongroom_enclave {
	if e == nil {
		return C.strongroom_enclave{}
	}
	return C.strongroom_enclave{id: C.uint64_t(e.id)}
}

func (e *Enclave) finalize() {
	C.strongroom_enclave_destroy(e.handle())
}

// Seal encrypts the buffer's bytes into a new enclave and destroys the buffer: on success,
// b is gone (its use is ErrInvalidHandle). On failure b is left as it was. A frozen buffer
// can be sealed.
func Seal(b *Buffer) (*Enclave, error) {
	defer runtime.KeepAlive(b)
	var out C.strongroom_enclave
	if err := call(func() C.strongroom_status { return C.strongroom_enclave_seal(b.handle(), &out) }); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(b, nil)
	e := &Enclave{id: uint64(out.id)}
	runtime.SetFinalizer(e, (*Enclave).finalize)
	return e, nil
}

// Open decrypts the enclave into a new guarded, frozen buffer (Melt it to write). An
// altered ciphertext is ErrDecrypt; after Purge, ErrDestroyed.
func (e *Enclave) Open() (*Buffer, error) {
	defer runtime.KeepAlive(e)
	var out C.strongroom_buffer
	if err := call(func() C.strongroom_status { return C.strongroom_enclave_open(e.handle(), &out) }); err != nil {
		return nil, err
	}
	return newBuffer(out), nil
}

// With decrypts the enclave into protected memory, lends the plaintext to fn as
// Buffer.With does (no copy into Go memory; the slice is valid only until fn returns and
// must not escape or be written), and wipes it when fn returns.
func (e *Enclave) With(fn func(secret []byte)) error {
	defer runtime.KeepAlive(e)
	return lend(fn, func(ctx C.uintptr_t) error {
		return call(func() C.strongroom_status { return C.strongroom_go_enclave_with(e.handle(), ctx) })
	})
}

// Len returns the length of the enclave's plaintext.
func (e *Enclave) Len() (int, error) {
	defer runtime.KeepAlive(e)
	var n C.size_t
	err := call(func() C.strongroom_status { return C.strongroom_enclave_len(e.handle(), &n) })
	return int(n), err
}

// Destroy frees the enclave. Destroying it again is ErrInvalidHandle.
func (e *Enclave) Destroy() error {
	err := call(func() C.strongroom_status { return C.strongroom_enclave_destroy(e.handle()) })
	if err == nil {
		runtime.SetFinalizer(e, nil)
	}
	return err
}
