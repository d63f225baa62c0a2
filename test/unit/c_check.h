/* CHECK for the C tests: reports the failed condition and counts it in
 * `failures`; main returns non-zero when any failed. Also the tensor
 * bindings of c_tensor.h. */
#ifndef TESSERA_TEST_C_CHECK_H
#define TESSERA_TEST_C_CHECK_H

#include <stdio.h>

#include "c_tensor.h"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

#endif
