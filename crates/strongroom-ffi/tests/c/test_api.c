/* Every function of the C API, and a table of bad inputs for each: NULL pointers, short
   buffers, huge lengths, double destroy, use after destroy, forged and mistyped handles.
   Run natively, under AddressSanitizer + UBSan, and under valgrind (tests/c/run).

   STRONGROOM_EXPECT_SECRET_MEMORY=1 asserts that buffers are memfd_secret-backed (this
   kernel has it); =0 asserts the anonymous-memory path (valgrind answers memfd_secret with
   ENOSYS, so the library falls back, as the default policy allows). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static const strongroom_buffer NO_BUFFER = {0};

/* A handle of one kind presented as another: the library must say so, not misbehave. */
static strongroom_buffer as_buffer(uint64_t id) { strongroom_buffer b = {id}; return b; }
static strongroom_enclave as_enclave(uint64_t id) { strongroom_enclave e = {id}; return e; }

static strongroom_buffer buffer_from(const char *text, uint32_t flags) {
  strongroom_buffer b;
  size_t len = strlen(text);
  uint8_t copy[256];
  CHECK(len <= sizeof copy);
  memcpy(copy, text, len);
  OK(strongroom_buffer_from_bytes(copy, len, flags, &b));
  for (size_t i = 0; i < len; i++) CHECK(copy[i] == 0); /* the source is wiped */
  return b;
}

static int expect_secret_memory(void) {
  const char *want = getenv("STRONGROOM_EXPECT_SECRET_MEMORY");
  return want ? atoi(want) : -1;
}

/* ---- callbacks ---- */
static int sum_bytes(void *ctx, const uint8_t *data, size_t len) {
  unsigned *sum = ctx;
  for (size_t i = 0; i < len; i++) *sum += data[i];
  return (int)len;
}
static int fill_ab(void *ctx, uint8_t *data, size_t len) {
  (void)ctx;
  for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(i % 2 ? 'b' : 'a');
  return 7;
}
static int data_is_null(void *ctx, const uint8_t *data, size_t len) {
  (void)ctx;
  return data == NULL && len == 0;
}
static int reenter_destroy(void *ctx, const uint8_t *data, size_t len) {
  (void)data; (void)len;
  return strongroom_buffer_destroy(*(strongroom_buffer *)ctx);
}
static int read_other(void *ctx, const uint8_t *data, size_t len) {
  (void)data; (void)len;
  uint8_t byte;
  return strongroom_buffer_read(*(strongroom_buffer *)ctx, 0, &byte, 1);
}

static void test_version_and_errors(void) {
  CHECK(strcmp(strongroom_version(), STRONGROOM_VERSION_STRING) == 0);
  for (int code = 0; code >= STRONGROOM_E_TOO_MANY_HANDLES; code--)
    CHECK(strongroom_strerror(code) != NULL && strcmp(strongroom_strerror(code), "unknown status code") != 0);
  CHECK(strcmp(strongroom_strerror(-999), "unknown status code") == 0);
  CHECK(strcmp(strongroom_strerror(1), "unknown status code") == 0);
  CHECK(strongroom_last_error() != NULL);
}

static void test_buffers(uint32_t flags) {
  strongroom_buffer b;
  size_t len = 0;
  uint8_t out[64];
  uint32_t bits = 0;
  int result = 0, equal = -1;

  OK(strongroom_buffer_new(48, flags, &b));
  OK(strongroom_buffer_len(b, &len));
  CHECK(len == 48);
  OK(strongroom_buffer_read(b, 0, out, 48));
  for (int i = 0; i < 48; i++) CHECK(out[i] == 0);
  OK(strongroom_buffer_write(b, 40, (const uint8_t *)"12345678", 8));
  OK(strongroom_buffer_read(b, 40, out, 8));
  CHECK(memcmp(out, "12345678", 8) == 0);
  OK(strongroom_buffer_with_mut(b, fill_ab, NULL, &result));
  CHECK(result == 7);
  unsigned sum = 0;
  OK(strongroom_buffer_with(b, sum_bytes, &sum, &result));
  CHECK(result == 48 && sum == 24u * 'a' + 24u * 'b');
  OK(strongroom_buffer_with(b, sum_bytes, &sum, NULL)); /* result may be NULL */
  memset(out, 0, sizeof out);
  for (int i = 0; i < 48; i++) out[i] = (uint8_t)(i % 2 ? 'b' : 'a');
  OK(strongroom_buffer_ct_eq(b, out, 48, &equal));
  CHECK(equal == 1);
  out[47] ^= 1;
  OK(strongroom_buffer_ct_eq(b, out, 48, &equal));
  CHECK(equal == 0);
  OK(strongroom_buffer_ct_eq(b, out, 47, &equal));
  CHECK(equal == 0);

  OK(strongroom_buffer_protections(b, &bits));
  CHECK(bits & STRONGROOM_PROTECTION_LOCKED);
  CHECK(bits & STRONGROOM_PROTECTION_DUMP_EXCLUDED);
  CHECK(bits & STRONGROOM_PROTECTION_FORK_SAFE);
  CHECK(bits & STRONGROOM_PROTECTION_CANARY);
  if (expect_secret_memory() == 1) CHECK(bits & STRONGROOM_PROTECTION_SECRET_MEMORY);
  if (expect_secret_memory() == 0) CHECK(!(bits & STRONGROOM_PROTECTION_SECRET_MEMORY));

  if (flags & STRONGROOM_BUFFER_GUARDED) {
    CHECK(bits & STRONGROOM_PROTECTION_GUARD_PAGES);
    OK(strongroom_buffer_freeze(b));
    OK(strongroom_buffer_protections(b, &bits));
    CHECK(bits & STRONGROOM_PROTECTION_FROZEN);
    EXPECT(STRONGROOM_E_FROZEN, strongroom_buffer_write(b, 0, out, 1));
    EXPECT(STRONGROOM_E_FROZEN, strongroom_buffer_with_mut(b, fill_ab, NULL, NULL));
    OK(strongroom_buffer_read(b, 0, out, 1)); /* reading a frozen buffer is fine */
    OK(strongroom_buffer_melt(b));
    OK(strongroom_buffer_write(b, 0, out, 1));
  } else {
    EXPECT(STRONGROOM_E_UNSUPPORTED, strongroom_buffer_freeze(b));
    CHECK(strstr(strongroom_last_error(), "STRONGROOM_BUFFER_GUARDED") != NULL);
  }

  /* A callback that calls back into its own handle gets BUSY, not a deadlock; into another
     handle, it works. */
  strongroom_buffer other = buffer_from("other", 0);
  OK(strongroom_buffer_with(b, reenter_destroy, &b, &result));
  CHECK(result == STRONGROOM_E_BUSY);
  OK(strongroom_buffer_with(b, read_other, &other, &result));
  CHECK(result == STRONGROOM_OK);
  OK(strongroom_buffer_destroy(other));

  OK(strongroom_buffer_destroy(b));
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_buffer_destroy(b));
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_buffer_len(b, &len));
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_buffer_read(b, 0, out, 1));

  OK(strongroom_buffer_random(4096, flags, &b));
  OK(strongroom_buffer_len(b, &len));
  CHECK(len == 4096);
  uint8_t zeros[4096] = {0};
  OK(strongroom_buffer_ct_eq(b, zeros, sizeof zeros, &equal));
  CHECK(equal == 0);
  OK(strongroom_buffer_destroy(b));

  OK(strongroom_buffer_new(0, flags, &b)); /* empty secrets are fine */
  OK(strongroom_buffer_len(b, &len));
  CHECK(len == 0);
  OK(strongroom_buffer_read(b, 0, NULL, 0));
  OK(strongroom_buffer_with(b, data_is_null, NULL, &result)); /* an empty secret is lent as NULL */
  CHECK(result == 1);
  OK(strongroom_buffer_destroy(b));
}

static void test_bad_inputs(void) {
  strongroom_buffer b, b2;
  strongroom_enclave e;
  uint8_t out[16];
  size_t len;
  int equal;

  OK(strongroom_buffer_new(16, 0, &b));
  /* NULL pointers */
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_new(16, 0, NULL));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_random(16, 0, NULL));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_from_bytes(NULL, 4, 0, &b2));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_len(b, NULL));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_read(b, 0, NULL, 4));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_write(b, 0, NULL, 4));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_with(b, NULL, NULL, NULL));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_with_mut(b, NULL, NULL, NULL));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_ct_eq(b, NULL, 4, &equal));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_ct_eq(b, out, 4, NULL));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_buffer_protections(b, NULL));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_enclave_seal(b, NULL));
  CHECK(strstr(strongroom_last_error(), "out is NULL") != NULL);
  /* short buffers and ranges past the end */
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_buffer_read(b, 0, out, 17));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_buffer_read(b, 16, out, 1));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_buffer_read(b, SIZE_MAX, out, 2));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_buffer_write(b, 15, out, 2));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_buffer_write(b, SIZE_MAX, out, 1));
  /* huge lengths: refused before any memory is touched */
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_buffer_read(b, 0, out, SIZE_MAX));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_buffer_ct_eq(b, out, SIZE_MAX, &equal));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_buffer_from_bytes(out, (size_t)PTRDIFF_MAX + 1, 0, &b2));
  EXPECT(STRONGROOM_E_OUT_OF_MEMORY, strongroom_buffer_new(SIZE_MAX, 0, &b2));
  EXPECT(STRONGROOM_E_OUT_OF_MEMORY, strongroom_buffer_new((size_t)1 << 46, STRONGROOM_BUFFER_GUARDED, &b2));
  CHECK(strstr(strongroom_last_error(), "70368744177664") == NULL); /* no secret sizes in messages */
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_buffer_new(16, 0x80, &b2)); /* unknown flag */
  /* forged and mistyped handles */
  uint64_t forged[] = {0, 1, UINT64_MAX, b.id + 1, b.id ^ ((uint64_t)1 << 32), (uint64_t)0x05ffffff00000001};
  for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
    EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_buffer_len(as_buffer(forged[i]), &len));
    EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_buffer_destroy(as_buffer(forged[i])));
    EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_enclave_destroy(as_enclave(forged[i])));
  }
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_buffer_len(NO_BUFFER, &len));
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_buffer_len(as_buffer(b.id ^ ((uint64_t)0x7f << 56)), &len)); /* forged tag */
  EXPECT(STRONGROOM_E_WRONG_HANDLE_TYPE, strongroom_enclave_len(as_enclave(b.id), &len));
  EXPECT(STRONGROOM_E_WRONG_HANDLE_TYPE, strongroom_enclave_destroy(as_enclave(b.id)));
  OK(strongroom_buffer_len(b, &len)); /* still alive after all that */

  OK(strongroom_enclave_seal(b, &e));
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_buffer_len(b, &len)); /* sealing consumed it */
  EXPECT(STRONGROOM_E_WRONG_HANDLE_TYPE, strongroom_buffer_destroy(as_buffer(e.id)));
  OK(strongroom_enclave_destroy(e));
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_enclave_destroy(e));

  /* A panic inside the library is caught at the boundary, and the library goes on. */
  EXPECT(STRONGROOM_E_PANIC, strongroom_test_panic());
  CHECK(strstr(strongroom_last_error(), "panic") != NULL);
  OK(strongroom_buffer_new(8, 0, &b));
  OK(strongroom_buffer_destroy(b));
}

static void test_enclaves(void) {
  strongroom_buffer b = buffer_from("correct horse battery staple", STRONGROOM_BUFFER_GUARDED), opened;
  strongroom_enclave e;
  size_t len = 0;
  unsigned sum = 0, expected = 0;
  int result;
  for (const char *p = "correct horse battery staple"; *p; p++) expected += (uint8_t)*p;

  OK(strongroom_buffer_freeze(b)); /* a frozen buffer can be sealed */
  OK(strongroom_enclave_seal(b, &e));
  OK(strongroom_enclave_len(e, &len));
  CHECK(len == 28);
  OK(strongroom_enclave_with(e, sum_bytes, &sum, &result));
  CHECK(sum == expected && result == 28);
  OK(strongroom_enclave_open(e, &opened));
  uint32_t bits;
  OK(strongroom_buffer_protections(opened, &bits));
  CHECK(bits & STRONGROOM_PROTECTION_FROZEN);
  int equal;
  OK(strongroom_buffer_ct_eq(opened, (const uint8_t *)"correct horse battery staple", 28, &equal));
  CHECK(equal == 1);
  OK(strongroom_buffer_destroy(opened));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_enclave_open(e, NULL));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_enclave_with(e, NULL, NULL, NULL));
  OK(strongroom_enclave_destroy(e));
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_enclave_open(e, &opened));
}

static void test_kdf_and_aead(void) {
  strongroom_buffer pass = buffer_from("hunter2", 0), key, plain, opened;
  strongroom_kdf_params cheap = {1024, 1, 10};
  strongroom_kdf_params hostile = {4u << 20, 1, 10};
  const uint8_t salt[16] = "sixteen byte sal";
  strongroom_aead_key k;
  uint8_t sealed[64 + STRONGROOM_AEAD_OVERHEAD];
  size_t written = 0, len = 0;
  int equal;

  strongroom_kdf_params defaults = strongroom_kdf_params_default();
  CHECK(defaults.memory_kib == 65536 && defaults.iterations == 3 && defaults.rounds == 1000);
  OK(strongroom_kdf_derive(pass, salt, sizeof salt, &cheap, &key));
  OK(strongroom_buffer_len(key, &len));
  CHECK(len == STRONGROOM_AEAD_KEY_LEN);
  EXPECT(STRONGROOM_E_LIMIT, strongroom_kdf_derive(pass, salt, sizeof salt, &hostile, &plain));
  EXPECT(STRONGROOM_E_LIMIT, strongroom_kdf_derive(pass, salt, 4, &cheap, &plain)); /* salt too short */
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_kdf_derive(pass, NULL, 16, &cheap, &plain));

  OK(strongroom_aead_key_from_buffer(key, &k));
  OK(strongroom_buffer_len(key, &len)); /* the buffer is left as it was */
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_aead_key_from_buffer(pass, &k));
  plain = buffer_from("attack at dawn", 0);
  OK(strongroom_aead_seal(k, plain, (const uint8_t *)"aad", 3, sealed, sizeof sealed, &written));
  CHECK(written == 14 + STRONGROOM_AEAD_OVERHEAD);
  EXPECT(STRONGROOM_E_BUFFER_TOO_SMALL, strongroom_aead_seal(k, plain, NULL, 0, sealed, 14 + 39, &written));
  OK(strongroom_aead_open(k, (const uint8_t *)"aad", 3, sealed, written, 0, &opened));
  OK(strongroom_buffer_ct_eq(opened, (const uint8_t *)"attack at dawn", 14, &equal));
  CHECK(equal == 1);
  OK(strongroom_buffer_destroy(opened));
  EXPECT(STRONGROOM_E_DECRYPT, strongroom_aead_open(k, (const uint8_t *)"aaX", 3, sealed, written, 0, &opened));
  sealed[30] ^= 1;
  EXPECT(STRONGROOM_E_DECRYPT, strongroom_aead_open(k, (const uint8_t *)"aad", 3, sealed, written, 0, &opened));
  EXPECT(STRONGROOM_E_FORMAT, strongroom_aead_open(k, NULL, 0, sealed, 39, 0, &opened));
  EXPECT(STRONGROOM_E_WRONG_HANDLE_TYPE, strongroom_buffer_destroy(as_buffer(k.id)));

  strongroom_aead_key k2;
  OK(strongroom_aead_key_random(&k2));
  OK(strongroom_aead_key_destroy(k2));
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_aead_key_destroy(k2));
  OK(strongroom_aead_key_destroy(k));
  OK(strongroom_buffer_destroy(plain));
  OK(strongroom_buffer_destroy(key));
  OK(strongroom_buffer_destroy(pass));
}

static void test_kem(uint32_t alg, size_t pk_len, size_t ct_len) {
  strongroom_kem_key key, again;
  strongroom_buffer sent, received, seed;
  uint8_t pk[2000], pk2[2000], ct[1200];
  size_t written = 0;
  uint8_t s1[32], s2[32];

  OK(strongroom_kem_keygen(alg, &key));
  OK(strongroom_kem_public_key(key, pk, sizeof pk, &written));
  CHECK(written == pk_len);
  EXPECT(STRONGROOM_E_BUFFER_TOO_SMALL, strongroom_kem_public_key(key, pk, pk_len - 1, &written));
  OK(strongroom_kem_encapsulate(alg, pk, pk_len, ct, sizeof ct, &written, &sent));
  CHECK(written == ct_len);
  OK(strongroom_kem_decapsulate(key, ct, ct_len, &received));
  OK(strongroom_buffer_read(sent, 0, s1, 32));
  OK(strongroom_buffer_read(received, 0, s2, 32));
  CHECK(memcmp(s1, s2, 32) == 0);
  OK(strongroom_buffer_destroy(received));
  ct[5] ^= 1; /* implicit rejection: a different secret, not an error */
  OK(strongroom_kem_decapsulate(key, ct, ct_len, &received));
  OK(strongroom_buffer_read(received, 0, s2, 32));
  CHECK(memcmp(s1, s2, 32) != 0);
  OK(strongroom_buffer_destroy(received));
  EXPECT(STRONGROOM_E_FORMAT, strongroom_kem_decapsulate(key, ct, ct_len - 1, &received));
  EXPECT(STRONGROOM_E_FORMAT, strongroom_kem_encapsulate(alg, pk, pk_len - 1, ct, sizeof ct, &written, &sent));
  EXPECT(STRONGROOM_E_BUFFER_TOO_SMALL, strongroom_kem_encapsulate(alg, pk, pk_len, ct, ct_len - 1, &written, &received));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_kem_keygen(99, &again));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_kem_decapsulate(key, NULL, ct_len, &received));

  OK(strongroom_kem_seed(key, &seed));
  OK(strongroom_kem_from_seed(alg, seed, &again));
  OK(strongroom_kem_public_key(again, pk2, sizeof pk2, &written));
  CHECK(memcmp(pk, pk2, pk_len) == 0);
  if (alg == STRONGROOM_KEM_ML_KEM_768) /* a 32-byte buffer is no ML-KEM seed */
    EXPECT(STRONGROOM_E_FORMAT, strongroom_kem_from_seed(alg, sent, &again));
  OK(strongroom_buffer_destroy(seed));
  OK(strongroom_buffer_destroy(sent));
  OK(strongroom_kem_key_destroy(key));
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_kem_key_destroy(key));
}

static void test_ml_dsa(void) {
  strongroom_signing_key key, again;
  strongroom_buffer seed;
  static uint8_t pk[STRONGROOM_ML_DSA_65_PUBLIC_KEY_LEN], pk2[STRONGROOM_ML_DSA_65_PUBLIC_KEY_LEN];
  static uint8_t sig[STRONGROOM_ML_DSA_65_SIGNATURE_LEN];
  uint8_t long_context[256] = {0};
  size_t written;
  const uint8_t msg[] = "message";

  OK(strongroom_ml_dsa_65_keygen(&key));
  OK(strongroom_ml_dsa_65_public_key(key, pk, sizeof pk, &written));
  CHECK(written == sizeof pk);
  OK(strongroom_ml_dsa_65_sign(key, msg, 7, (const uint8_t *)"ctx", 3, sig, sizeof sig, &written));
  CHECK(written == sizeof sig);
  OK(strongroom_ml_dsa_65_verify(pk, sizeof pk, msg, 7, (const uint8_t *)"ctx", 3, sig, sizeof sig));
  EXPECT(STRONGROOM_E_BAD_SIGNATURE, strongroom_ml_dsa_65_verify(pk, sizeof pk, msg, 6, (const uint8_t *)"ctx", 3, sig, sizeof sig));
  EXPECT(STRONGROOM_E_BAD_SIGNATURE, strongroom_ml_dsa_65_verify(pk, sizeof pk, msg, 7, NULL, 0, sig, sizeof sig));
  EXPECT(STRONGROOM_E_FORMAT, strongroom_ml_dsa_65_verify(pk, sizeof pk - 1, msg, 7, NULL, 0, sig, sizeof sig));
  EXPECT(STRONGROOM_E_FORMAT, strongroom_ml_dsa_65_verify(pk, sizeof pk, msg, 7, NULL, 0, sig, sizeof sig - 1));
  EXPECT(STRONGROOM_E_BUFFER_TOO_SMALL, strongroom_ml_dsa_65_sign(key, msg, 7, NULL, 0, sig, sizeof sig - 1, &written));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_ml_dsa_65_sign(key, msg, 7, long_context, 256, sig, sizeof sig, &written));
  OK(strongroom_ml_dsa_65_seed(key, &seed));
  OK(strongroom_ml_dsa_65_from_seed(seed, &again));
  OK(strongroom_ml_dsa_65_public_key(again, pk2, sizeof pk2, NULL));
  CHECK(memcmp(pk, pk2, sizeof pk) == 0);
  OK(strongroom_signing_key_destroy(again));
  OK(strongroom_signing_key_destroy(key));
  EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_signing_key_destroy(key));
  OK(strongroom_buffer_destroy(seed));
}

static int temp_file(void) {
  char path[] = "/tmp/strongroom-c-test-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  unlink(path);
  return fd;
}

static void test_age(void) {
  strongroom_buffer identity, plain = buffer_from("the age plaintext", 0), pass = buffer_from("pass phrase", 0);
  strongroom_buffer wrong = buffer_from("wrong phrase", 0), got;
  char recipient[2048];
  size_t written = 0;
  int equal;

  for (uint32_t kind = STRONGROOM_AGE_X25519; kind <= STRONGROOM_AGE_HYBRID; kind++) {
    OK(strongroom_age_keygen(kind, &identity, recipient, sizeof recipient, &written));
    CHECK(written == strlen(recipient) && strncmp(recipient, "age1", 4) == 0);
    for (uint32_t flags = 0; flags <= STRONGROOM_AGE_ARMOR; flags++) {
      int fd = temp_file();
      OK(strongroom_age_encrypt(plain, recipient, flags, fd));
      CHECK(lseek(fd, 0, SEEK_SET) == 0);
      OK(strongroom_age_decrypt(fd, identity, &got));
      OK(strongroom_buffer_ct_eq(got, (const uint8_t *)"the age plaintext", 17, &equal));
      CHECK(equal == 1);
      OK(strongroom_buffer_destroy(got));
      /* truncated: refused, nothing released */
      CHECK(ftruncate(fd, lseek(fd, 0, SEEK_END) - 5) == 0);
      CHECK(lseek(fd, 0, SEEK_SET) == 0);
      strongroom_status truncated = strongroom_age_decrypt(fd, identity, &got);
      CHECK(truncated == STRONGROOM_E_DECRYPT || truncated == STRONGROOM_E_FORMAT);
      close(fd);
    }
    OK(strongroom_buffer_destroy(identity));
  }
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_age_keygen(3, &identity, recipient, sizeof recipient, NULL));
  EXPECT(STRONGROOM_E_BUFFER_TOO_SMALL, strongroom_age_keygen(STRONGROOM_AGE_X25519, &identity, recipient, 10, NULL));
  EXPECT(STRONGROOM_E_FORMAT, strongroom_age_encrypt(plain, "age1notarecipient", 0, 1));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_age_encrypt(plain, "# only a comment\n", 0, 1));
  EXPECT(STRONGROOM_E_NULL_POINTER, strongroom_age_encrypt(plain, NULL, 0, 1));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_age_encrypt(plain, recipient, 0, -1));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_age_encrypt(plain, recipient, 0x10, 1));

  int fd = temp_file();
  OK(strongroom_age_encrypt_passphrase(plain, pass, 2, 0, fd));
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  OK(strongroom_age_decrypt_passphrase(fd, pass, &got));
  OK(strongroom_buffer_ct_eq(got, (const uint8_t *)"the age plaintext", 17, &equal));
  CHECK(equal == 1);
  OK(strongroom_buffer_destroy(got));
  CHECK(lseek(fd, 0, SEEK_SET) == 0);
  EXPECT(STRONGROOM_E_NO_IDENTITY, strongroom_age_decrypt_passphrase(fd, wrong, &got));
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_age_encrypt_passphrase(plain, pass, 23, 0, fd));
  close(fd);
  EXPECT(STRONGROOM_E_IO, strongroom_age_decrypt_passphrase(fd, pass, &got)); /* closed descriptor */
  OK(strongroom_buffer_destroy(wrong));
  OK(strongroom_buffer_destroy(pass));
  OK(strongroom_buffer_destroy(plain));
}

static void test_purge_and_harden(void) {
  strongroom_buffer b = buffer_from("purge me", 0);
  uint8_t out[8];
  OK(strongroom_purge());
  EXPECT(STRONGROOM_E_DESTROYED, strongroom_buffer_read(b, 0, out, 8));
  OK(strongroom_buffer_destroy(b)); /* the handle is still there to destroy */
  strongroom_status hardened = strongroom_harden();
  CHECK(hardened == STRONGROOM_OK || hardened == STRONGROOM_E_UNSUPPORTED);
  EXPECT(STRONGROOM_E_INVALID_ARGUMENT, strongroom_set_default_policy(7));
}

/* After every function has run, the library has installed no signal handler of its own (Go
   requires SA_ONSTACK of any; a C host owns its signals). SIGSEGV and SIGBUS are left out:
   AddressSanitizer installs handlers for those in the sanitized run. */
static void test_no_signal_handlers(void) {
  int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD};
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
    struct sigaction old;
    CHECK(sigaction(signals[i], NULL, &old) == 0);
    CHECK(!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL);
  }
}

int main(void) {
  test_version_and_errors();
  test_buffers(0);
  test_buffers(STRONGROOM_BUFFER_GUARDED);
  test_bad_inputs();
  test_enclaves();
  test_kdf_and_aead();
  test_kem(STRONGROOM_KEM_ML_KEM_768, STRONGROOM_ML_KEM_768_PUBLIC_KEY_LEN, STRONGROOM_ML_KEM_768_CIPHERTEXT_LEN);
  test_kem(STRONGROOM_KEM_X_WING, STRONGROOM_X_WING_PUBLIC_KEY_LEN, STRONGROOM_X_WING_CIPHERTEXT_LEN);
  test_ml_dsa();
  test_age();
  test_purge_and_harden(); /* last: it wipes every secret */
  test_no_signal_handlers();
  printf("test_api: %d checks passed\n", checks_run);
  return 0;
}
