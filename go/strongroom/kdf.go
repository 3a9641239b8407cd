package strongroom

/*
#include <stdint.h>
#include <strongroom.h>
*/
import "C"

import "runtime"

// KDFParams is the cost of a derivation: Argon2id, then SHA3-256 rounds.
type KDFParams struct {
	MemoryKiB  uint32 // Argon2id memory in KiB (at most 1 GiB)
	Iterations uint32 // Argon2id passes (at most 16)
	Rounds     uint64 // SHA3-256 rounds after Argon2id (at most 10,000,000)
}

// DefaultKDFParams returns the library's defaults (64 MiB, 3 passes, 1000 rounds).
func DefaultKDFParams() KDFParams {
	p := C.strongroom_kdf_params_default()
	return KDFParams{MemoryKiB: uint32(p.memory_kib), Iterations: uint32(p.iterations), Rounds: uint64(p.rounds)}
}

// DeriveKey derives a 32-byte key from the passphrase held in a buffer (left as it is) and
// salt (8 to 64 bytes) into a new guarded, frozen buffer. A nil params means
// DefaultKDFParams. Parameters beyond their limits, and a salt of the wrong length, are
// ErrLimit, refused before any work. The derivation takes its time and memory.
func DeriveKey(passphrase *Buffer, salt []byte, params *KDFParams) (*Buffer, error) {
	defer runtime.KeepAlive(passphrase)
	p := DefaultKDFParams()
	if params != nil {
		p = *params
	}
	cp := C.strongroom_kdf_params{
		memory_kib: C.uint32_t(p.MemoryKiB),
		iterations: C.uint32_t(p.Iterations),
		rounds:     C.uint64_t(p.Rounds),
	}
	var out C.strongroom_buffer
	err := call(func() C.strongroom_status {
		return C.strongroom_kdf_derive(passphrase.handle(), ptr(salt), size(len(salt)), &cp, &out)
	})
	if err != nil {
		return nil, err
	}
	return newBuffer(out), nil
}
