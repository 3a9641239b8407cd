/* Assertions for the C tests: each failure names the file, line, expression, status and
   the library's last error, and the test exits 1. */
#ifndef STRONGROOM_TEST_CHECK_H
#define STRONGROOM_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <strongroom.h>

static int checks_run;

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    checks_run++;                                                                          \
    if (!(cond)) {                                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__,    \
              #cond, strongroom_last_error());                                             \
      exit(1);                                                                             \
    }                                                                                      \
  } while (0)

/* `call` must return `want`. */
#define EXPECT(want, call)                                                                 \
  do {                                                                                     \
    checks_run++;                                                                          \
    strongroom_status got_ = (call);                                                       \
    if (got_ != (want)) {                                                                  \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s); last error: %s\n",    \
              __FILE__, __LINE__, #call, got_, strongroom_strerror(got_), (want),          \
              strongroom_strerror(want), strongroom_last_error());                         \
      exit(1);                                                                             \
    }                                                                                      \
  } while (0)

#define OK(call) EXPECT(STRONGROOM_OK, call)

#endif
