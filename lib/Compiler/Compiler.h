//===- Compiler.h - the Tessera compile session -----------------*- C++ -*-===//
//
// The library behind tessera-compile: ONNX import, the registered pipelines,
// code generation and artifact writing. Tools are thin mains over it.
//
//===----------------------------------------------------------------------===//
#ifndef TESSERA_LIB_COMPILER_COMPILER_H
#define TESSERA_LIB_COMPILER_COMPILER_H

#include "lib/Pipelines/Pipelines.h"

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace tessera {

struct CompileOptions {
  std::string inputPath;  ///< .onnx model (or .mlir in the tessera dialect)
  std::string outputPath; ///< artifact or IR output ("-" = stdout for IR)
  std::string target = "cpu";
  std::string cpu = "native";
  std::string gpuArch = "sm_90"; ///< --target=cuda: sm_80 or sm_90
  bool gpuLibraryCalls = true;   ///< --target=cuda: allow cuBLAS GEMMs
  int optLevel = 3;
  /// What to produce: "artifact", "tessera" (imported IR), "linalg",
  /// "llvm" (LLVM dialect), "object", "so"; for cuda "gpu" (kernels and
  /// host program after the pipeline) and "ptx".
  std::string emit = "artifact";
  std::map<std::string, std::vector<int64_t>> inputShapes;
  std::string opStats; ///< "" or "json": print the ONNX op histogram
  int64_t minWeightElements = 16;
  bool fuseElementwise = true;
  /// Storage precision: "f32" (default), "bf16" or "f16"; arithmetic and
  /// accumulation stay f32 (see tessera-lower-precision).
  std::string precision = "f32";
  /// tessera-derive settings (report "-" = stdout).
  DeriveOptions derive;
  /// tessera-autodiff (--train) and tessera-remat (--memory-budget).
  TrainOptions train;
  RematOptions remat;
  /// --memory-report ("-" = stdout) and --memory-plot (SVG) of the CPU
  /// target's arena plan (tessera-plan-memory).
  std::string memoryReport, memoryPlot;
  /// Sharding (issue 6): --mesh=NAME=SIZE[,NAME=SIZE...], --shard-spec (a
  /// JSON object: input or weight name -> sharding string), --shard-report
  /// ("-" = stdout). With a mesh, --emit=spmd writes the partitioned program.
  std::string mesh, shardSpec, shardReport;
  /// Pipeline parallelism: --pipeline-stages=N cuts the model into N stages
  /// (outputPath is then a directory: stage<k>.tsr and pipeline.json);
  /// stageMeshes[k] is stage k's --mesh ("" or "none": one device).
  int64_t pipelineStages = 1;
  std::vector<std::string> stageMeshes;
  /// Internal: when set, --shard-spec names this module does not have are
  /// skipped (another pipeline stage may), and the applied ones recorded.
  std::set<std::string> *shardSpecNames = nullptr;
  bool verbose = true; ///< progress and timing lines on stderr
  bool verifyEach = false;
  std::string dumpDir; ///< if set, IR after each stage is written there
};

/// Runs the whole compilation. Diagnostics are printed on stderr with
/// locations; returns 0 on success, non-zero otherwise. Nothing is written
/// to outputPath unless compilation succeeds.
int compile(const CompileOptions &options);

/// Parses "name=1x3x224x224" into `shapes`. Returns false with `error` set.
bool parseInputShape(const std::string &spec,
                     std::map<std::string, std::vector<int64_t>> &shapes,
                     std::string &error);

/// Markdown table of the supported ONNX operators (docs/supported-ops.md).
std::string supportedOpsMarkdown();

} // namespace tessera

#endif
