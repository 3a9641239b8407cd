//go:build linux

package strongroom

import (
	"bytes"
	"testing"
)

func TestKEMRoundTrip(t *testing.T) {
	for _, alg := range []KEMAlgorithm{MLKEM768, XWing} {
		t.Run(alg.String(), func(t *testing.T) {
			key, err := GenerateKEMKey(alg)
			ok(t, err, "GenerateKEMKey")
			pk, err := key.PublicKey()
			ok(t, err, "PublicKey")
			if len(pk) != alg.PublicKeySize() {
				t.Errorf("public key: %d bytes, want %d", len(pk), alg.PublicKeySize())
			}
			ct, sent, err := Encapsulate(alg, pk)
			ok(t, err, "Encapsulate")
			if len(ct) != alg.CiphertextSize() {
				t.Errorf("ciphertext: %d bytes, want %d", len(ct), alg.CiphertextSize())
			}
			received, err := key.Decapsulate(ct)
			ok(t, err, "Decapsulate")
			if !equalSecrets(t, sent, received) {
				t.Error("the shared secrets differ")
			}
			ok(t, received.Destroy(), "Destroy")

			ct[5] ^= 1 // implicit rejection: another secret, not an error
			tampered, err := key.Decapsulate(ct)
			ok(t, err, "Decapsulate a tampered ciphertext")
			if equalSecrets(t, sent, tampered) {
				t.Error("a tampered ciphertext gave the same secret")
			}
			ok(t, tampered.Destroy(), "Destroy")

			_, _, err = Encapsulate(alg, pk[:len(pk)-1])
			expect(t, err, ErrFormat, "Encapsulate to a short public key")
			_, err = key.Decapsulate(ct[:len(ct)-1])
			expect(t, err, ErrFormat, "Decapsulate a short ciphertext")

			seed, err := key.Seed()
			ok(t, err, "Seed")
			if n, _ := seed.Len(); n != alg.SeedSize() {
				t.Errorf("seed: %d bytes, want %d", n, alg.SeedSize())
			}
			again, err := KEMKeyFromSeed(alg, seed)
			ok(t, err, "KEMKeyFromSeed")
			if pk2, _ := again.PublicKey(); !bytes.Equal(pk, pk2) || again.Algorithm() != alg {
				t.Error("the key rebuilt from its seed differs")
			}
			ok(t, again.Destroy(), "Destroy")
			ok(t, seed.Destroy(), "Destroy")
			ok(t, sent.Destroy(), "Destroy")

			ok(t, key.Destroy(), "Destroy")
			expect(t, key.Destroy(), ErrInvalidHandle, "Destroy twice")
			_, err = key.PublicKey()
			expect(t, err, ErrInvalidHandle, "PublicKey after Destroy")
		})
	}
	_, err := GenerateKEMKey(KEMAlgorithm(99))
	expect(t, err, ErrInvalidArgument, "an unknown algorithm")
	_, _, err = Encapsulate(KEMAlgorithm(99), make([]byte, 1184))
	expect(t, err, ErrInvalidArgument, "Encapsulate with an unknown algorithm")
	if KEMAlgorithm(99).String() != "KEMAlgorithm(99)" {
		t.Error(KEMAlgorithm(99).String())
	}
}

// equalSecrets compares two buffers inside nested With calls, so neither secret is copied
// into Go memory.
func equalSecrets(t *testing.T, a, b *Buffer) bool {
	t.Helper()
	equal := false
	ok(t, a.With(func(x []byte) {
		ok(t, b.With(func(y []byte) { equal = len(x) == SharedSecretSize && bytes.Equal(x, y) }), "With")
	}), "With")
	return equal
}

func TestMLDSA65(t *testing.T) {
	key, err := GenerateSigningKey()
	ok(t, err, "GenerateSigningKey")
	defer key.Destroy()
	pk, err := key.PublicKey()
	ok(t, err, "PublicKey")
	if len(pk) != MLDSA65PublicKeySize {
		t.Errorf("public key: %d bytes", len(pk))
	}
	msg, ctx := []byte("message"), []byte("ctx")
	sig, err := key.Sign(msg, ctx)
	ok(t, err, "Sign")
	if len(sig) != MLDSA65SignatureSize {
		t.Errorf("signature: %d bytes", len(sig))
	}
	ok(t, Verify(pk, msg, ctx, sig), "Verify")
	expect(t, Verify(pk, msg[:6], ctx, sig), ErrBadSignature, "Verify another message")
	expect(t, Verify(pk, msg, nil, sig), ErrBadSignature, "Verify without the context")
	expect(t, Verify(pk[:len(pk)-1], msg, ctx, sig), ErrFormat, "Verify with a short key")
	expect(t, Verify(pk, msg, ctx, sig[:len(sig)-1]), ErrFormat, "Verify a short signature")
	_, err = key.Sign(msg, make([]byte, MLDSA65MaxContextSize+1))
	expect(t, err, ErrInvalidArgument, "Sign with a 256-byte context")

	seed, err := key.Seed()
	ok(t, err, "Seed")
	again, err := SigningKeyFromSeed(seed)
	ok(t, err, "SigningKeyFromSeed")
	if pk2, _ := again.PublicKey(); !bytes.Equal(pk, pk2) {
		t.Error("the key rebuilt from its seed differs")
	}
	ok(t, again.Destroy(), "Destroy")
	ok(t, seed.Destroy(), "Destroy")
	expect(t, again.Destroy(), ErrInvalidHandle, "Destroy twice")
}
