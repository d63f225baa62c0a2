/*===- tessera/Collectives.h - what compiled SPMD code asks the runtime ---===*
 *
 * A partitioned (SPMD) program calls the runtime for each collective of
 * the upstream `shard` dialect it contains. `tessera-lower-collectives`
 * emits every call with a constant descriptor, an int64_t array laid out
 * as below; libtessera_runtime implements the calls with MPI (one process
 * per device, MPI_COMM_WORLD rank = the device's row-major linear index
 * in the mesh).
 *
 *   desc[0]  TSR_COLL_DESC_VERSION
 *   desc[1]  kind (tsr_coll_kind)
 *   desc[2]  element type (tsr_dtype of tessera/Runtime.h)
 *   desc[3]  reduction (tsr_coll_reduction; all_reduce, reduce_scatter)
 *   desc[4]  a: gather/slice/scatter dim; all_to_all split dim; shift offset
 *   desc[5]  b: all_to_all concat dim; shift rotate (0/1)
 *   desc[6]  M, the mesh rank, then M axis sizes
 *   then     K, then K mesh axes: the group, major first (a member's index
 *            in the group is its row-major multi-index over these axes)
 *   then     R, then R dims of the input tensor (dense, row-major)
 *
 * Semantics are upstream `shard`'s: all_gather concatenates the members'
 * tensors along `a` in group order, reduce_scatter reduces them and keeps
 * the member's part of dim `a`, all_slice keeps the member's part of
 * dim `a`, all_to_all splits dim `a` into one part per member and
 * concatenates what it receives along `b`, shift moves each tensor
 * `offset` members on along the one group axis (wrapping when rotate;
 * else members nobody sends to get zeros). process_index returns the
 * device's index in the group.
 *===----------------------------------------------------------------------===*/
#ifndef TESSERA_COLLECTIVES_H
#define TESSERA_COLLECTIVES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TSR_COLL_DESC_VERSION 1

typedef enum tsr_coll_kind {
  TSR_COLL_ALL_REDUCE = 1,
  TSR_COLL_ALL_GATHER = 2,
  TSR_COLL_ALL_SLICE = 3,
  TSR_COLL_ALL_TO_ALL = 4,
  TSR_COLL_SHIFT = 5,
  TSR_COLL_PROCESS_INDEX = 6,
  TSR_COLL_REDUCE_SCATTER = 7
} tsr_coll_kind;

typedef enum tsr_coll_reduction {
  TSR_COLL_SUM = 0,
  TSR_COLL_MAX = 1,
  TSR_COLL_MIN = 2,
  TSR_COLL_PROD = 3
} tsr_coll_reduction;

/* Runs one collective: reads the input tensor at `in` and writes the
 * result tensor at `out` (addresses as integers, as compiled code passes
 * them). A failure (bad descriptor, MPI error, no MPI) is reported on
 * stderr and aborts every process: compiled code cannot return errors. */
void tsr_coll_run(int64_t desc, int64_t in, int64_t out);

/* The calling device's index in the group of a TSR_COLL_PROCESS_INDEX
 * descriptor. */
int64_t tsr_coll_process_index(int64_t desc);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TESSERA_COLLECTIVES_H */
