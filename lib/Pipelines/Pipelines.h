//===- Pipelines.h - named, registered Tessera pipelines --------*- C++ -*-===//
//
// Every pipeline tessera-compile runs is registered here under a name, so
// `tessera-opt --pass-pipeline='builtin.module(<name>)'` (or `--<name>`)
// reproduces any stage. The text form of each pipeline is also available for
// repro messages.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_LIB_PIPELINES_PIPELINES_H
#define TESSERA_LIB_PIPELINES_PIPELINES_H

#include <cstdint>
#include <string>
#include <vector>

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace tessera {

struct CPUPipelineOptions {
  /// Constants with at least this many elements become weight arguments.
  int64_t minWeightElements = 16;
  /// Fuse producer/consumer elementwise linalg ops on tensors.
  bool fuseElementwise = true;
};

struct PipelineStage {
  std::string name; ///< registered pipeline name
  std::string text; ///< textual pass pipeline (without builtin.module(...))
};

/// The stages of the CPU pipeline, in order.
std::vector<PipelineStage> cpuPipelineStages(const CPUPipelineOptions &opts);

/// Registers all Tessera passes and named pipelines with the global registry.
void registerTesseraPassesAndPipelines();

/// Parses `text` into `pm` (anchored on builtin.module).
bool addPipelineText(mlir::OpPassManager &pm, const std::string &text,
                     std::string &error);

} // namespace tessera

#endif
