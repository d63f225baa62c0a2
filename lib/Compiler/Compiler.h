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

/// One message of a compilation: errors, warnings and notes, and remarks
/// (progress and timing lines, given when `verbose`). `file` is empty when
/// the message has no source location; line and column count from 1 (0:
/// not known). `io`: an error reading or writing a file.
struct Diagnostic {
  enum Severity { Error, Warning, Note, Remark } severity = Error;
  std::string message;
  std::string file;
  unsigned line = 0, column = 0;
  bool io = false;
};
using DiagnosticHandler = std::function<void(const Diagnostic &)>;

/// A diagnostic as one or more lines with a trailing newline:
/// "FILE:LINE:COL: error: MSG" ("FILE: error: MSG" without a line), else
/// "TOOL: error: MSG", and "[TOOL] MSG" for remarks; with an empty `tool`,
/// "error: MSG" and "remark: MSG".
std::string formatDiagnostic(const Diagnostic &d,
                             const char *tool = "tessera-compile");

struct CompileOptions {
  std::string inputPath;  ///< .onnx model (or .mlir in the tessera dialect)
  /// When `inputFromBuffer`: the model's bytes; inputPath only names it in
  /// messages. inputFormat is "onnx" or "mlir" ("": by inputPath's suffix).
  bool inputFromBuffer = false;
  std::string inputBuffer, inputFormat;
  std::string outputPath; ///< artifact or IR output ("-" = stdout for IR)
  /// When set, the main output (artifact, or the IR/object --emit asks
  /// for) is stored here instead of written to outputPath.
  std::string *outputBuffer = nullptr;
  /// Receives every diagnostic; unset: formatDiagnostic on stderr.
  DiagnosticHandler diagnostics;
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
  std::string opStats; ///< "" or "json": print the ONNX op histogram (stdout)
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

/// The option values and the combinations visible in `options` (targets,
/// emits, precisions, methods, meshes, paths...): "" or the first problem,
/// worded as tessera-compile's flags. compile() checks them too.
std::string checkOptions(const CompileOptions &options);

/// Runs the whole compilation. Diagnostics go to options.diagnostics (or
/// stderr) with locations; returns 0 on success, non-zero otherwise. Nothing
/// is written to outputPath unless compilation succeeds.
int compile(const CompileOptions &options);

/// Parses "name=1x3x224x224" into `shapes`. Returns false with `error` set.
bool parseInputShape(const std::string &spec,
                     std::map<std::string, std::vector<int64_t>> &shapes,
                     std::string &error);

/// Markdown table of the supported ONNX operators (docs/supported-ops.md).
std::string supportedOpsMarkdown();

} // namespace tessera

#endif
