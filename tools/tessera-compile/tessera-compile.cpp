//===- tessera-compile.cpp - ahead-of-time model compiler -----------------===//
#include "tessera/Compiler.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <type_traits>

namespace cl = llvm::cl;

static cl::OptionCategory cat("tessera-compile options");
static cl::opt<std::string> input(cl::Positional, cl::desc("<model.onnx | model.mlir>"),
                                  cl::cat(cat));
static cl::opt<std::string> output("o", cl::desc("Output file (artifact, or IR with --emit, where '-' = stdout)"),
                                   cl::value_desc("file"), cl::cat(cat));
static cl::opt<std::string> target("target",
    cl::desc("Target: cpu (host shared object) or cuda (PTX kernels, cuBLAS)"),
    cl::init("cpu"), cl::cat(cat));
static cl::opt<std::string> gpuArch("gpu-arch",
    cl::desc("--target=cuda: GPU architecture, sm_90 (default) or sm_80"),
    cl::init("sm_90"), cl::cat(cat));
static cl::opt<bool> noLibrary("no-library-calls",
    cl::desc("--target=cuda: generate every GEMM as a kernel (no cuBLAS)"),
    cl::cat(cat));
static cl::opt<std::string> precision("precision",
    cl::desc("Storage precision of weights and elementwise results: f32 "
             "(default), bf16 or f16; arithmetic and accumulation stay f32"),
    cl::init("f32"), cl::cat(cat));
static cl::opt<std::string> cpu("cpu", cl::desc("Host CPU to tune for: native or an LLVM CPU name (e.g. x86-64-v3)"),
                                cl::init("native"), cl::cat(cat));
static cl::opt<int> optLevel("O", cl::desc("LLVM optimisation level 0-3"),
                             cl::init(3), cl::Prefix, cl::cat(cat));
static cl::opt<std::string> emit("emit",
    cl::desc("What to write: artifact (default), tessera (imported IR), spmd "
             "(with --mesh: the partitioned program), linalg; "
             "cpu: llvm (LLVM dialect), object, so; cuda: gpu (kernels and host "
             "program), ptx"),
    cl::init("artifact"), cl::cat(cat));
static cl::list<std::string> inputShape("input-shape",
    cl::desc("Fix an input's shape: NAME=D0xD1x... (repeatable)"), cl::cat(cat));
static cl::opt<std::string> opStats("op-stats",
    cl::desc("Print the model's ONNX operator histogram: json"), cl::cat(cat));
static cl::opt<bool> listOps("list-supported-ops",
    cl::desc("Print docs/supported-ops.md (the supported ONNX operators) and exit"),
    cl::cat(cat));
static cl::opt<int64_t> minWeight("min-weight-elements",
    cl::desc("Constants with at least this many elements are stored as weights"),
    cl::init(16), cl::cat(cat));
static cl::opt<bool> noFuse("no-fuse", cl::desc("Disable elementwise fusion"),
                            cl::cat(cat));
static cl::opt<bool> derive("derive",
    cl::desc("Run the OLLIE derivation optimizer (tessera-derive) on the graph"),
    cl::cat(cat));
static cl::opt<unsigned> deriveMaxDepth("derive-max-depth",
    cl::desc("--derive: explorative rule applications per path (default 6)"),
    cl::init(6), cl::cat(cat));
static cl::opt<double> deriveTimeBudget("derive-time-budget",
    cl::desc("--derive: search time budget in seconds for the model (default 30)"),
    cl::init(30.0), cl::cat(cat));
static cl::opt<std::string> deriveCostModel("derive-cost-model",
    cl::desc("--derive: cost model, cpu or cuda (default: the target's)"),
    cl::cat(cat));
static cl::opt<std::string> deriveReport("derive-report",
    cl::desc("--derive: report of what was tried and chosen per operator: "
             "'json' prints it on stdout, any other value is a file to write"),
    cl::cat(cat));
static cl::opt<bool> trainStep("train",
    cl::desc("Compile one training step (tessera-autodiff): inputs, target, "
             "parameters -> loss, updated parameters"),
    cl::cat(cat));
static cl::opt<std::string> lossKind("loss",
    cl::desc("--train: loss of output 0, mse (default) or cross-entropy "
             "(probability targets, classes on the last axis)"),
    cl::init("mse"), cl::cat(cat));
static cl::opt<std::string> optimizerKind("optimizer",
    cl::desc("--train: sgd (default), adam or none (gradients only)"),
    cl::init("sgd"), cl::cat(cat));
static cl::opt<double> learningRate("lr",
    cl::desc("--train: learning rate (default 0.01)"), cl::init(0.01),
    cl::cat(cat));
static cl::opt<bool> emitGradients("emit-gradients",
    cl::desc("--train: also output every parameter's gradient"),
    cl::cat(cat));
static cl::opt<std::string> memoryBudget("memory-budget",
    cl::desc("Rematerialize (tessera-remat) to fit this budget: bytes "
             "(suffix K, M, G) or a percentage of the no-remat peak (80%)"),
    cl::cat(cat));
static cl::opt<std::string> rematMethod("remat-method",
    cl::desc("--memory-budget: moccasin (default), greedy, greedy-restarts, "
             "chen-sqrt-n or checkmate-milp"),
    cl::init("moccasin"), cl::cat(cat));
static cl::opt<double> rematTimeLimit("remat-time-limit",
    cl::desc("--memory-budget: solver time limit in seconds (default 30)"),
    cl::init(30.0), cl::cat(cat));
static cl::opt<std::string> rematDumpGraph("remat-dump-graph",
    cl::desc("Write the graph the remat pass sees as node-link JSON (for "
             "bench/remat)"),
    cl::cat(cat));
static cl::opt<std::string> memoryReport("memory-report",
    cl::desc("Print the memory plan (arena size = peak, per-step timeline) "
             "on stdout, or write it to =FILE"),
    cl::ValueOptional, cl::cat(cat));
static cl::opt<std::string> memoryPlot("memory-plot",
    cl::desc("Draw the memory plan (buffers over steps and offsets, live "
             "bytes) as an SVG file"),
    cl::value_desc("FILE.svg"), cl::cat(cat));
static cl::opt<std::string> meshSpec("mesh",
    cl::desc("Shard over a device mesh: NAME=SIZE[,NAME=SIZE...] (e.g. "
             "data=2,model=4); propagation and partitioning run after the "
             "graph cleanup"),
    cl::cat(cat));
static cl::opt<std::string> shardSpec("shard-spec",
    cl::desc("--mesh or --stage-mesh: JSON object, input or weight name -> "
             "sharding, e.g. "
             "{\"x\": \"[{data}, {}]\", \"0.weight\": \"[{model}, {}]\"}"),
    cl::value_desc("FILE.json"), cl::cat(cat));
static cl::opt<std::string> shardReport("shard-report",
    cl::desc("--mesh: print every value's sharding and the reshards on "
             "stdout, or write them to =FILE"),
    cl::ValueOptional, cl::cat(cat));
static cl::opt<int64_t> pipelineStages("pipeline-stages",
    cl::desc("Cut the model into N pipeline stages of about equal estimated "
             "time (fewest bytes crossing each cut); -o is then a directory "
             "of stage<k>.tsr and pipeline.json, run with mpirun tessera-run "
             "DIR/pipeline.json"),
    cl::init(1), cl::value_desc("N"), cl::cat(cat));
static cl::list<std::string> stageMesh("stage-mesh",
    cl::desc("--pipeline-stages: the next stage's mesh (NAME=SIZE,...; 'none' "
             "for one device); --shard-spec names apply in the stage that has "
             "them"),
    cl::value_desc("MESH"), cl::cat(cat));
static cl::opt<bool> quiet("q", cl::desc("No progress/timing output"), cl::cat(cat));
static cl::opt<std::string> dumpDir("dump-ir-dir",
    cl::desc("Write the IR after each pipeline stage into this directory"),
    cl::cat(cat));

/// Passes every option given on the command line to the C API by its name.
static tsc_error *setOptions(tsc_options *o) {
  auto set = [&](const char *name, const std::string &v) {
    return tsc_options_set(o, name, v.c_str());
  };
  tsc_error *e = set("verbose", quiet ? "0" : "1");
  auto given = [](const cl::Option &opt) { return opt.getNumOccurrences() > 0; };
  auto text = [&](const char *name, const cl::opt<std::string> &v) {
    if (!e && given(v))
      e = set(name, v);
  };
  auto flag = [&](const char *name, const cl::opt<bool> &v) {
    if (!e && given(v))
      e = set(name, v ? "1" : "0");
  };
  auto num = [&](const char *name, const auto &v) {
    if (!e && given(v)) {
      std::string s;
      llvm::raw_string_ostream os(s);
      if constexpr (std::is_floating_point_v<
                        std::decay_t<decltype(v.getValue())>>)
        os << llvm::format("%.17g", double(v.getValue()));
      else
        os << v.getValue();
      e = set(name, s);
    }
  };
  auto list = [&](const char *name, const cl::list<std::string> &v) {
    for (const std::string &x : v)
      if (!e)
        e = set(name, x);
  };
  // ValueOptional report flags: given without a value, they mean stdout.
  auto report = [&](const char *name, const cl::opt<std::string> &v) {
    if (!e && given(v))
      e = set(name, v.empty() ? std::string("-") : std::string(v));
  };
  text("target", target);
  text("gpu-arch", gpuArch);
  flag("no-library-calls", noLibrary);
  text("precision", precision);
  text("cpu", cpu);
  num("opt-level", optLevel);
  text("emit", emit);
  list("input-shape", inputShape);
  text("op-stats", opStats);
  num("min-weight-elements", minWeight);
  flag("no-fuse", noFuse);
  flag("derive", derive);
  num("derive-max-depth", deriveMaxDepth);
  num("derive-time-budget", deriveTimeBudget);
  text("derive-cost-model", deriveCostModel);
  if (!e && given(deriveReport))
    e = set("derive-report", deriveReport == "json" ? std::string("-")
                                                    : std::string(deriveReport));
  flag("train", trainStep);
  text("loss", lossKind);
  text("optimizer", optimizerKind);
  num("lr", learningRate);
  flag("emit-gradients", emitGradients);
  text("memory-budget", memoryBudget);
  text("remat-method", rematMethod);
  num("remat-time-limit", rematTimeLimit);
  text("remat-dump-graph", rematDumpGraph);
  report("memory-report", memoryReport);
  text("memory-plot", memoryPlot);
  text("mesh", meshSpec);
  text("shard-spec", shardSpec);
  report("shard-report", shardReport);
  num("pipeline-stages", pipelineStages);
  list("stage-mesh", stageMesh);
  text("dump-ir-dir", dumpDir);
  return e;
}

/// Prints a diagnostic as it comes; counts the errors in *user_data.
static void printDiagnostic(const tsc_diagnostic *d, void *userData) {
  if (d->severity == TSC_SEVERITY_ERROR)
    ++*static_cast<int *>(userData);
  if (char *line = tsc_diagnostic_format(d)) {
    llvm::errs() << line;
    tsc_string_free(line);
  }
}

int main(int argc, char **argv) {
  llvm::InitLLVM y(argc, argv);
  cl::HideUnrelatedOptions(cat);
  cl::ParseCommandLineOptions(
      argc, argv,
      "Tessera ahead-of-time compiler\n\n"
      "  tessera-compile model.onnx -o model.tsr\n"
      "compiles an ONNX model into one artifact (code, weights, manifest)\n"
      "that tessera-run executes. Every stage is a registered pipeline that\n"
      "tessera-opt can run on its own (see docs/architecture.md). The same\n"
      "compiler is a C library (tessera/Compiler.h, docs/embedding.md).\n");
  if (listOps) {
    llvm::outs() << tsc_supported_ops();
    return 0;
  }
  if (input.empty()) {
    llvm::errs() << "tessera-compile: error: no input model (see --help)\n";
    return 1;
  }
  std::string out = output;
  if (out.empty())
    out = emit == "artifact" ? "model.tsr" : "-";

  tsc_options *options = nullptr;
  tsc_session *session = nullptr;
  tsc_error *e = tsc_options_create(&options);
  if (!e)
    e = setOptions(options);
  if (!e)
    e = tsc_session_create(options, &session);
  tsc_options_free(options);
  int printed = 0;
  if (!e) {
    tsc_session_set_diagnostic_handler(session, printDiagnostic, &printed);
    e = tsc_compile_file_to_path(session, input.c_str(), out.c_str());
  }
  tsc_session_free(session);
  if (!e)
    return 0;
  // Errors from the compile itself reached the handler already.
  if (printed == 0)
    llvm::errs() << "tessera-compile: error: " << tsc_error_message(e) << "\n";
  tsc_error_free(e);
  return 1;
}
