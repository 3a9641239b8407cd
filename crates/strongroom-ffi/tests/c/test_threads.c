/* The C API from several threads at once: private buffers churned in every thread, one
   shared buffer read by all while they run, and a race of every thread to destroy the same
   handles (exactly one wins each; the rest get STRONGROOM_E_INVALID_HANDLE). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

#define THREADS 8
#define ROUNDS 2000
#define RACES 200

static strongroom_buffer shared;
static strongroom_buffer contested[RACES];
static int wins[RACES];
static pthread_barrier_t start;
static pthread_mutex_t wins_lock = PTHREAD_MUTEX_INITIALIZER;

static int check_shared(void *ctx, const uint8_t *data, size_t len) {
  (void)ctx;
  return len == 32 && data[0] == 0x5a && data[31] == 0x5a;
}

static void *worker(void *arg) {
  uintptr_t id = (uintptr_t)arg;
  uint8_t bytes[64], back[64];
  for (int round = 0; round < ROUNDS; round++) {
    strongroom_buffer mine;
    memset(bytes, (int)(id * 31 + (uintptr_t)round), sizeof bytes);
    OK(strongroom_buffer_new(sizeof bytes, round % 16 == 0 ? STRONGROOM_BUFFER_GUARDED : 0, &mine));
    OK(strongroom_buffer_write(mine, 0, bytes, sizeof bytes));
    OK(strongroom_buffer_read(mine, 0, back, sizeof back));
    CHECK(memcmp(bytes, back, sizeof bytes) == 0);
    int ok = 0;
    OK(strongroom_buffer_with(shared, check_shared, NULL, &ok));
    CHECK(ok == 1);
    OK(strongroom_buffer_destroy(mine));
    EXPECT(STRONGROOM_E_INVALID_HANDLE, strongroom_buffer_destroy(mine));
  }
  pthread_barrier_wait(&start);
  for (int i = 0; i < RACES; i++) {
    strongroom_status got = strongroom_buffer_destroy(contested[(i + (int)id) % RACES]);
    CHECK(got == STRONGROOM_OK || got == STRONGROOM_E_INVALID_HANDLE);
    if (got == STRONGROOM_OK) {
      pthread_mutex_lock(&wins_lock);
      wins[(i + (int)id) % RACES]++;
      pthread_mutex_unlock(&wins_lock);
    }
  }
  return NULL;
}

int main(void) {
  uint8_t fill[32];
  memset(fill, 0x5a, sizeof fill);
  OK(strongroom_buffer_from_bytes(fill, sizeof fill, 0, &shared));
  for (int i = 0; i < RACES; i++) OK(strongroom_buffer_random(16, 0, &contested[i]));
  pthread_barrier_init(&start, NULL, THREADS);
  pthread_t threads[THREADS];
  for (uintptr_t t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], NULL, worker, (void *)t) == 0);
  for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], NULL) == 0);
  for (int i = 0; i < RACES; i++) CHECK(wins[i] == 1);
  OK(strongroom_buffer_destroy(shared));
  printf("test_threads: %d threads x %d rounds, %d destroy races: passed\n", THREADS, ROUNDS, RACES);
  return 0;
}
