//===- Pipelines.cpp - named, registered Tessera pipelines ----------------===//
#include "lib/Pipelines/Pipelines.h"

#include "lib/Target/CPU/Passes.h"
#include "lib/Target/PTX/Passes.h"
#include "passes/conversion/GraphToLinalg/Passes.h"
#include "passes/conversion/GraphToTExpr/Passes.h"
#include "passes/conversion/TExprToLinalg/Passes.h"
#include "passes/derive/Passes.h"
#include "passes/graph/Passes.h"
#include "passes/remat/Passes.h"
#include "passes/shard/Passes.h"
#include "passes/autodiff/Passes.h"
#include "passes/memory/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

using namespace mlir;

namespace tessera {

std::string DeriveOptions::passText(const std::string &target) const {
  if (!enabled)
    return "";
  std::string t = "tessera-derive{max-depth=" + std::to_string(maxDepth) +
                  " time-budget=" + std::to_string(timeBudget) + " target=" +
                  (costModel.empty() ? target : costModel);
  if (!report.empty())
    t += " report=" + report;
  return t + "}";
}

std::string DeriveOptions::pipelineOptionText() const {
  if (!enabled)
    return "";
  return "derive=true derive-max-depth=" + std::to_string(maxDepth) +
         " derive-time-budget=" + std::to_string(timeBudget) +
         (costModel.empty() ? "" : " derive-cost-model=" + costModel);
}

/// A double in pass-option text, exactly (std::to_string keeps six
/// decimals: a learning rate of 1e-7 would print as 0).
static std::string fmtDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string TrainOptions::passText() const {
  if (!enabled)
    return "";
  return "tessera-autodiff{loss=" + loss + " optimizer=" + optimizer +
         " lr=" + fmtDouble(lr) +
         " emit-gradients=" + (emitGradients ? "true" : "false") + "}";
}

std::string TrainOptions::pipelineOptionText() const {
  if (!enabled)
    return "";
  return "train=true loss=" + loss + " optimizer=" + optimizer +
         " lr=" + fmtDouble(lr) +
         (emitGradients ? " emit-gradients=true" : "");
}

std::string RematOptions::passText(const std::string &target) const {
  if (!enabled())
    return "";
  std::string t = "tessera-remat{method=" + method +
                  " time-limit=" + fmtDouble(timeLimit) +
                  " cost-model=" + (costModel.empty() ? target : costModel);
  if (!budget.empty())
    t += " budget=" + budget;
  if (report)
    t += " report=true";
  if (!dumpGraph.empty())
    t += " dump-graph=" + dumpGraph;
  return t + "}";
}

std::string RematOptions::pipelineOptionText() const {
  if (!enabled())
    return "";
  std::string t = "remat-method=" + method +
                  " remat-time-limit=" + fmtDouble(timeLimit);
  if (!budget.empty())
    t += " memory-budget=" + budget;
  return t;
}

static std::vector<PipelineStage> sharedStages(const CPUPipelineOptions &o,
                                               const std::string &target);

std::vector<PipelineStage> cpuPipelineStages(const CPUPipelineOptions &o) {
  return sharedStages(o, "cpu");
}

static std::vector<PipelineStage> sharedStages(const CPUPipelineOptions &o,
                                               const std::string &target) {
  std::vector<PipelineStage> stages;
  // Autodiff runs first, before constant folding rewrites the weights.
  std::string cleanup = o.train.enabled ? o.train.passText() + "," : "";
  cleanup += "canonicalize,cse";
  if (o.derive.enabled)
    cleanup += "," + o.derive.passText(target) + ",canonicalize,cse";
  if (o.remat.enabled())
    cleanup += "," + o.remat.passText(target);
  stages.push_back({"tessera-graph-cleanup", cleanup});
  // After remat, CSE would merge the recomputations back into the
  // originals: the lowering then keeps to canonicalization.
  const std::string cse = o.remat.budget.empty() ? ",cse" : "";
  std::string toLinalg = "tessera-externalize-weights{min-elements=" +
                         std::to_string(o.minWeightElements) +
                         "},tessera-lower-collectives,convert-tessera-to-linalg,convert-texpr-to-linalg,canonicalize" + cse;
  if (o.fuseElementwise)
    toLinalg += ",func.func(tessera-fuse-elementwise),canonicalize" + cse;
  if (o.precision != "f32")
    toLinalg += ",tessera-lower-precision{type=" + o.precision + "}" + cse;
  stages.push_back({"tessera-lower-to-linalg", toLinalg});
  stages.push_back(
      {"tessera-cpu-bufferize",
       "func.func(tessera-distinct-results),one-shot-bufferize{bufferize-function-boundaries "
       "function-boundary-type-conversion=identity-layout-map},"
       "buffer-results-to-out-params{hoist-static-allocs=true modify-public-functions=true},canonicalize,"
       "buffer-deallocation-pipeline,canonicalize,tessera-plan-memory" +
           (o.memoryReport.empty() && o.memoryPlot.empty()
                ? std::string()
                : "{report=" + o.memoryReport + " plot=" + o.memoryPlot + "}")});
  stages.push_back(
      {"tessera-cpu-lower-to-llvm",
       "func.func(tessera-memref-copy-to-linalg,convert-linalg-to-loops),"
       "convert-scf-to-cf,"
       "expand-strided-metadata,lower-affine,finalize-memref-to-llvm,"
       "convert-math-to-llvm,convert-math-to-libm," +
           // Without avx512bf16, LLVM rounds f32 to bf16 with a libgcc call
           // the linked object cannot resolve: expand it to integer ops.
           std::string(o.precision == "bf16" ? "arith-expand{include-bf16=true},"
                                             : "") +
           "convert-arith-to-llvm,"
       "convert-index-to-llvm,convert-cf-to-llvm,"
       "convert-func-to-llvm{use-bare-ptr-memref-call-conv=true},"
       "reconcile-unrealized-casts,tessera-cpu-packed-entry,canonicalize"});
  return stages;
}

std::vector<PipelineStage> gpuPipelineStages(const GPUPipelineOptions &o) {
  CPUPipelineOptions shared;
  shared.minWeightElements = o.minWeightElements;
  shared.fuseElementwise = o.fuseElementwise;
  shared.precision = o.precision;
  shared.derive = o.derive;
  shared.train = o.train;
  shared.remat = o.remat;
  std::vector<PipelineStage> all = sharedStages(shared, "cuda");
  std::vector<PipelineStage> stages(all.begin(), all.begin() + 2);
  stages.push_back(
      {"tessera-gpu-bufferize",
       "func.func(tessera-distinct-results),one-shot-bufferize{bufferize-function-boundaries "
       "function-boundary-type-conversion=identity-layout-map},"
       "buffer-results-to-out-params{hoist-static-allocs=true "
       "modify-public-functions=true},canonicalize,"
       "func.func(tessera-memref-copy-to-linalg)"});
  stages.push_back(
      {"tessera-gpu-map-kernels",
       "func.func(tessera-gpu-map-to-kernels{block-size=" +
           std::to_string(o.blockSize) +
           " use-library=" + (o.useLibrary ? "true" : "false") +
           "}),gpu-kernel-outlining,tessera-gpu-merge-kernel-modules,cse"});
  stages.push_back(
      {"tessera-gpu-lower-to-nvvm",
       "nvvm-attach-target{chip=" + o.chip + " features=" + o.features +
           " O=" + std::to_string(o.optLevel) +
           "},gpu.module(convert-scf-to-cf,expand-strided-metadata,"
           "lower-affine,convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv="
           "true},canonicalize,cse,reconcile-unrealized-casts),"
           "gpu-module-to-binary{format=isa}"});
  return stages;
}

bool addPipelineText(OpPassManager &pm, const std::string &text,
                     std::string &error) {
  llvm::raw_string_ostream os(error);
  return succeeded(parsePassPipeline(text, pm, os));
}

namespace {
/// Options both pipelines take (they share their first two stages).
template <typename Derived>
struct SharedPipelineCLOptions : public PassPipelineOptions<Derived> {
  mlir::detail::PassOptions::Option<int64_t> minWeightElements{
      *this, "min-weight-elements",
      llvm::cl::desc("Constants with at least this many elements become "
                     "weight arguments"),
      llvm::cl::init(16)};
  mlir::detail::PassOptions::Option<bool> fuseElementwise{
      *this, "fuse-elementwise",
      llvm::cl::desc("Fuse elementwise linalg ops on tensors"),
      llvm::cl::init(true)};
  mlir::detail::PassOptions::Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("Storage precision: f32, bf16 or f16 (f32 arithmetic)"),
      llvm::cl::init("f32")};
  mlir::detail::PassOptions::Option<bool> derive{
      *this, "derive",
      llvm::cl::desc("Run tessera-derive (OLLIE derivation) on the graph"),
      llvm::cl::init(false)};
  mlir::detail::PassOptions::Option<unsigned> deriveMaxDepth{
      *this, "derive-max-depth", llvm::cl::desc("tessera-derive max-depth"),
      llvm::cl::init(6)};
  mlir::detail::PassOptions::Option<double> deriveTimeBudget{
      *this, "derive-time-budget",
      llvm::cl::desc("tessera-derive time-budget (seconds)"),
      llvm::cl::init(30.0)};
  mlir::detail::PassOptions::Option<std::string> deriveCostModel{
      *this, "derive-cost-model",
      llvm::cl::desc("tessera-derive cost model (cpu, cuda; default: target)"),
      llvm::cl::init("")};
  mlir::detail::PassOptions::Option<bool> train{
      *this, "train",
      llvm::cl::desc("Build a training step (tessera-autodiff) first"),
      llvm::cl::init(false)};
  mlir::detail::PassOptions::Option<std::string> loss{
      *this, "loss", llvm::cl::desc("tessera-autodiff loss"),
      llvm::cl::init("mse")};
  mlir::detail::PassOptions::Option<std::string> optimizer{
      *this, "optimizer", llvm::cl::desc("tessera-autodiff optimizer"),
      llvm::cl::init("sgd")};
  mlir::detail::PassOptions::Option<double> lr{
      *this, "lr", llvm::cl::desc("tessera-autodiff learning rate"),
      llvm::cl::init(0.01)};
  mlir::detail::PassOptions::Option<bool> emitGradients{
      *this, "emit-gradients",
      llvm::cl::desc("tessera-autodiff emit-gradients"),
      llvm::cl::init(false)};
  mlir::detail::PassOptions::Option<std::string> memoryBudget{
      *this, "memory-budget",
      llvm::cl::desc("tessera-remat budget (bytes or NN%; empty: no remat)"),
      llvm::cl::init("")};
  mlir::detail::PassOptions::Option<std::string> rematMethod{
      *this, "remat-method", llvm::cl::desc("tessera-remat method"),
      llvm::cl::init("moccasin")};
  mlir::detail::PassOptions::Option<double> rematTimeLimit{
      *this, "remat-time-limit",
      llvm::cl::desc("tessera-remat time-limit (seconds)"),
      llvm::cl::init(30.0)};
  TrainOptions trainOptions() const {
    TrainOptions t;
    t.enabled = train;
    t.loss = loss;
    t.optimizer = optimizer;
    t.lr = lr;
    t.emitGradients = emitGradients;
    return t;
  }
  RematOptions rematOptions() const {
    RematOptions r;
    r.budget = memoryBudget;
    r.method = rematMethod;
    r.timeLimit = rematTimeLimit;
    return r;
  }
  DeriveOptions deriveOptions() const {
    DeriveOptions d;
    d.enabled = derive;
    d.maxDepth = deriveMaxDepth;
    d.timeBudget = deriveTimeBudget;
    d.costModel = deriveCostModel;
    return d;
  }
};

struct CPUPipelineCLOptions
    : public SharedPipelineCLOptions<CPUPipelineCLOptions> {
  Option<std::string> memoryReport{
      *this, "memory-report",
      llvm::cl::desc("tessera-plan-memory report: peak and per-step timeline "
                     "(a file, or - for stdout; empty: none)"),
      llvm::cl::init("")};
  Option<std::string> memoryPlot{
      *this, "memory-plot",
      llvm::cl::desc("tessera-plan-memory plot: the timeline as an SVG file"),
      llvm::cl::init("")};
  CPUPipelineOptions get() const {
    CPUPipelineOptions o;
    o.minWeightElements = minWeightElements;
    o.fuseElementwise = fuseElementwise;
    o.precision = precision;
    o.derive = deriveOptions();
    o.train = trainOptions();
    o.remat = rematOptions();
    o.memoryReport = memoryReport;
    o.memoryPlot = memoryPlot;
    return o;
  }
};

struct GPUPipelineCLOptions
    : public SharedPipelineCLOptions<GPUPipelineCLOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture (sm_80, sm_90)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("PTX features"),
                               llvm::cl::init("+ptx80")};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("Threads per generated block"),
                            llvm::cl::init(256)};
  Option<bool> useLibrary{*this, "use-library",
                          llvm::cl::desc("Allow cuBLAS GEMM calls"),
                          llvm::cl::init(true)};
  GPUPipelineOptions get() const {
    GPUPipelineOptions o;
    o.minWeightElements = minWeightElements;
    o.fuseElementwise = fuseElementwise;
    o.precision = precision;
    o.chip = chip;
    o.features = features;
    o.blockSize = blockSize;
    o.useLibrary = useLibrary;
    o.derive = deriveOptions();
    o.train = trainOptions();
    o.remat = rematOptions();
    return o;
  }
};

void addStages(OpPassManager &pm, const std::vector<PipelineStage> &stages,
               const std::string &only) {
  for (const PipelineStage &s : stages) {
    if (!only.empty() && s.name != only)
      continue;
    std::string err;
    if (!addPipelineText(pm, s.text, err))
      llvm::report_fatal_error(llvm::Twine("bad built-in pipeline ") + s.name +
                               ": " + err);
  }
}

void buildStages(OpPassManager &pm, const CPUPipelineOptions &opts,
                 const std::string &only) {
  addStages(pm, cpuPipelineStages(opts), only);
}

} // namespace

void registerTesseraPassesAndPipelines() {
  registerTesseraConversionPasses();
  registerTesseraGraphToTExprPasses();
  registerTesseraTExprToLinalgPasses();
  registerTesseraDerivePasses();
  registerTesseraGraphPasses();
  registerTesseraRematPasses();
  registerTesseraShardPasses();
  registerTesseraAutodiffPasses();
  registerTesseraMemoryPasses();
  registerTesseraCPUPasses();
  registerTesseraPTXPasses();

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

  PassPipelineRegistration<GPUPipelineCLOptions>(
      "tessera-gpu-pipeline",
      "The whole CUDA pipeline of tessera-compile --target=cuda: tessera "
      "graph -> kernels in a gpu.binary (PTX) and a host function of "
      "gpu.launch_func and cuBLAS calls on buffers",
      [](OpPassManager &pm, const GPUPipelineCLOptions &o) {
        addStages(pm, gpuPipelineStages(o.get()), "");
      });
  for (const PipelineStage &s : gpuPipelineStages(GPUPipelineOptions())) {
    std::string name = s.name;
    if (name.rfind("tessera-gpu-", 0) != 0)
      continue; // shared with the CPU pipeline, registered above
    PassPipelineRegistration<GPUPipelineCLOptions>(
        name, "Stage '" + name + "' of tessera-gpu-pipeline: " + s.text,
        [name](OpPassManager &pm, const GPUPipelineCLOptions &o) {
          addStages(pm, gpuPipelineStages(o.get()), name);
        });
  }
}

} // namespace tessera
