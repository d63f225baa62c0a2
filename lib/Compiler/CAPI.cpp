//===- CAPI.cpp - the compiler's C API (tessera/Compiler.h) ---------------===//
//
// Options are tessera-compile's flags by name, set as text and parsed here
// into CompileOptions; a session checks their combinations and runs
// tessera::compile with a diagnostic handler that forwards to the caller's
// callback and collects the errors.
//
//===----------------------------------------------------------------------===//
#include "tessera/Compiler.h"

#include "lib/Compiler/ArtifactWriter.h"
#include "lib/Compiler/Compiler.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <memory>
#include <new>
#include <set>
#include <sstream>

#include <sys/stat.h>

#ifndef TESSERA_VERSION_STRING
#define TESSERA_VERSION_STRING "unknown"
#endif

struct tsc_error {
  tsc_code code;
  std::string message;
};

struct tsc_options {
  tessera::CompileOptions compile;
  std::set<std::string> given; ///< names set explicitly
};

struct tsc_session {
  tessera::CompileOptions compile;
  tsc_diagnostic_handler handler = nullptr;
  void *userData = nullptr;
};

struct tsc_output {
  std::string bytes;
  double seconds = 0;
};

namespace {

/// Returned when an error cannot be allocated; never freed.
tsc_error kOutOfMemory{TSC_ERR_INTERNAL, "out of memory"};
tsc_error kInternal{TSC_ERR_INTERNAL, "internal error (unknown exception)"};

tsc_error *makeError(tsc_code code, std::string message) {
  try {
    return new tsc_error{code, std::move(message)};
  } catch (...) {
    return &kOutOfMemory;
  }
}

/// Runs an API function's body, turning an escaping exception into an
/// error: none may cross the C boundary.
template <typename F> tsc_error *guarded(const char *fn, F &&body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return &kOutOfMemory;
  } catch (const std::exception &e) {
    try {
      return makeError(TSC_ERR_INTERNAL,
                       std::string(fn) + ": internal error: " + e.what());
    } catch (...) {
      return &kOutOfMemory;
    }
  } catch (...) {
    return &kInternal;
  }
}

bool parseBool(const std::string &v, bool &out) {
  if (v == "1" || v == "true" || v == "on" || v.empty()) {
    out = true;
    return true;
  }
  if (v == "0" || v == "false" || v == "off") {
    out = false;
    return true;
  }
  return false;
}

bool parseInt(const std::string &v, int64_t lo, int64_t hi, int64_t &out) {
  if (v.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (errno || *end || x < lo || x > hi)
    return false;
  out = x;
  return true;
}

bool parseDouble(const std::string &v, bool allowNegative, double &out) {
  if (v.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  double x = std::strtod(v.c_str(), &end);
  if (errno || *end || !std::isfinite(x) || (x < 0 && !allowNegative))
    return false;
  out = x;
  return true;
}

enum class Kind { Text, Bool, Int, Real, List };

/// One option: its name (the tessera-compile flag), what it takes, help,
/// and how it lands in CompileOptions. `set` returns "" or what is wrong.
struct Option {
  const char *name;
  Kind kind;
  const char *help;
  std::string (*set)(tessera::CompileOptions &, const std::string &);
};

using CO = tessera::CompileOptions;

#define TEXT(field) [](CO &o, const std::string &v) { o.field = v; return std::string(); }
#define FLAG(expr)                                                             \
  [](CO &o, const std::string &v) {                                           \
    bool b;                                                                    \
    if (!parseBool(v, b))                                                      \
      return std::string("takes 1/0, true/false or on/off");                   \
    expr;                                                                      \
    return std::string();                                                      \
  }
#define INT(field, lo, hi)                                                     \
  [](CO &o, const std::string &v) {                                           \
    int64_t x;                                                                 \
    if (!parseInt(v, lo, hi, x))                                               \
      return std::string("takes an integer from " #lo " to " #hi);             \
    o.field = x;                                                               \
    return std::string();                                                      \
  }
#define REAL(field, allowNegative)                                             \
  [](CO &o, const std::string &v) {                                           \
    double x;                                                                  \
    if (!parseDouble(v, allowNegative, x))                                     \
      return std::string(allowNegative ? "takes a number"                      \
                                       : "takes a non-negative number");       \
    o.field = x;                                                               \
    return std::string();                                                      \
  }

const Option kOptions[] = {
    {"target", Kind::Text, "cpu (host shared object) or cuda (PTX, cuBLAS)",
     TEXT(target)},
    {"gpu-arch", Kind::Text, "target cuda: sm_90 (default) or sm_80",
     TEXT(gpuArch)},
    {"no-library-calls", Kind::Bool,
     "target cuda: generate every GEMM as a kernel (no cuBLAS)",
     FLAG(o.gpuLibraryCalls = !b)},
    {"precision", Kind::Text,
     "storage precision of weights and elementwise results: f32, bf16, f16",
     TEXT(precision)},
    {"cpu", Kind::Text, "host CPU to tune for: native or an LLVM CPU name",
     TEXT(cpu)},
    {"opt-level", Kind::Int, "LLVM optimisation level 0-3 (default 3)",
     INT(optLevel, 0, 3)},
    {"emit", Kind::Text,
     "artifact (default), tessera, spmd, linalg; cpu: llvm, object, so; "
     "cuda: gpu, ptx",
     TEXT(emit)},
    {"input-shape", Kind::List, "fix an input's shape: NAME=D0xD1x... (adds one)",
     [](CO &o, const std::string &v) {
       std::string err;
       return tessera::parseInputShape(v, o.inputShapes, err) ? std::string()
                                                              : err;
     }},
    {"op-stats", Kind::Text, "json: print the ONNX operator histogram on stdout",
     [](CO &o, const std::string &v) {
       if (v != "json" && !v.empty())
         return std::string("supports only 'json'");
       o.opStats = v;
       return std::string();
     }},
    {"min-weight-elements", Kind::Int,
     "constants with at least this many elements are stored as weights (16)",
     INT(minWeightElements, 0, 1000000000000)},
    {"no-fuse", Kind::Bool, "disable elementwise fusion",
     FLAG(o.fuseElementwise = !b)},
    {"derive", Kind::Bool, "run the OLLIE derivation optimizer",
     FLAG(o.derive.enabled = b)},
    {"derive-max-depth", Kind::Int,
     "derive: explorative rule applications per path (6)",
     INT(derive.maxDepth, 0, 64)},
    {"derive-time-budget", Kind::Real, "derive: search seconds for the model (30)",
     REAL(derive.timeBudget, false)},
    {"derive-cost-model", Kind::Text, "derive: cpu or cuda (default: the target's)",
     TEXT(derive.costModel)},
    {"derive-report", Kind::Text,
     "derive: JSON report file of what was tried per operator ('-': stdout)",
     TEXT(derive.report)},
    {"train", Kind::Bool,
     "compile one training step: inputs, target, parameters -> loss, "
     "updated parameters",
     FLAG(o.train.enabled = b)},
    {"loss", Kind::Text, "train: mse (default) or cross-entropy", TEXT(train.loss)},
    {"optimizer", Kind::Text, "train: sgd (default), adam or none",
     TEXT(train.optimizer)},
    {"lr", Kind::Real, "train: learning rate (0.01)", REAL(train.lr, true)},
    {"emit-gradients", Kind::Bool, "train: also output every parameter's gradient",
     FLAG(o.train.emitGradients = b)},
    {"memory-budget", Kind::Text,
     "rematerialize to fit: bytes (suffix K, M, G) or a percentage of the "
     "no-remat peak (80%)",
     TEXT(remat.budget)},
    {"remat-method", Kind::Text,
     "memory-budget: moccasin (default), greedy, greedy-restarts, "
     "chen-sqrt-n, checkmate-milp",
     TEXT(remat.method)},
    {"remat-time-limit", Kind::Real, "memory-budget: solver seconds (30)",
     REAL(remat.timeLimit, false)},
    {"remat-dump-graph", Kind::Text,
     "write the graph the remat pass sees as node-link JSON",
     TEXT(remat.dumpGraph)},
    {"memory-report", Kind::Text,
     "memory plan report: '-' for stdout, else a file", TEXT(memoryReport)},
    {"memory-plot", Kind::Text, "draw the memory plan as an SVG file",
     TEXT(memoryPlot)},
    {"mesh", Kind::Text, "shard over a device mesh: NAME=SIZE[,NAME=SIZE...]",
     TEXT(mesh)},
    {"shard-spec", Kind::Text,
     "mesh: JSON object of input or weight name -> sharding, inline (starting "
     "with '{') or a file",
     TEXT(shardSpec)},
    {"shard-report", Kind::Text,
     "mesh: every value's sharding and the reshards: '-' for stdout, else a "
     "file",
     TEXT(shardReport)},
    {"pipeline-stages", Kind::Int,
     "cut the model into N pipeline stages (output is then a directory)",
     INT(pipelineStages, 1, 64)},
    {"stage-mesh", Kind::List,
     "pipeline-stages: the next stage's mesh ('none': one device; adds one)",
     [](CO &o, const std::string &v) {
       o.stageMeshes.push_back(v);
       return std::string();
     }},
    {"verbose", Kind::Bool, "progress and timing remarks (default off)",
     FLAG(o.verbose = b)},
    {"dump-ir-dir", Kind::Text, "write the IR after each pipeline stage here",
     TEXT(dumpDir)},
};
constexpr size_t kNumOptions = sizeof(kOptions) / sizeof(kOptions[0]);

#undef TEXT
#undef FLAG
#undef INT
#undef REAL

/// Option combinations tessera::compile cannot see (it does not know which
/// were given); "" when fine.
std::string checkCombinations(const tsc_options &o) {
  auto given = [&](const char *n) { return o.given.count(n) != 0; };
  const CO &c = o.compile;
  if (!c.derive.enabled && (given("derive-report") || given("derive-cost-model") ||
                            given("derive-max-depth") || given("derive-time-budget")))
    return "--derive-report, --derive-cost-model, --derive-max-depth and "
           "--derive-time-budget need --derive";
  if (!c.train.enabled && (given("loss") || given("optimizer") || given("lr") ||
                           c.train.emitGradients))
    return "--loss, --optimizer, --lr and --emit-gradients need --train";
  if (c.remat.budget.empty() &&
      (given("remat-method") || given("remat-time-limit")))
    return "--remat-method and --remat-time-limit need --memory-budget";
  return tessera::checkOptions(c);
}

/// One compile at a time per process: MLIR contexts are separate, but the
/// pass registry, LLVM's target setup and "-" (stdout) outputs are shared.
std::mutex &compileMutex() {
  static std::mutex m;
  return m;
}

tsc_error *run(tsc_session *s, tessera::CompileOptions o,
               std::string *bytes, double *seconds) {
  std::string errors;
  bool io = false, lastWasError = false;
  o.diagnostics = [&](const tessera::Diagnostic &d) {
    try {
      // Errors, and the notes that follow an error.
      if (d.severity == tessera::Diagnostic::Error ||
          (d.severity == tessera::Diagnostic::Note && lastWasError))
        errors += tessera::formatDiagnostic(d, "");
      if (d.severity != tessera::Diagnostic::Note)
        lastWasError = d.severity == tessera::Diagnostic::Error;
    } catch (...) {
    }
    io |= d.io;
    if (s->handler) {
      tsc_diagnostic c;
      c.severity = static_cast<tsc_severity>(d.severity);
      c.message = d.message.c_str();
      c.file = d.file.empty() ? nullptr : d.file.c_str();
      c.line = d.line;
      c.column = d.column;
      s->handler(&c, s->userData);
    }
  };
  o.outputBuffer = bytes;
  int rc;
  {
    std::lock_guard<std::mutex> lock(compileMutex());
    auto t0 = std::chrono::steady_clock::now();
    rc = tessera::compile(o);
    if (seconds)
      *seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count();
  }
  if (rc == 0)
    return nullptr;
  if (!errors.empty() && errors.back() == '\n')
    errors.pop_back();
  return makeError(io ? TSC_ERR_IO : TSC_ERR_COMPILE,
                   errors.empty() ? "compilation failed" : errors);
}

/// TSC_ERR_IO unless `path` is a file that can be opened for reading.
tsc_error *probeInput(const char *path) {
  struct stat st;
  if (::stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return makeError(TSC_ERR_IO,
                     std::string("cannot open model '") + path +
                         "': it is a directory");
  std::ifstream probe(path, std::ios::binary);
  if (probe)
    return nullptr;
  return makeError(TSC_ERR_IO, std::string("cannot open model '") + path +
                                   "': " + std::strerror(errno));
}

tsc_error *toMemory(tsc_session *s, tessera::CompileOptions o,
                    tsc_output **out) {
  if (o.pipelineStages > 1)
    return makeError(TSC_ERR_INVALID_OPTION,
                     "--pipeline-stages compiles to a directory of stage "
                     "artifacts: use tsc_compile_file_to_path");
  o.outputPath = "<memory>";
  auto result = std::make_unique<tsc_output>();
  if (tsc_error *e = run(s, std::move(o), &result->bytes, &result->seconds))
    return e;
  *out = result.release();
  return nullptr;
}

} // namespace

extern "C" {

int tsc_api_version(void) { return TSC_API_VERSION; }
const char *tsc_version_string(void) { return TESSERA_VERSION_STRING; }
const char *tsc_supported_ops(void) {
  static const std::string text = tessera::supportedOpsMarkdown();
  return text.c_str();
}

const char *tsc_error_message(const tsc_error *e) {
  return e ? e->message.c_str() : "";
}
tsc_code tsc_error_code(const tsc_error *e) { return e ? e->code : TSC_OK; }
void tsc_error_free(tsc_error *e) {
  if (e != &kOutOfMemory && e != &kInternal)
    delete e;
}

tsc_error *tsc_options_create(tsc_options **out) {
  if (!out)
    return makeError(TSC_ERR_INVALID_ARGUMENT,
                     "tsc_options_create: out_options is NULL");
  *out = nullptr;
  return guarded("tsc_options_create", [&]() -> tsc_error * {
    auto o = std::make_unique<tsc_options>();
    o->compile.verbose = false;
    *out = o.release();
    return nullptr;
  });
}

void tsc_options_free(tsc_options *o) { delete o; }

tsc_error *tsc_options_set(tsc_options *o, const char *name,
                           const char *value) {
  if (!o || !name || !value)
    return makeError(TSC_ERR_INVALID_ARGUMENT,
                     "tsc_options_set: options, name or value is NULL");
  return guarded("tsc_options_set", [&]() -> tsc_error * {
    for (const Option &opt : kOptions) {
      if (std::strcmp(opt.name, name) != 0)
        continue;
      std::string why = opt.set(o->compile, value);
      if (!why.empty())
        return makeError(TSC_ERR_INVALID_OPTION, std::string("option '") +
                                                     name + "': '" + value +
                                                     "': " + why);
      o->given.insert(name);
      return nullptr;
    }
    std::string known;
    for (const Option &opt : kOptions)
      known += std::string(known.empty() ? "" : ", ") + opt.name;
    return makeError(TSC_ERR_INVALID_OPTION, std::string("unknown option '") +
                                                 name + "' (known: " + known +
                                                 ")");
  });
}

const char *tsc_option_name(size_t i) {
  return i < kNumOptions ? kOptions[i].name : nullptr;
}
const char *tsc_option_help(size_t i) {
  return i < kNumOptions ? kOptions[i].help : nullptr;
}

const char *tsc_severity_name(tsc_severity s) {
  switch (s) {
  case TSC_SEVERITY_ERROR:
    return "error";
  case TSC_SEVERITY_WARNING:
    return "warning";
  case TSC_SEVERITY_NOTE:
    return "note";
  case TSC_SEVERITY_REMARK:
    return "remark";
  default:
    return "invalid";
  }
}

char *tsc_diagnostic_format(const tsc_diagnostic *d) {
  if (!d || d->severity < TSC_SEVERITY_ERROR || d->severity > TSC_SEVERITY_REMARK)
    return nullptr;
  try {
    tessera::Diagnostic t;
    t.severity = static_cast<tessera::Diagnostic::Severity>(d->severity);
    t.message = d->message ? d->message : "";
    t.file = d->file ? d->file : "";
    t.line = d->line;
    t.column = d->column;
    std::string s = tessera::formatDiagnostic(t);
    char *r = static_cast<char *>(std::malloc(s.size() + 1));
    if (r)
      std::memcpy(r, s.c_str(), s.size() + 1);
    return r;
  } catch (...) {
    return nullptr;
  }
}

void tsc_string_free(char *s) { std::free(s); }

tsc_error *tsc_session_create(const tsc_options *o, tsc_session **out) {
  if (!o || !out)
    return makeError(TSC_ERR_INVALID_ARGUMENT,
                     "tsc_session_create: options or out_session is NULL");
  *out = nullptr;
  return guarded("tsc_session_create", [&]() -> tsc_error * {
    std::string why = checkCombinations(*o);
    if (!why.empty())
      return makeError(TSC_ERR_INVALID_OPTION, why);
    auto s = std::make_unique<tsc_session>();
    s->compile = o->compile;
    s->compile.remat.report =
        s->compile.verbose && !s->compile.remat.budget.empty();
    *out = s.release();
    return nullptr;
  });
}

void tsc_session_free(tsc_session *s) { delete s; }

void tsc_session_set_diagnostic_handler(tsc_session *s,
                                        tsc_diagnostic_handler handler,
                                        void *user_data) {
  if (!s)
    return;
  s->handler = handler;
  s->userData = user_data;
}

tsc_error *tsc_compile_file(tsc_session *s, const char *path,
                            tsc_output **out) {
  if (out)
    *out = nullptr;
  if (!s || !path || !out)
    return makeError(TSC_ERR_INVALID_ARGUMENT,
                     "tsc_compile_file: session, path or out_output is NULL");
  return guarded("tsc_compile_file", [&]() -> tsc_error * {
    if (tsc_error *e = probeInput(path))
      return e;
    tessera::CompileOptions o = s->compile;
    o.inputPath = path;
    return toMemory(s, std::move(o), out);
  });
}

tsc_error *tsc_compile_buffer(tsc_session *s, const void *data, size_t size,
                              const char *format, const char *name,
                              tsc_output **out) {
  if (out)
    *out = nullptr;
  if (!s || (!data && size) || !format || !out)
    return makeError(TSC_ERR_INVALID_ARGUMENT,
                     "tsc_compile_buffer: session, data, format or out_output "
                     "is NULL");
  if (std::strcmp(format, "onnx") != 0 && std::strcmp(format, "mlir") != 0)
    return makeError(TSC_ERR_INVALID_ARGUMENT,
                     std::string("tsc_compile_buffer: unknown format '") +
                         format + "' (onnx, mlir)");
  return guarded("tsc_compile_buffer", [&]() -> tsc_error * {
    tessera::CompileOptions o = s->compile;
    o.inputPath = name ? name : "<buffer>";
    o.inputFromBuffer = true;
    o.inputFormat = format;
    o.inputBuffer.assign(static_cast<const char *>(data), size);
    return toMemory(s, std::move(o), out);
  });
}

tsc_error *tsc_compile_file_to_path(tsc_session *s, const char *input,
                                    const char *output) {
  if (!s || !input || !output || !*output)
    return makeError(TSC_ERR_INVALID_ARGUMENT,
                     "tsc_compile_file_to_path: session, input_path or "
                     "output_path is NULL or empty");
  return guarded("tsc_compile_file_to_path", [&]() -> tsc_error * {
    if (std::strcmp(output, "-") == 0 &&
        (s->compile.emit == "artifact" || s->compile.pipelineStages > 1))
      return makeError(TSC_ERR_INVALID_ARGUMENT,
                       "an artifact is binary: give an output file (stdout, "
                       "'-', is for IR emits)");
    if (tsc_error *e = probeInput(input))
      return e;
    tessera::CompileOptions o = s->compile;
    o.inputPath = input;
    o.outputPath = output;
    return run(s, std::move(o), nullptr, nullptr);
  });
}

const void *tsc_output_data(const tsc_output *o) {
  return o ? o->bytes.data() : nullptr;
}
size_t tsc_output_size(const tsc_output *o) { return o ? o->bytes.size() : 0; }
double tsc_output_compile_seconds(const tsc_output *o) {
  return o ? o->seconds : 0;
}

tsc_error *tsc_output_write(const tsc_output *o, const char *path) {
  if (!o || !path || !*path)
    return makeError(TSC_ERR_INVALID_ARGUMENT,
                     "tsc_output_write: output or path is NULL or empty");
  return guarded("tsc_output_write", [&]() -> tsc_error * {
    std::string err;
    if (!tessera::writeFileAtomically(path, o->bytes, err))
      return makeError(TSC_ERR_IO, err);
    return nullptr;
  });
}

void tsc_output_free(tsc_output *o) { delete o; }

} // extern "C"
