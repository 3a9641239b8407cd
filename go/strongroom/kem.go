//go:build linux

package strongroom

/*
#include <stdint.h>
#include <strongroom.h>
*/
import "C"

import (
	"runtime"
	"strconv"
)

// KEMAlgorithm names a key-encapsulation mechanism.
type KEMAlgorithm uint32

// The KEM algorithms.
const (
	MLKEM768 KEMAlgorithm = C.STRONGROOM_KEM_ML_KEM_768 // ML-KEM-768 (FIPS 203)
	XWing    KEMAlgorithm = C.STRONGROOM_KEM_X_WING     // X-Wing: ML-KEM-768 + X25519
)

// SharedSecretSize is the length of a shared secret, for both algorithms.
const SharedSecretSize = C.STRONGROOM_KEM_SHARED_SECRET_LEN

// The most bytes a public key or ciphertext of any algorithm takes.
const (
	maxKEMPublicKeySize  = C.STRONGROOM_X_WING_PUBLIC_KEY_LEN
	maxKEMCiphertextSize = C.STRONGROOM_X_WING_CIPHERTEXT_LEN
)

// String returns "ML-KEM-768", "X-Wing", or a number for an unknown algorithm.
func (a KEMAlgorithm) String() string {
	switch a {
	case MLKEM768:
		return "ML-KEM-768"
	case XWing:
		return "X-Wing"
	}
	return "KEMAlgorithm(" + strconv.FormatUint(uint64(a), 10) + ")"
}

// PublicKeySize returns the length of the algorithm's public keys (0 if unknown).
func (a KEMAlgorithm) PublicKeySize() int {
	switch a {
	case MLKEM768:
		return C.STRONGROOM_ML_KEM_768_PUBLIC_KEY_LEN
	case XWing:
		return C.STRONGROOM_X_WING_PUBLIC_KEY_LEN
	}
	return 0
}

// CiphertextSize returns the length of the algorithm's ciphertexts (0 if unknown).
func (a KEMAlgorithm) CiphertextSize() int {
	switch a {
	case MLKEM768:
		return C.STRONGROOM_ML_KEM_768_CIPHERTEXT_LEN
	case XWing:
		return C.STRONGROOM_X_WING_CIPHERTEXT_LEN
	}
	return 0
}

// SeedSize returns the length of the algorithm's seeds, the form a key is exported in (0
// if unknown).
func (a KEMAlgorithm) SeedSize() int {
	switch a {
	case MLKEM768:
		return C.STRONGROOM_ML_KEM_SEED_LEN
	case XWing:
		return C.STRONGROOM_X_WING_SEED_LEN
	}
	return 0
}

// KEMKey is a decapsulation (private) key in protected memory. Its methods are safe for
// concurrent use.
type KEMKey struct {
	id  uint64
	alg KEMAlgorithm
}

func (k *KEMKey) handle() C.strongroom_kem_key {
	if k == nil {
		return C.strongroom_kem_key{}
	}
	return C.strongroom_kem_key{id: C.uint64_t(k.id)}
}

func (k *KEMKey) finalize() {
	C.strongroom_kem_key_destroy(k.handle())
}

func newKEMKey(h C.strongroom_kem_key, alg KEMAlgorithm) *KEMKey {
	k := &KEMKey{id: uint64(h.id), alg: alg}
	runtime.SetFinalizer(k, (*KEMKey).finalize)
	return k
}

// GenerateKEMKey generates a key pair of the algorithm.
func GenerateKEMKey(alg KEMAlgorithm) (*KEMKey, error) {
	var out C.strongroom_kem_key
	if err := call(func() C.strongroom_status { return C.strongroom_kem_keygen(C.uint32_t(alg), &out) }); err != nil {
		return nil, err
	}
	return newKEMKey(out, alg), nil
}

// KEMKeyFromSeed rebuilds a key from its seed (alg.SeedSize() bytes), held in a buffer,
// which is left as it is.
func KEMKeyFromSeed(alg KEMAlgorithm, seed *Buffer) (*KEMKey, error) {
	defer runtime.KeepAlive(seed)
	var out C.strongroom_kem_key
	err := call(func() C.strongroom_status {
		return C.strongroom_kem_from_seed(C.uint32_t(alg), seed.handle(), &out)
	})
	if err != nil {
		return nil, err
	}
	return newKEMKey(out, alg), nil
}

// Algorithm returns the key's algorithm.
func (k *KEMKey) Algorithm() KEMAlgorithm {
	return k.alg
}

// Seed exports the key's seed into a new buffer (to store it encrypted).
func (k *KEMKey) Seed() (*Buffer, error) {
	defer runtime.KeepAlive(k)
	var out C.strongroom_buffer
	if err := call(func() C.strongroom_status { return C.strongroom_kem_seed(k.handle(), &out) }); err != nil {
		return nil, err
	}
	return newBuffer(out), nil
}

// PublicKey returns the key's public (encapsulation) key.
func (k *KEMKey) PublicKey() ([]byte, error) {
	defer runtime.KeepAlive(k)
	out := make([]byte, maxKEMPublicKeySize)
	var written C.size_t
	err := call(func() C.strongroom_status {
		return C.strongroom_kem_public_key(k.handle(), ptr(out), size(len(out)), &written)
	})
	if err != nil {
		return nil, err
	}
	return out[:written:written], nil
}

// Encapsulate makes a fresh shared secret for the holder of publicKey: the ciphertext to
// send them, and the secret in a new buffer. A public key of the wrong length or form is
// ErrFormat; an unknown algorithm is ErrInvalidArgument.
func Encapsulate(alg KEMAlgorithm, publicKey []byte) (ciphertext []byte, shared *Buffer, err error) {
	ct := make([]byte, maxKEMCiphertextSize)
	var written C.size_t
	var out C.strongroom_buffer
	err = call(func() C.strongroom_status {
		return C.strongroom_kem_encapsulate(C.uint32_t(alg), ptr(publicKey), size(len(publicKey)),
			ptr(ct), size(len(ct)), &written, &out)
	})
	if err != nil {
		return nil, nil, err
	}
	return ct[:written:written], newBuffer(out), nil
}

// Decapsulate recovers the shared secret from a ciphertext into a new buffer. A ciphertext
// of the wrong length is ErrFormat; an altered one gives an unrelated secret (implicit
// rejection), not an error.
func (k *KEMKey) Decapsulate(ciphertext []byte) (*Buffer, error) {
	defer runtime.KeepAlive(k)
	var out C.strongroom_buffer
	err := call(func() C.strongroom_status {
		return C.strongroom_kem_decapsulate(k.handle(), ptr(ciphertext), size(len(ciphertext)), &out)
	})
	if err != nil {
		return nil, err
	}
	return newBuffer(out), nil
}

// Destroy wipes and frees the key. Destroying it again is ErrInvalidHandle.
func (k *KEMKey) Destroy() error {
	err := call(func() C.strongroom_status { return C.strongroom_kem_key_destroy(k.handle()) })
	if err == nil {
		runtime.SetFinalizer(k, nil)
	}
	return err
}
