package strongroom

/*
#include <stdint.h>
#include <strongroom.h>
*/
import "C"

import "runtime"

// AEAD sizes, in bytes.
const (
	AEADKeySize = C.STRONGROOM_AEAD_KEY_LEN
	// AEADOverhead is what Seal adds to a plaintext: a 24-byte random nonce in front and a
	// 16-byte tag behind.
	AEADOverhead = C.STRONGROOM_AEAD_OVERHEAD
)

// AEADKey is an XChaCha20-Poly1305 key in protected memory. Its methods are safe for
// concurrent use.
type AEADKey struct {
	id uint64
}

func (k *AEADKey) handle() C.strongroom_aead_key {
	if k == nil {
		return C.strongroom_aead_key{}
	}
	return C.strongroom_aead_key{id: C.uint64_t(k.id)}
}

func (k *AEADKey) finalize() {
	C.strongroom_aead_key_destroy(k.handle())
}

func newAEADKey(h C.strongroom_aead_key) *AEADKey {
	k := &AEADKey{id: uint64(h.id)}
	runtime.SetFinalizer(k, (*AEADKey).finalize)
	return k
}

// NewAEADKey returns a random key.
func NewAEADKey() (*AEADKey, error) {
	var out C.strongroom_aead_key
	if err := call(func() C.strongroom_status { return C.strongroom_aead_key_random(&out) }); err != nil {
		return nil, err
	}
	return newAEADKey(out), nil
}

// AEADKeyFromBuffer makes a key from a buffer of AEADKeySize bytes (a DeriveKey result, a
// KEM shared secret), which is left as it is. Another length is ErrInvalidArgument.
func AEADKeyFromBuffer(b *Buffer) (*AEADKey, error) {
	defer runtime.KeepAlive(b)
	var out C.strongroom_aead_key
	if err := call(func() C.strongroom_status { return C.strongroom_aead_key_from_buffer(b.handle(), &out) }); err != nil {
		return nil, err
	}
	return newAEADKey(out), nil
}

// Seal encrypts the buffer's bytes with a fresh random nonce, authenticating aad too, and
// returns nonce ‖ ciphertext ‖ tag (the plaintext's length + AEADOverhead bytes).
func (k *AEADKey) Seal(plaintext *Buffer, aad []byte) ([]byte, error) {
	defer runtime.KeepAlive(k)
	defer runtime.KeepAlive(plaintext)
	n, err := plaintext.Len()
	if err != nil {
		return nil, err
	}
	out := make([]byte, n+AEADOverhead)
	var written C.size_t
	err = call(func() C.strongroom_status {
		return C.strongroom_aead_seal(k.handle(), plaintext.handle(), ptr(aad), size(len(aad)),
			ptr(out), size(len(out)), &written)
	})
	if err != nil {
		return nil, err
	}
	return out[:written:written], nil
}

// Open decrypts what Seal returned into a new buffer. Any change to the key, nonce, aad,
// ciphertext or tag is ErrDecrypt (and no buffer is made); input shorter than AEADOverhead
// is ErrFormat.
func (k *AEADKey) Open(sealed, aad []byte) (*Buffer, error) {
	defer runtime.KeepAlive(k)
	var out C.strongroom_buffer
	err := call(func() C.strongroom_status {
		return C.strongroom_aead_open(k.handle(), ptr(aad), size(len(aad)), ptr(sealed), size(len(sealed)), 0, &out)
	})
	if err != nil {
		return nil, err
	}
	return newBuffer(out), nil
}

// Destroy wipes and frees the key. Destroying it again is ErrInvalidHandle.
func (k *AEADKey) Destroy() error {
	err := call(func() C.strongroom_status { return C.strongroom_aead_key_destroy(k.handle()) })
	if err == nil {
		runtime.SetFinalizer(k, nil)
	}
	return err
}
