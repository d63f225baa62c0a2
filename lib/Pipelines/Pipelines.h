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

/// tessera-derive (OLLIE derivation) settings shared by both pipelines.
struct DeriveOptions {
  bool enabled = false;
  unsigned maxDepth = 6;
  double timeBudget = 30.0;   ///< seconds for the whole module
  std::string costModel;      ///< "cpu" or "cuda"; empty = the target's
  std::string report;         ///< JSON report path ("-" = stdout); empty = none
  /// The pass text, or "" when disabled.
  std::string passText(const std::string &target) const;
  /// The registered pipelines' options that reproduce these settings
  /// (`derive=true derive-max-depth=...`), or "" when disabled.
  std::string pipelineOptionText() const;
};

/// tessera-autodiff (training step) settings.
struct TrainOptions {
  bool enabled = false;
  std::string loss = "mse";      ///< mse or cross-entropy
  std::string optimizer = "sgd"; ///< sgd, adam or none
  double lr = 0.01;
  bool emitGradients = false;
  std::string passText() const;
  std::string pipelineOptionText() const;
};

/// tessera-remat (rematerialization under a memory budget) settings.
struct RematOptions {
  std::string budget;            ///< bytes or NN%; empty = off
  std::string method = "moccasin";
  double timeLimit = 30.0;       ///< seconds per function
  std::string costModel;         ///< cpu or cuda; empty = the target's
  bool report = false;           ///< summary line on stderr
  std::string dumpGraph;         ///< node-link JSON of the graph
  bool enabled() const { return !budget.empty() || !dumpGraph.empty(); }
  std::string passText(const std::string &target) const;
  std::string pipelineOptionText() const;
};

struct CPUPipelineOptions {
  /// Constants with at least this many elements become weight arguments.
  int64_t minWeightElements = 16;
  /// Fuse producer/consumer elementwise linalg ops on tensors.
  bool fuseElementwise = true;
  /// Storage precision: "f32", or "bf16"/"f16" (tessera-lower-precision:
  /// 16-bit storage, f32 arithmetic and accumulation).
  std::string precision = "f32";
  DeriveOptions derive;
  TrainOptions train;
  RematOptions remat;
  /// tessera-plan-memory: report ("-" = stdout) and SVG plot paths.
  std::string memoryReport, memoryPlot;
};

struct GPUPipelineOptions {
  int64_t minWeightElements = 16;
  bool fuseElementwise = true;
  std::string precision = "f32";    ///< as in CPUPipelineOptions
  std::string chip = "sm_90";       ///< nvvm-attach-target chip (sm_80, sm_90)
  std::string features = "+ptx80";  ///< PTX ISA version feature
  int optLevel = 3;
  int64_t blockSize = 256;          ///< threads per block of generated kernels
  bool useLibrary = true;           ///< allow cuBLAS calls for large GEMMs
  DeriveOptions derive;
  TrainOptions train;
  RematOptions remat;
};

struct PipelineStage {
  std::string name; ///< registered pipeline name
  std::string text; ///< textual pass pipeline (without builtin.module(...))
};

/// The stages of the CPU pipeline, in order.
std::vector<PipelineStage> cpuPipelineStages(const CPUPipelineOptions &opts);

/// The stages of the CUDA (PTX) pipeline, in order. The first two are the
/// CPU pipeline's; the last leaves PTX in a `gpu.binary` and the host
/// function on buffers, with gpu.launch_func and cuBLAS calls.
std::vector<PipelineStage> gpuPipelineStages(const GPUPipelineOptions &opts);

/// Registers all Tessera passes and named pipelines with the global registry.
void registerTesseraPassesAndPipelines();

/// Parses `text` into `pm` (anchored on builtin.module).
bool addPipelineText(mlir::OpPassManager &pm, const std::string &text,
                     std::string &error);

} // namespace tessera

#endif
