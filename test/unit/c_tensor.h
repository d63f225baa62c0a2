/* Binding a caller buffer to a tsr_tensor, for the C tests. */
#ifndef TESSERA_TEST_C_TENSOR_H
#define TESSERA_TEST_C_TENSOR_H

#include "tessera/Runtime.h"

#define TSR_TENSOR(t, tensor_name, dtype_, rank_, shape_, data_, bytes_)      \
  do {                                                                         \
    (t).name = (tensor_name);                                                  \
    (t).dtype = (dtype_);                                                      \
    (t).rank = (rank_);                                                        \
    (t).shape = (shape_);                                                      \
    (t).data = (data_);                                                        \
    (t).byte_size = (bytes_);                                                  \
  } while (0)

/* A dense f32 tensor binding. */
#define F32_TENSOR(t, tensor_name, rank_, shape_, data_, bytes_)               \
  TSR_TENSOR(t, tensor_name, TSR_DTYPE_F32, rank_, shape_, data_, bytes_)

#endif
