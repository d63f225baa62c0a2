//===- tools/tessera-run/tessera-run.cpp - Run a Tessera artifact ---------===//
//
// tessera-run MODEL.tsr [--input [NAME=]FILE.npy]... [--output-dir DIR]
//             [--bench N] [--warmup K] [--print] [--info] [--memory-stats] [--help]
//
// A thin main over the runtime C API: loads the artifact, reads inputs from
// .npy files, runs once (timed), prints a summary of every output, optionally
// writes them as DIR/<name>.npy and benchmarks. Every problem with the inputs
// is listed at once; exit status 0 on success, 1 on errors, 2 on bad usage.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"
#include "Support.h"
#include "tessera/Runtime.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace npy = tessera::runtime::npy;
using tessera::runtime::formatShape;

namespace {

const char *kUsage =
    "usage: tessera-run MODEL.tsr [options]\n"
    "\n"
    "Runs a Tessera artifact on inputs read from .npy files. A cpu artifact\n"
    "runs its host code; a cuda artifact runs on the GPU through the CUDA\n"
    "driver (libcuda.so.1, loaded at the first run; TESSERA_CUDA_DEVICE picks\n"
    "the device, TESSERA_CUDA_GRAPHS=0 disables CUDA graph replay,\n"
    "TESSERA_CUDA_PROFILE=FILE writes each step's time, bytes and flops as\n"
    "JSON after the second run).\n"
    "\n"
    "A partitioned artifact (tessera-compile --mesh) runs as one process per\n"
    "mesh device: mpirun -np N tessera-run MODEL.tsr ... Every process reads\n"
    "the whole inputs; rank 0 prints and writes the whole outputs.\n"
    "A pipeline (tessera-compile --pipeline-stages -o DIR) runs as\n"
    "mpirun -np P tessera-run DIR/pipeline.json ..., P the stages' devices.\n"
    "\n"
    "options:\n"
    "  -i, --input NAME=FILE.npy\n"
    "                         bind model input NAME to FILE.npy\n"
    "  -i, --input FILE.npy   bind the next unbound input, in model order\n"
    "  -o, --output-dir DIR   write each output to DIR/<output name>.npy\n"
    "                         (created if missing; written atomically)\n"
    "  --bench N              time N runs after the warm-up runs\n"
    "  --warmup K             untimed runs before --bench (default 1)\n"
    "  --print                print every output value, not just a summary\n"
    "  --info                 print the signature and manifest, then exit\n"
    "  --memory-stats         measure the scratch arena: print its planned\n"
    "                         size and the high-water mark two runs reached\n"
    "  --micro-batches M      pipelines: run M micro-batches (inputs' dim 0\n"
    "                         is M times the compiled one)\n"
    "  --transfer broadcast|send-recv\n"
    "                         pipelines: how boundary tensors move between\n"
    "                         stages (default broadcast)\n"
    "  -h, --help             show this message\n"
    "\n"
    "Exit status: 0 on success, 1 on errors, 2 on bad usage.\n";

struct Options {
  std::string model;
  std::vector<std::string> inputs;
  std::string outputDir;
  long bench = 0;
  long warmup = 1;
  bool print = false;
  bool info = false;
  bool memoryStats = false;
  long microBatches = 1;        // pipelines
  bool broadcast = true;        // pipelines: broadcast or send-recv
};

int usageError(const std::string &message) {
  std::fprintf(stderr, "tessera-run: error: %s\n\n%s", message.c_str(), kUsage);
  return 2;
}

bool parseCount(const std::string &text, long &out) {
  char *end = nullptr;
  errno = 0;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end || errno || v < 0)
    return false;
  out = v;
  return true;
}

/// Returns -1 to continue, else an exit status.
int parseArgs(int argc, char **argv, Options &opts) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    const bool isOption = arg.size() > 1 && arg[0] == '-';
    const size_t eq = arg.find('=');
    if (isOption && arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto takeValue = [&](std::string &out) {
      if (!value.empty() || arg.size() != std::strlen(argv[i])) {
        out = value;
        return true;
      }
      if (i + 1 >= argc)
        return false;
      out = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--print") {
      opts.print = true;
    } else if (arg == "--info") {
      opts.info = true;
    } else if (arg == "--memory-stats") {
      opts.memoryStats = true;
    } else if (arg == "--input" || arg == "-i") {
      std::string v;
      if (!takeValue(v) || v.empty())
        return usageError("--input needs a value: NAME=FILE.npy or FILE.npy");
      opts.inputs.push_back(v);
    } else if (arg == "--output-dir" || arg == "-o") {
      if (!takeValue(opts.outputDir) || opts.outputDir.empty())
        return usageError("--output-dir needs a directory");
    } else if (arg == "--bench" || arg == "--warmup") {
      std::string v;
      long &target = arg == "--bench" ? opts.bench : opts.warmup;
      if (!takeValue(v) || !parseCount(v, target))
        return usageError(arg + " needs a non-negative integer, got '" + v +
                          "'");
    } else if (arg == "--micro-batches") {
      std::string v;
      if (!takeValue(v) || !parseCount(v, opts.microBatches) ||
          opts.microBatches < 1)
        return usageError("--micro-batches needs a positive integer, got '" +
                          v + "'");
    } else if (arg == "--transfer") {
      std::string v;
      if (!takeValue(v) || (v != "broadcast" && v != "send-recv"))
        return usageError("--transfer is broadcast or send-recv, got '" + v +
                          "'");
      opts.broadcast = v == "broadcast";
    } else if (isOption) {
      return usageError("unknown option '" + arg + "'");
    } else if (opts.model.empty()) {
      opts.model = arg;
    } else {
      return usageError("unexpected argument '" + arg +
                        "' (inputs are given with --input)");
    }
  }
  if (opts.model.empty())
    return usageError("no model given");
  return -1;
}

//===--------------------------- printing ---------------------------------===//

double halfToDouble(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0)
    return sign * std::ldexp(mantissa, -24);
  if (exponent == 31)
    return mantissa ? NAN : sign * INFINITY;
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

/// Element `i` of a dense buffer as a double.
double elementAt(tsr_dtype dtype, const uint8_t *data, size_t i) {
  auto load = [&](auto tag) {
    decltype(tag) v;
    std::memcpy(&v, data + i * sizeof v, sizeof v);
    return v;
  };
  switch (dtype) {
  case TSR_DTYPE_F32: return load(float());
  case TSR_DTYPE_F64: return load(double());
  case TSR_DTYPE_F16: return halfToDouble(load(uint16_t()));
  case TSR_DTYPE_BF16: {
    const uint32_t bits = uint32_t(load(uint16_t())) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case TSR_DTYPE_I8: return load(int8_t());
  case TSR_DTYPE_U8: return load(uint8_t());
  case TSR_DTYPE_BOOL: return load(uint8_t()) != 0;
  case TSR_DTYPE_I16: return load(int16_t());
  case TSR_DTYPE_I32: return load(int32_t());
  case TSR_DTYPE_I64: return double(load(int64_t()));
  default: return NAN;
  }
}

std::string formatValue(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void printTensor(const std::string &name, tsr_dtype dtype,
                 const std::vector<int64_t> &shape, const uint8_t *data,
                 size_t count, bool all) {
  std::printf("output '%s': shape %s %s\n", name.c_str(),
              formatShape(shape).c_str(), tsr_dtype_name(dtype));
  if (count == 0) {
    std::printf("  (no elements)\n");
    return;
  }
  const size_t shown = all ? count : std::min<size_t>(count, 8);
  std::string values;
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  size_t nans = 0;
  for (size_t i = 0; i < count; ++i) {
    const double v = elementAt(dtype, data, i);
    if (i < shown)
      values += (i ? ", " : "") + formatValue(v);
    if (std::isnan(v)) {
      ++nans;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  std::printf("  values: [%s%s]\n", values.c_str(),
              shown < count ? ", ..." : "");
  if (nans == count) {
    std::printf("  all %zu values are NaN\n", count);
    return;
  }
  std::printf("  min %s  max %s  mean %s", formatValue(lo).c_str(),
              formatValue(hi).c_str(),
              formatValue(sum / double(count - nans)).c_str());
  if (nans)
    std::printf("  (%zu NaN)", nans);
  std::printf("\n");
}

std::string describe(const tsr_model *m, tsr_role role, size_t i) {
  const int64_t *dims = tsr_model_tensor_dims(m, role, i);
  const size_t rank = size_t(tsr_model_tensor_rank(m, role, i));
  return formatShape(dims, rank) + " (" +
         tsr_dtype_name(tsr_model_tensor_dtype(m, role, i)) + ")";
}

void printInfo(const tsr_model *m) {
  std::printf("model: %s\nproducer: %s\ntarget: %s\nentry: %s\n"
              "format version: %u\n",
              tsr_model_name(m), tsr_model_producer(m), tsr_model_target(m),
              tsr_model_entry(m), tsr_model_format_version(m));
  for (tsr_role role : {TSR_ROLE_INPUT, TSR_ROLE_OUTPUT, TSR_ROLE_WEIGHT}) {
    const size_t n = tsr_model_num_tensors(m, role);
    size_t bytes = 0;
    for (size_t i = 0; i < n; ++i)
      bytes += tsr_model_tensor_byte_size(m, role, i);
    std::printf("%ss: %zu (%zu bytes)\n", tsr_role_name(role), n, bytes);
    for (size_t i = 0; i < n; ++i)
      std::printf("  %s '%s': %s, %zu bytes\n", tsr_role_name(role),
                  tsr_model_tensor_name(m, role, i), describe(m, role, i).c_str(),
                  tsr_model_tensor_byte_size(m, role, i));
  }
  std::printf("manifest:\n%s\n", tsr_model_manifest_json(m));
}

//===--------------------------- inputs and outputs -----------------------===//

struct BoundInput {
  npy::Array array;
  std::string file;
  bool bound = false;
};

bool fileExists(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

/// Reads and binds every --input, checking it against the signature. Lists
/// every problem in `problems`.
std::vector<BoundInput> bindInputs(const tsr_model *m,
                                   const std::vector<std::string> &specs,
                                   std::vector<std::string> &problems) {
  const size_t n = tsr_model_num_inputs(m);
  std::vector<BoundInput> bound(n);
  std::vector<std::string> positional;
  for (const std::string &spec : specs) {
    // NAME=FILE when NAME is an input; a path that merely contains '='
    // (and exists) is positional.
    const size_t eq = spec.find('=');
    const std::string name = spec.substr(0, eq);
    const int64_t index =
        eq == std::string::npos
            ? -1
            : tsr_model_tensor_index(m, TSR_ROLE_INPUT, name.c_str());
    if (index < 0 && (eq == std::string::npos || fileExists(spec))) {
      positional.push_back(spec);
      continue;
    }
    const std::string file = spec.substr(eq + 1);
    if (index < 0) {
      std::string known;
      for (size_t i = 0; i < n; ++i)
        known += std::string(i ? ", " : "") + "'" +
                 tsr_model_tensor_name(m, TSR_ROLE_INPUT, i) + "'";
      problems.push_back("--input " + spec + ": the model has no input '" +
                         name + "' (its inputs: " + known + ")");
      continue;
    }
    BoundInput &slot = bound[size_t(index)];
    if (slot.bound) {
      problems.push_back("input '" + name + "' is given twice ('" + slot.file +
                         "' and '" + file + "')");
      continue;
    }
    slot.bound = true;
    slot.file = file;
  }
  size_t next = 0;
  for (const std::string &file : positional) {
    while (next < n && bound[next].bound)
      ++next;
    if (next == n) {
      problems.push_back("--input " + file + ": every model input is already "
                         "bound (the model has " + std::to_string(n) +
                         " inputs)");
      continue;
    }
    bound[next].bound = true;
    bound[next].file = file;
  }

  std::string missing;
  for (size_t i = 0; i < n; ++i) {
    BoundInput &in = bound[i];
    const std::string name = tsr_model_tensor_name(m, TSR_ROLE_INPUT, i);
    if (!in.bound) {
      missing += "\n    " + name + ": " + describe(m, TSR_ROLE_INPUT, i);
      continue;
    }
    std::string error;
    if (!npy::readFile(in.file, in.array, error)) {
      problems.push_back("input '" + name + "': " + error);
      continue;
    }
    const tsr_dtype want = tsr_model_tensor_dtype(m, TSR_ROLE_INPUT, i);
    const int64_t rank = tsr_model_tensor_rank(m, TSR_ROLE_INPUT, i);
    const int64_t *dims = tsr_model_tensor_dims(m, TSR_ROLE_INPUT, i);
    const bool sameShape =
        in.array.shape == std::vector<int64_t>(dims, dims + rank);
    if (in.array.dtype != want || !sameShape)
      problems.push_back("input '" + name + "' from '" + in.file +
                         "': expected shape " + describe(m, TSR_ROLE_INPUT, i) +
                         ", got " + formatShape(in.array.shape) + " (" +
                         tsr_dtype_name(in.array.dtype) + ")");
  }
  if (!missing.empty())
    problems.push_back("missing inputs (give them with --input NAME=FILE.npy):" +
                       missing);
  return bound;
}

/// A file name for an output: every character outside [A-Za-z0-9_.-]
/// becomes '_', and "", "." and ".." become "_", "_" and "__" (the rule
/// test/e2e/caselib.py's sanitize() mirrors). Names that collide after
/// that get a "_1", "_2"... suffix so no output overwrites another.
std::string outputFileName(const std::string &name,
                           std::set<std::string> &taken) {
  std::string base;
  for (char c : name)
    base += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
             c == '_' || c == '-')
                ? c
                : '_';
  if (base.empty())
    base = "_";
  else if (base == "." || base == "..")
    std::replace(base.begin(), base.end(), '.', '_');
  std::string candidate = base;
  for (int k = 1; !taken.insert(candidate).second; ++k)
    candidate = base + "_" + std::to_string(k);
  return candidate + ".npy";
}

bool makeDirs(const std::string &dir, std::string &error) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/')
      continue;
    const std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST) {
      error = "cannot create directory '" + prefix + "': " + strerror(errno);
      return false;
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = "'" + dir + "' is not a directory";
    return false;
  }
  return true;
}

double millisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

int fail(tsr_error *err) {
  std::fprintf(stderr, "tessera-run: error: %s\n", tsr_error_message(err));
  tsr_error_free(err);
  return 1;
}

/// Creates --output-dir (if given); false after reporting a failure.
bool prepareOutputDir(const Options &opts) {
  if (opts.outputDir.empty())
    return true;
  std::string error;
  if (makeDirs(opts.outputDir, error))
    return true;
  std::fprintf(stderr, "tessera-run: error: --output-dir: %s\n", error.c_str());
  return false;
}

/// Prints an output's summary and writes it to --output-dir (if given);
/// false after reporting a write failure.
bool emitOutput(const Options &opts, const std::string &name, tsr_dtype dtype,
                const std::vector<int64_t> &shape,
                const std::vector<uint8_t> &data, size_t count,
                std::set<std::string> &taken) {
  printTensor(name, dtype, shape, data.data(), count, opts.print);
  if (opts.outputDir.empty())
    return true;
  const std::string path = opts.outputDir + "/" + outputFileName(name, taken);
  std::string error;
  if (npy::writeFileAtomic(path, dtype, shape.data(), shape.size(), data.data(),
                           data.size(), error)) {
    std::printf("  written to %s\n", path.c_str());
    return true;
  }
  std::fprintf(stderr, "tessera-run: error: output '%s': %s\n", name.c_str(),
               error.c_str());
  return false;
}

/// --bench: `opts.warmup` untimed runs, then `opts.bench` timed ones and
/// their summary; the first run's error, if any.
template <typename F> tsr_error *bench(const Options &opts, F &&runOnce) {
  if (opts.bench <= 0)
    return nullptr;
  for (long i = 0; i < opts.warmup; ++i)
    if (tsr_error *err = runOnce())
      return err;
  std::vector<double> times;
  for (long i = 0; i < opts.bench; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (tsr_error *err = runOnce())
      return err;
    times.push_back(millisSince(start));
  }
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median =
      n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  double sum = 0;
  for (double t : times)
    sum += t;
  std::printf("bench: %zu runs after %ld warm-up: min %.4g ms, median %.4g "
              "ms, mean %.4g ms, max %.4g ms\n",
              n, opts.warmup, sorted.front(), median, sum / double(n),
              sorted.back());
  return nullptr;
}

/// DIR/pipeline.json under mpirun: whole inputs on every rank, M
/// micro-batches along dim 0; rank 0 prints and writes the outputs.
int runPipeline(Options &opts) {
  tsr_pipeline *p = nullptr;
  if (tsr_error *err = tsr_pipeline_load(opts.model.c_str(), &p))
    return fail(err);
  struct Freer {
    tsr_pipeline *p;
    ~Freer() { tsr_pipeline_free(p); }
  } freer{p};
  const int64_t rank = tsr_pipeline_rank(p);
  if (rank != 0) {
    if (!std::freopen("/dev/null", "w", stdout))
      return 1;
    opts.outputDir.clear();
  }
  const long M = opts.microBatches;
  auto shapeOf = [&](tsr_role role, size_t i) {
    const int64_t r = tsr_pipeline_tensor_rank(p, role, i);
    const int64_t *d = tsr_pipeline_tensor_dims(p, role, i);
    std::vector<int64_t> s(d, d + r);
    if (!s.empty())
      s[0] *= M;
    return s;
  };
  const size_t nIn = tsr_pipeline_num_tensors(p, TSR_ROLE_INPUT);
  std::vector<npy::Array> arrays(nIn);
  std::vector<bool> bound(nIn, false);
  std::vector<std::string> problems;
  size_t next = 0;
  for (const std::string &spec : opts.inputs) {
    const size_t eq = spec.find('=');
    size_t index = nIn;
    std::string file = spec;
    if (eq != std::string::npos)
      for (size_t i = 0; i < nIn; ++i)
        if (spec.substr(0, eq) == tsr_pipeline_tensor_name(p, TSR_ROLE_INPUT, i)) {
          index = i;
          file = spec.substr(eq + 1);
        }
    if (index == nIn) {
      while (next < nIn && bound[next])
        ++next;
      index = next;
    }
    if (index >= nIn) {
      problems.push_back("--input " + spec + ": no unbound input left");
      continue;
    }
    bound[index] = true;
    std::string error;
    const std::string name = tsr_pipeline_tensor_name(p, TSR_ROLE_INPUT, index);
    if (!npy::readFile(file, arrays[index], error)) {
      problems.push_back("input '" + name + "': " + error);
      continue;
    }
    const std::vector<int64_t> want = shapeOf(TSR_ROLE_INPUT, index);
    const tsr_dtype dt = tsr_pipeline_tensor_dtype(p, TSR_ROLE_INPUT, index);
    if (arrays[index].shape != want || arrays[index].dtype != dt)
      problems.push_back("input '" + name + "' from '" + file +
                         "': expected shape " + formatShape(want) + " (" +
                         tsr_dtype_name(dt) + ")" +
                         (M > 1 ? " for " + std::to_string(M) + " micro-batches"
                                : "") +
                         ", got " + formatShape(arrays[index].shape) + " (" +
                         tsr_dtype_name(arrays[index].dtype) + ")");
  }
  for (size_t i = 0; i < nIn; ++i)
    if (!bound[i])
      problems.push_back(std::string("missing input '") +
                         tsr_pipeline_tensor_name(p, TSR_ROLE_INPUT, i) + "' " +
                         formatShape(shapeOf(TSR_ROLE_INPUT, i)));
  if (!problems.empty()) {
    for (const std::string &m : problems)
      std::fprintf(stderr, "tessera-run: error: %s\n", m.c_str());
    return 1;
  }
  std::vector<tsr_tensor> inputs;
  for (size_t i = 0; i < nIn; ++i)
    inputs.push_back({tsr_pipeline_tensor_name(p, TSR_ROLE_INPUT, i),
                      arrays[i].dtype, int64_t(arrays[i].shape.size()),
                      arrays[i].shape.data(), arrays[i].data.data(),
                      arrays[i].data.size()});
  const size_t nOut = tsr_pipeline_num_tensors(p, TSR_ROLE_OUTPUT);
  std::vector<std::vector<int64_t>> outShapes;
  std::vector<std::vector<uint8_t>> outData(nOut);
  std::vector<tsr_tensor> outputs;
  for (size_t i = 0; i < nOut; ++i)
    outShapes.push_back(shapeOf(TSR_ROLE_OUTPUT, i));
  for (size_t i = 0; i < nOut; ++i) {
    const tsr_dtype dt = tsr_pipeline_tensor_dtype(p, TSR_ROLE_OUTPUT, i);
    size_t bytes = tsr_dtype_size(dt);
    for (int64_t d : outShapes[i])
      bytes *= size_t(d);
    outData[i].resize(bytes);
    outputs.push_back({tsr_pipeline_tensor_name(p, TSR_ROLE_OUTPUT, i), dt,
                       int64_t(outShapes[i].size()), outShapes[i].data(),
                       outData[i].data(), bytes});
  }
  auto runOnce = [&] {
    return tsr_pipeline_run(p, inputs.data(), inputs.size(), outputs.data(),
                            outputs.size(), M, opts.broadcast ? 1 : 0);
  };
  auto start = std::chrono::steady_clock::now();
  if (tsr_error *err = runOnce())
    return fail(err);
  const double firstMs = millisSince(start);
  int status = 0;
  std::set<std::string> taken;
  if (!prepareOutputDir(opts))
    return 1;
  for (size_t i = 0; i < nOut; ++i) {
    size_t count = 1;
    for (int64_t d : outShapes[i])
      count *= size_t(d);
    if (!emitOutput(opts, outputs[i].name, outputs[i].dtype, outShapes[i],
                    outData[i], count, taken))
      status = 1;
  }
  std::printf("pipeline: %lld stages, %ld micro-batches, boundary tensors by "
              "%s\nfirst run: %.4g ms (rank 0: %.4g ms moving boundary "
              "tensors)\n",
              (long long)tsr_pipeline_num_stages(p), M,
              opts.broadcast ? "broadcast" : "send/recv", firstMs,
              1e3 * tsr_pipeline_transfer_seconds(p));
  if (tsr_error *err = bench(opts, runOnce))
    return fail(err);
  return status;
}

} // namespace

int main(int argc, char **argv) {
  Options opts;
  if (int status = parseArgs(argc, argv, opts); status >= 0)
    return status;

  if (opts.model.size() > 5 &&
      opts.model.compare(opts.model.size() - 5, 5, ".json") == 0)
    return runPipeline(opts);
  if (opts.microBatches != 1 || !opts.broadcast)
    return usageError("--micro-batches and --transfer apply to pipelines "
                      "(DIR/pipeline.json)");

  auto start = std::chrono::steady_clock::now();
  tsr_model *model = nullptr;
  if (tsr_error *err = tsr_model_load_file(opts.model.c_str(), &model))
    return fail(err);
  const double loadMs = millisSince(start);
  struct Freer {
    tsr_model *m;
    ~Freer() { tsr_model_free(m); }
  } freer{model};

  if (opts.info) {
    printInfo(model);
    return 0;
  }

  // A partitioned model: every rank runs; only rank 0 prints and writes.
  int64_t deviceRank = 0;
  const int64_t devices = tsr_model_num_devices(model);
  if (devices > 1) {
    if (tsr_error *err = tsr_model_device_rank(model, &deviceRank))
      return fail(err);
    if (deviceRank != 0 && !std::freopen("/dev/null", "w", stdout))
      return 1;
    if (!opts.outputDir.empty() && deviceRank != 0)
      opts.outputDir.clear();
  }

  std::vector<std::string> problems;
  std::vector<BoundInput> bound = bindInputs(model, opts.inputs, problems);
  if (!problems.empty()) {
    for (const std::string &p : problems)
      std::fprintf(stderr, "tessera-run: error: %s\n", p.c_str());
    return 1;
  }

  std::vector<tsr_tensor> inputs;
  for (size_t i = 0; i < bound.size(); ++i) {
    npy::Array &a = bound[i].array;
    inputs.push_back({tsr_model_tensor_name(model, TSR_ROLE_INPUT, i), a.dtype,
                      int64_t(a.shape.size()), a.shape.data(), a.data.data(),
                      a.data.size()});
  }
  const size_t numOutputs = tsr_model_num_outputs(model);
  std::vector<std::vector<uint8_t>> outData(numOutputs);
  std::vector<tsr_tensor> outputs;
  for (size_t i = 0; i < numOutputs; ++i) {
    outData[i].resize(tsr_model_tensor_byte_size(model, TSR_ROLE_OUTPUT, i));
    outputs.push_back({tsr_model_tensor_name(model, TSR_ROLE_OUTPUT, i),
                       tsr_model_tensor_dtype(model, TSR_ROLE_OUTPUT, i),
                       tsr_model_tensor_rank(model, TSR_ROLE_OUTPUT, i),
                       tsr_model_tensor_dims(model, TSR_ROLE_OUTPUT, i),
                       outData[i].data(), outData[i].size()});
  }
  auto runOnce = [&] {
    return tsr_model_run(model, inputs.data(), inputs.size(), outputs.data(),
                         outputs.size());
  };

  if (opts.memoryStats)
    tsr_model_measure_arena(model, 1);
  start = std::chrono::steady_clock::now();
  if (tsr_error *err = runOnce())
    return fail(err);
  const double firstMs = millisSince(start);
  if (opts.memoryStats) {
    // A second measured run: the two canaries make the mark exact.
    if (tsr_error *err = runOnce())
      return fail(err);
    tsr_model_measure_arena(model, 0);
    std::printf("memory: arena %llu bytes planned, high-water mark %llu "
                "bytes\n",
                (unsigned long long)tsr_model_arena_bytes(model),
                (unsigned long long)tsr_model_arena_high_water(model));
  }

  int status = 0;
  std::set<std::string> taken;
  if (!prepareOutputDir(opts))
    return 1;
  for (size_t i = 0; i < numOutputs; ++i) {
    const int64_t *dims = tsr_model_tensor_dims(model, TSR_ROLE_OUTPUT, i);
    const size_t rank = size_t(tsr_model_tensor_rank(model, TSR_ROLE_OUTPUT, i));
    if (!emitOutput(
            opts, tsr_model_tensor_name(model, TSR_ROLE_OUTPUT, i),
            tsr_model_tensor_dtype(model, TSR_ROLE_OUTPUT, i),
            std::vector<int64_t>(dims, dims + rank), outData[i],
            size_t(tsr_model_tensor_element_count(model, TSR_ROLE_OUTPUT, i)),
            taken))
      status = 1;
  }

  if (devices > 1)
    std::printf("partitioned: %lld devices (one process each)\n",
                (long long)devices);
  std::printf("load: %.4g ms\nfirst run: %.4g ms\n", loadMs, firstMs);
  if (tsr_error *err = bench(opts, runOnce))
    return fail(err);
  return status;
}
