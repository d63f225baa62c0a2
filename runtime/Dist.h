//===- runtime/Dist.h - Multi-process (SPMD) execution over MPI -*- C++ -*-===//
//
// A partitioned artifact runs as one process per mesh device, launched with
// mpirun; the MPI_COMM_WORLD rank is the device's row-major linear index.
// Callers pass whole (global) tensors on every rank: each rank runs the
// compiled program on its shards and the outputs are gathered back whole
// on every rank. Without MPI (the runtime built without it) partitioned
// artifacts load but do not run.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_RUNTIME_DIST_H
#define TESSERA_RUNTIME_DIST_H

#include "Support.h"

#include <cstdint>
#include <mutex>
#include <vector>

namespace tessera::runtime {
struct TensorSpec;
struct ParsedArtifact;

namespace dist {

/// Initializes MPI once per process, unless the embedding program already
/// did (MPI_Finalize at exit only when the runtime initialized it). False
/// with `err` set when the runtime has no MPI or initialization fails.
bool init(Error *err);
/// This process's device index and the number of devices of the program it
/// runs: MPI_COMM_WORLD's, or its pipeline stage's after setDeviceGroup.
int deviceRank();
int devices();
int worldRank();
int worldSize();
/// Splits MPI_COMM_WORLD by `color` (collective over it): the processes
/// with this process's color become its devices (a pipeline stage).
bool setDeviceGroup(int color, Error *err);
/// Back to MPI_COMM_WORLD (frees the group's communicators).
void resetDeviceGroup();
/// Held by every run of a partitioned model or pipeline: their collectives
/// share communicators, and each device must issue them in one order.
std::mutex &runMutex();

/// Copies the region [srcOff, srcOff + extent) of a dense row-major `src`
/// of shape `srcShape` to `dstOff` in `dst` of shape `dstShape`.
void copyRegion(const uint8_t *src, const int64_t *srcShape,
                const int64_t *srcOff, uint8_t *dst, const int64_t *dstShape,
                const int64_t *dstOff, const int64_t *extent, size_t rank,
                size_t elementSize);

/// Where the shard of device `rank` starts in the global tensor.
std::vector<int64_t> shardOffsets(const std::vector<int64_t> &meshShape,
                                  int rank, const TensorSpec &spec);

/// Gathers every device's `local` shard of `spec` into the whole tensor
/// `global` on every device.
bool gatherShards(const std::vector<int64_t> &meshShape, const TensorSpec &spec,
                  const uint8_t *local, uint8_t *global, Error *err);

} // namespace dist
} // namespace tessera::runtime

#endif // TESSERA_RUNTIME_DIST_H
