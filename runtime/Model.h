//===- runtime/Model.h - The objects behind the C API handles ---*- C++ -*-===//
#ifndef TESSERA_RUNTIME_MODEL_H
#define TESSERA_RUNTIME_MODEL_H

#include "ArtifactParser.h"
#include "Cuda.h"
#include "HostCode.h"
#include "Support.h"

#include <cstdlib>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct tsr_error {
  tsr_code code;
  std::string message;
};

namespace tessera::runtime {

struct FreeDeleter {
  void operator()(uint8_t *p) const { std::free(p); }
};
/// Artifact bytes in a TSR_SECTION_ALIGN-aligned buffer, so that section
/// offsets (multiples of the alignment) stay aligned in memory.
using AlignedBytes = std::unique_ptr<uint8_t, FreeDeleter>;

/// A heap error object; a static out-of-memory error if allocation fails.
tsr_error *makeError(tsr_code code, std::string message);
/// `size` bytes (at least one alignment unit), TSR_SECTION_ALIGN-aligned;
/// null on overflow or when out of memory.
AlignedBytes allocateAligned(size_t size);
inline tsr_error *makeError(Error &&err) {
  return makeError(err.code, std::move(err.message));
}
tsr_error *outOfMemoryError();

} // namespace tessera::runtime

struct tsr_model {
  using Entry = void (*)(void **);

  tessera::runtime::AlignedBytes bytes; // the whole artifact
  size_t size = 0;
  tessera::runtime::ParsedArtifact artifact;
  tessera::runtime::HostCode code;
  Entry entry = nullptr;
  std::vector<void *> weightData; // one per manifest weight, 64-byte aligned
  std::unique_ptr<tessera::runtime::CudaExecutor> cuda; // target "cuda"
  /// Serializes runs of a CUDA model: they share its device buffers,
  /// stream and captured graph.
  std::mutex cudaMutex;
  /// tsr_model_measure_arena: fill the arena with a canary before each run
  /// and record the highest byte the run wrote.
  std::atomic<bool> measureArena{false};
  std::atomic<uint64_t> arenaHighWater{0};
  std::atomic<uint64_t> measuredRuns{0};
};

#endif // TESSERA_RUNTIME_MODEL_H
