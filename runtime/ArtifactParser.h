//===- runtime/ArtifactParser.h - Validating artifact parser ----*- C++ -*-===//
//
// Checks every byte of an artifact that the runtime will ever trust (header,
// section table, CRCs, manifest JSON and its schema, weight placement) and
// describes it. Pure: it reads only the given bytes, loads no code and never
// crashes on malformed input, so it is also the libFuzzer target's entry.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_RUNTIME_ARTIFACTPARSER_H
#define TESSERA_RUNTIME_ARTIFACTPARSER_H

#include "Support.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::runtime {

/// A tensor declared by the manifest. Sizes are checked not to overflow.
struct TensorSpec {
  std::string name;
  tsr_dtype dtype = TSR_DTYPE_INVALID;
  std::vector<int64_t> shape;
  int64_t elementCount = 0;
  size_t byteSize = 0;
  /// Partitioned artifacts: per dim the mesh axes it is split along (major
  /// first; empty when whole), and the shard each device holds. Empty
  /// `split` means the tensor is whole on every device.
  std::vector<std::vector<int>> split;
  std::vector<int64_t> localShape;
  size_t localBytes = 0;
};

/// A weight: its bytes are [offset, offset + byteSize) of the WEIGHTS section.
struct WeightSpec : TensorSpec {
  uint64_t offset = 0;
};

/// A validated section table entry.
struct SectionInfo {
  uint32_t kind = 0;
  uint32_t crc32 = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
};

/// A place in a GPU plan buffer.
struct GpuRef {
  size_t buffer = 0;
  uint64_t offset = 0; ///< bytes from the buffer's start
};

/// A buffer of the GPU plan: a model argument (inputs, weights, outputs in
/// manifest order), an arena slot, or a constant living in the arena.
struct GpuBuffer {
  enum Kind { Arg, Arena, Const } kind = Arena;
  size_t argIndex = 0;
  uint64_t offset = 0, bytes = 0;
  std::vector<uint8_t> data; ///< Const: the bytes to upload (splats expanded)
};

struct GpuStep {
  enum Op { Launch, Gemm } op = Launch;
  std::string kernel, loc;
  uint32_t grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
  std::vector<GpuRef> args;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool aBatched = false, bBatched = false;
  tsr_dtype inputDtype = TSR_DTYPE_F32; ///< of A and B; C is f32
  GpuRef a, b, c;
};

/// The launch plan of a "cuda" artifact (manifest "gpu"), all validated:
/// buffer ids, offsets and every byte a step touches lie inside its buffer.
struct GpuPlan {
  std::string arch, kernelModule;
  uint64_t arenaBytes = 0;
  std::vector<GpuBuffer> buffers;
  std::vector<GpuStep> steps;
};

/// Everything the runtime needs from an artifact, all validated.
struct ParsedArtifact {
  uint32_t formatVersion = 0;
  uint64_t fileSize = 0;
  std::vector<SectionInfo> sections; // in table order
  // Indices into `sections`, -1 when absent.
  int manifestSection = -1;
  int hostCodeSection = -1;
  int weightsSection = -1;
  int ptxSection = -1;
  int cubinSection = -1;

  std::string manifestJson; // as stored
  std::string producer, model, target, entry, abi;
  std::vector<TensorSpec> inputs, outputs;
  std::vector<WeightSpec> weights;
  uint64_t arenaBytes = 0; ///< abi tessera-packed-v2: scratch arena per run
  /// Partitioned (SPMD) artifacts: the device mesh; empty otherwise.
  std::vector<int64_t> meshShape;
  std::vector<std::string> meshAxes;
  int64_t devices() const {
    int64_t n = 1;
    for (int64_t s : meshShape)
      n *= s;
    return n;
  }
  GpuPlan gpu; ///< target "cuda" only
};

/// "manifest", "host_code", "weights", "ptx", "cubin", or "kind N".
std::string sectionKindName(uint32_t kind);

} // namespace tessera::runtime

/// Validates `size` bytes at `bytes` as an artifact. On success fills
/// `*parsed` and returns true; otherwise fills `*err` (code and a message
/// naming the failing field, section or offset) and returns false. Accepts
/// any target string the format defines ("cpu", "cuda"); whether the target
/// can be run is the loader's decision.
bool tsr_internal_parse_artifact(const uint8_t *bytes, size_t size,
                                 tessera::runtime::ParsedArtifact *parsed,
                                 tessera::runtime::Error *err);

#endif // TESSERA_RUNTIME_ARTIFACTPARSER_H
