//go:build linux

package strongroom

/*
#include <stdint.h>
#include <strongroom.h>
*/
import "C"

import "runtime"

// ML-DSA-65 sizes, in bytes.
const (
	MLDSA65PublicKeySize  = C.STRONGROOM_ML_DSA_65_PUBLIC_KEY_LEN
	MLDSA65SignatureSize  = C.STRONGROOM_ML_DSA_65_SIGNATURE_LEN
	MLDSA65SeedSize       = C.STRONGROOM_ML_DSA_SEED_LEN
	MLDSA65MaxContextSize = C.STRONGROOM_ML_DSA_MAX_CONTEXT_LEN
)

// SigningKey is an ML-DSA-65 signing (private) key in protected memory. Its methods are
// safe for concurrent use.
type SigningKey struct {
	id uint64
}

func (k *SigningKey) handle() C.strongroom_signing_key {
	if k == nil {
		return C.strongroom_signing_key{}
	}
	return C.strongroom_signing_key{id: C.uint64_t(k.id)}
}

func (k *SigningKey) finalize() {
	C.strongroom_signing_key_destroy(k.handle())
}

func newSigningKey(h C.strongroom_signing_key) *SigningKey {
	k := &SigningKey{id: uint64(h.id)}
	runtime.SetFinalizer(k, (*SigningKey).finalize)
	return k
}

// GenerateSigningKey generates an ML-DSA-65 key pair.
func GenerateSigningKey() (*SigningKey, error) {
	var out C.strongroom_signing_key
	if err := call(func() C.strongroom_status { return C.strongroom_ml_dsa_65_keygen(&out) }); err != nil {
		return nil, err
	}
	return newSigningKey(out), nil
}

// SigningKeyFromSeed rebuilds a signing key from its 32-byte seed, held in a buffer, which
// is left as it is.
func SigningKeyFromSeed(seed *Buffer) (*SigningKey, error) {
	defer runtime.KeepAlive(seed)
	var out C.strongroom_signing_key
	if err := call(func() C.strongroom_status { return C.strongroom_ml_dsa_65_from_seed(seed.handle(), &out) }); err != nil {
		return nil, err
	}
	return newSigningKey(out), nil
}

// Seed exports the key's seed into a new buffer.
func (k *SigningKey) Seed() (*Buffer, error) {
	defer runtime.KeepAlive(k)
	var out C.strongroom_buffer
	if err := call(func() C.strongroom_status { return C.strongroom_ml_dsa_65_seed(k.handle(), &out) }); err != nil {
		return nil, err
	}
	return newBuffer(out), nil
}

// PublicKey returns the public (verifying) key.
func (k *SigningKey) PublicKey() ([]byte, error) {
	defer runtime.KeepAlive(k)
	out := make([]byte, MLDSA65PublicKeySize)
	var written C.size_t
	err := call(func() C.strongroom_status {
		return C.strongroom_ml_dsa_65_public_key(k.handle(), ptr(out), size(len(out)), &written)
	})
	if err != nil {
		return nil, err
	}
	return out[:written:written], nil
}

// Sign signs message under context (at most MLDSA65MaxContextSize bytes; may be empty).
// Signing is hedged (randomised), as FIPS 204 recommends.
func (k *SigningKey) Sign(message, context []byte) ([]byte, error) {
	defer runtime.KeepAlive(k)
	sig := make([]byte, MLDSA65SignatureSize)
	var written C.size_t
	err := call(func() C.strongroom_status {
		return C.strongroom_ml_dsa_65_sign(k.handle(), ptr(message), size(len(message)),
			ptr(context), size(len(context)), ptr(sig), size(len(sig)), &written)
	})
	if err != nil {
		return nil, err
	}
	return sig[:written:written], nil
}

// Destroy wipes and frees the key. Destroying it again is ErrInvalidHandle.
func (k *SigningKey) Destroy() error {
	err := call(func() C.strongroom_status { return C.strongroom_signing_key_destroy(k.handle()) })
	if err == nil {
		runtime.SetFinalizer(k, nil)
	}
	return err
}

// Verify checks an ML-DSA-65 signature on message under context with a public key: nil if
// it is valid, ErrBadSignature if not, ErrFormat for a public key or signature of the wrong
// length.
func Verify(publicKey, message, context, signature []byte) error {
	return call(func() C.strongroom_status {
		return C.strongroom_ml_dsa_65_verify(ptr(publicKey), size(len(publicKey)), ptr(message), size(len(message)),
			ptr(context), size(len(context)), ptr(signature), size(len(signature)))
	})
}
