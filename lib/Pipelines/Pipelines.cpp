//===- Pipelines.cpp - named, registered Tessera pipelines ----------------===//
#include "lib/Pipelines/Pipelines.h"

#include "lib/Target/CPU/Passes.h"
#include "passes/conversion/GraphToLinalg/Passes.h"
#include "passes/graph/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace tessera {

std::vector<PipelineStage> cpuPipelineStages(const CPUPipelineOptions &o) {
  std::vector<PipelineStage> stages;
  stages.push_back({"tessera-graph-cleanup", "canonicalize,cse"});
  std::string toLinalg = "tessera-externalize-weights{min-elements=" +
                         std::to_string(o.minWeightElements) +
                         "},convert-tessera-to-linalg,canonicalize,cse";
  if (o.fuseElementwise)
    toLinalg += ",func.func(linalg-fuse-elementwise-ops),canonicalize,cse";
  stages.push_back({"tessera-lower-to-linalg", toLinalg});
  stages.push_back(
      {"tessera-cpu-bufferize",
       "one-shot-bufferize{bufferize-function-boundaries "
       "function-boundary-type-conversion=identity-layout-map},"
       "buffer-results-to-out-params{hoist-static-allocs=true modify-public-functions=true},canonicalize,"
       "buffer-deallocation-pipeline,canonicalize"});
  stages.push_back(
      {"tessera-cpu-lower-to-llvm",
       "func.func(tessera-memref-copy-to-linalg,convert-linalg-to-loops),"
       "convert-scf-to-cf,"
       "expand-strided-metadata,lower-affine,finalize-memref-to-llvm,"
       "convert-math-to-llvm,convert-math-to-libm,convert-arith-to-llvm,"
       "convert-index-to-llvm,convert-cf-to-llvm,"
       "convert-func-to-llvm{use-bare-ptr-memref-call-conv=true},"
       "reconcile-unrealized-casts,tessera-cpu-packed-entry,canonicalize"});
  return stages;
}

bool addPipelineText(OpPassManager &pm, const std::string &text,
                     std::string &error) {
  llvm::raw_string_ostream os(error);
  return succeeded(parsePassPipeline(text, pm, os));
}

namespace {
struct CPUPipelineCLOptions
    : public PassPipelineOptions<CPUPipelineCLOptions> {
  Option<int64_t> minWeightElements{
      *this, "min-weight-elements",
      llvm::cl::desc("Constants with at least this many elements become "
                     "weight arguments"),
      llvm::cl::init(16)};
  Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Fuse elementwise linalg ops on tensors"),
      llvm::cl::init(true)};
  CPUPipelineOptions get() const {
    CPUPipelineOptions o;
    o.minWeightElements = minWeightElements;
    o.fuseElementwise = fuseElementwise;
    return o;
  }
};

void buildStages(OpPassManager &pm, const CPUPipelineOptions &opts,
                 const std::string &only) {
  for (const PipelineStage &s : cpuPipelineStages(opts)) {
    if (!only.empty() && s.name != only)
      continue;
    std::string err;
    if (!addPipelineText(pm, s.text, err))
      llvm::report_fatal_error(llvm::Twine("bad built-in pipeline ") + s.name +
                               ": " + err);
  }
}
} // namespace

void registerTesseraPassesAndPipelines() {
  registerTesseraConversionPasses();
  registerTesseraGraphPasses();
  registerTesseraCPUPasses();

  PassPipelineRegistration<CPUPipelineCLOptions>(
      "tessera-cpu-pipeline",
      "The whole CPU pipeline of tessera-compile: tessera graph -> LLVM "
      "dialect with the packed entry point",
      [](OpPassManager &pm, const CPUPipelineCLOptions &o) {
        buildStages(pm, o.get(), "");
      });
  for (const PipelineStage &s : cpuPipelineStages(CPUPipelineOptions())) {
    std::string name = s.name;
    PassPipelineRegistration<CPUPipelineCLOptions>(
        name, "Stage '" + name + "' of tessera-cpu-pipeline: " + s.text,
        [name](OpPassManager &pm, const CPUPipelineCLOptions &o) {
          buildStages(pm, o.get(), name);
        });
  }
}

} // namespace tessera
