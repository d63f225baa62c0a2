/* CHECK for the C tests: reports the failed condition and counts it in
 * `failures`; main returns non-zero when any failed. */
#ifndef TESSERA_TEST_C_CHECK_H
#define TESSERA_TEST_C_CHECK_H

#include <stdio.h>

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* A dense f32 tensor binding. */
#define F32_TENSOR(t, tensor_name, rank_, shape_, data_, bytes_)               \
  do {                                                                         \
    (t).name = (tensor_name);                                                  \
    (t).dtype = TSR_DTYPE_F32;                                                 \
    (t).rank = (rank_);                                                        \
    (t).shape = (shape_);                                                      \
    (t).data = (data_);                                                        \
    (t).byte_size = (bytes_);                                                  \
  } while (0)

#endif
