//===- Compiler.cpp - the Tessera compile session -------------------------===//
#include "lib/Compiler/Compiler.h"

#include "dialects/Graph/TesseraDialect.h"
#include "dialects/TExpr/TExprDialect.h"
#include "lib/Compiler/ArtifactWriter.h"
#include "lib/Import/Onnx/OnnxImporter.h"
#include "lib/Pipelines/Pipelines.h"
#include "lib/Target/PTX/PTXTarget.h"
#include "lib/Target/CPU/CPUTarget.h"
#include "passes/graph/Passes.h"
#include "passes/memory/Passes.h"
#include "passes/remat/Passes.h"
#include "passes/remat/Schedule.h"
#include "passes/shard/Sharding.h"
#include "tessera/Artifact.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <set>
#include <cstring>
#include <mutex>

using namespace mlir;

namespace tessera {
namespace {

/// Collects one message and hands it to the compilation's diagnostic
/// handler when the statement ends.
class Diag {
public:
  Diag(const CompileOptions &opts, Diagnostic::Severity severity)
      : opts(opts), os(d.message) {
    d.severity = severity;
  }
  ~Diag() { emit(opts, d); }
  template <typename T> Diag &operator<<(const T &v) {
    os << v;
    return *this;
  }
  static void emit(const CompileOptions &opts, const Diagnostic &d) {
    if (opts.diagnostics)
      opts.diagnostics(d);
    else
      llvm::errs() << formatDiagnostic(d);
  }

private:
  const CompileOptions &opts;
  Diagnostic d;
  llvm::raw_string_ostream os;
};

class Timer {
public:
  explicit Timer(const CompileOptions &opts) : opts(opts) {}
  template <typename F> auto step(const char *name, F &&f) {
    auto t0 = std::chrono::steady_clock::now();
    if (opts.verbose)
      Diag(opts, Diagnostic::Remark) << name << " ...";
    auto r = f();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
                   .count();
    total += s;
    if (opts.verbose)
      Diag(opts, Diagnostic::Remark)
          << name << ": " << llvm::format("%.2f", s) << " s";
    return r;
  }
  double total = 0;
  const CompileOptions &opts;
};

/// The innermost file location in `loc` (through names, call sites and
/// fusions), or null; `name` gets the first NameLoc's name on the way (an
/// ONNX node).
FileLineColLoc fileLocation(Location loc, std::string &name) {
  if (auto f = dyn_cast<FileLineColLoc>(loc))
    return f;
  if (auto n = dyn_cast<NameLoc>(loc)) {
    if (name.empty())
      name = n.getName().str();
    return fileLocation(n.getChildLoc(), name);
  }
  if (auto c = dyn_cast<CallSiteLoc>(loc))
    return fileLocation(c.getCallee(), name);
  if (auto f = dyn_cast<FusedLoc>(loc))
    for (Location l : f.getLocations())
      if (FileLineColLoc r = fileLocation(l, name))
        return r;
  return nullptr;
}

/// An MLIR diagnostic (and its notes) as Tessera diagnostics.
void forwardDiagnostic(const CompileOptions &opts, mlir::Diagnostic &md) {
  auto convert = [](mlir::Diagnostic &m) {
    tessera::Diagnostic d;
    switch (m.getSeverity()) {
    case DiagnosticSeverity::Error:
      d.severity = tessera::Diagnostic::Error;
      break;
    case DiagnosticSeverity::Warning:
      d.severity = tessera::Diagnostic::Warning;
      break;
    case DiagnosticSeverity::Note:
      d.severity = tessera::Diagnostic::Note;
      break;
    case DiagnosticSeverity::Remark:
      d.severity = tessera::Diagnostic::Remark;
      break;
    }
    d.message = m.str();
    std::string name;
    if (FileLineColLoc f = fileLocation(m.getLocation(), name)) {
      d.file = f.getFilename().str();
      d.line = f.getLine();
      d.column = f.getColumn();
    }
    // ONNX nodes are named in the message ("'node': ..."), unless it
    // already names them.
    if (!name.empty() && d.message.find("'" + name + "'") == std::string::npos)
      d.message = "'" + name + "': " + d.message;
    return d;
  };
  Diag::emit(opts, convert(md));
  for (mlir::Diagnostic &note : md.getNotes())
    Diag::emit(opts, convert(note));
}

void registerEverything() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerAllPasses();
    registerTesseraPassesAndPipelines();
  });
}

std::string dtypeName(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isF64())
    return "f64";
  if (t.isF16())
    return "f16";
  if (t.isBF16())
    return "bf16";
  if (t.isInteger(1))
    return "bool";
  if (t.isInteger(8))
    return "i8";
  if (t.isInteger(16))
    return "i16";
  if (t.isInteger(32))
    return "i32";
  if (t.isInteger(64))
    return "i64";
  return "";
}

nlohmann::json tensorJson(const std::string &name, Type type,
                          std::string &error) {
  auto t = dyn_cast<RankedTensorType>(type);
  nlohmann::json j;
  j["name"] = name;
  if (!t || !t.hasStaticShape()) {
    error = "'" + name + "' does not have a static tensor type";
    return j;
  }
  std::string dt = dtypeName(t.getElementType());
  if (dt.empty())
    error = "'" + name + "' has an element type the runtime does not support";
  j["dtype"] = dt;
  j["shape"] = std::vector<int64_t>(t.getShape().begin(), t.getShape().end());
  return j;
}

/// Little-endian bytes of an elements attribute (bools one byte each).
bool serializeElements(ElementsAttr attr, std::string &out) {
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return false;
    ArrayRef<char> d = blob->getData();
    out.assign(d.begin(), d.end());
    return true;
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return false;
  Type et = dense.getElementType();
  int64_t n = dense.getNumElements();
  if (et.isInteger(1)) {
    out.clear();
    for (bool v : dense.getValues<bool>())
      out.push_back(v ? 1 : 0);
    return true;
  }
  ArrayRef<char> raw = dense.getRawData();
  if (dense.isSplat()) {
    out.clear();
    for (int64_t i = 0; i < n; ++i)
      out.append(raw.data(), raw.size());
  } else {
    out.assign(raw.begin(), raw.end());
  }
  return true;
}

struct Manifest {
  nlohmann::json json;
  std::string weights;
};

/// Reads names, weights and shapes off @main after weight externalisation.
bool buildManifest(ModuleOp module, const CompileOptions &opts,
                   Manifest &m, std::string &error) {
  auto fn = module.lookupSymbol<func::FuncOp>("main");
  if (!fn) {
    error = "the module has no func.func @main";
    return false;
  }
  nlohmann::json inputs = nlohmann::json::array(),
                 weights = nlohmann::json::array(),
                 outputs = nlohmann::json::array();
  bool seenWeight = false;
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    Type t = fn.getArgument(i).getType();
    if (auto wname = fn.getArgAttrOfType<StringAttr>(i, kWeightNameAttr)) {
      seenWeight = true;
      auto value = fn.getArgAttrOfType<ElementsAttr>(i, kWeightValueAttr);
      std::string bytes;
      if (!value || !serializeElements(value, bytes)) {
        error = "weight '" + wname.str() + "' has no readable value";
        return false;
      }
      auto j = tensorJson(wname.str(), t, error);
      while (m.weights.size() % TSR_SECTION_ALIGN)
        m.weights.push_back('\0');
      j["offset"] = m.weights.size();
      j["size"] = bytes.size();
      m.weights += bytes;
      weights.push_back(j);
    } else {
      if (seenWeight) {
        error = "model inputs must precede weights in @main's arguments";
        return false;
      }
      auto name = fn.getArgAttrOfType<StringAttr>(i, kTensorNameAttr);
      inputs.push_back(tensorJson(name ? name.str() : "input_" + std::to_string(i),
                                  t, error));
    }
    if (!error.empty())
      return false;
  }
  for (unsigned i = 0; i < fn.getNumResults(); ++i) {
    auto name = fn.getResultAttrOfType<StringAttr>(i, kTensorNameAttr);
    outputs.push_back(tensorJson(name ? name.str() : "output_" + std::to_string(i),
                                 fn.getResultTypes()[i], error));
    if (!error.empty())
      return false;
  }
  // A partitioned program: @main takes and returns local shards. The
  // manifest gives the global shapes (what callers pass and get back), the
  // local ones, and per dim the mesh axes it is split along, major first;
  // the runtime scatters and gathers by them.
  nlohmann::json mesh;
  if (fn->hasAttr("tessera.spmd")) {
    // tessera-lower-collectives moved the grid to module attributes.
    auto shapeAttr = module->getAttrOfType<DenseI64ArrayAttr>("tessera.mesh_shape");
    auto axesAttr = module->getAttrOfType<ArrayAttr>("tessera.mesh_axes");
    if (!shapeAttr || !axesAttr || axesAttr.size() != shapeAttr.size()) {
      error = "the partitioned program has no tessera.mesh_shape and "
              "tessera.mesh_axes (run tessera-lower-collectives)";
      return false;
    }
    std::optional<sharding::Mesh> m = sharding::Mesh();
    m->shape.assign(shapeAttr.asArrayRef().begin(), shapeAttr.asArrayRef().end());
    for (Attribute a : axesAttr)
      m->names.push_back(cast<StringAttr>(a).str());
    mesh = {{"axes", m->names}, {"shape", m->shape}};
    auto shard = [&](nlohmann::json &j, StringAttr text) {
      std::vector<int64_t> local = j["shape"];
      std::vector<int64_t> global = local;
      std::vector<std::vector<int>> split(local.size());
      if (text) {
        std::string err;
        FailureOr<sharding::Sharding> s = sharding::parse(
            *m, text.getValue(), static_cast<int64_t>(local.size()), err);
        if (failed(s) || !s->partial.empty()) {
          error = "'" + j["name"].get<std::string>() + "': sharding '" +
                  text.str() + "': " + (err.empty() ? "is partial" : err);
          return false;
        }
        for (size_t d = 0; d < local.size(); ++d) {
          split[d].assign(s->dims[d].begin(), s->dims[d].end());
          global[d] *= m->devices(s->dims[d]);
        }
        j["sharding"] = text.str();
      }
      j["shape"] = global;
      j["local_shape"] = local;
      j["split"] = split;
      return true;
    };
    unsigned k = 0;
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      if (!fn.getArgAttr(i, kWeightNameAttr) &&
          !shard(inputs[k++], fn.getArgAttrOfType<StringAttr>(i, "tessera.sharding")))
        return false;
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      if (!shard(outputs[i],
                 fn.getResultAttrOfType<StringAttr>(i, "tessera.sharding")))
        return false;
  }
  std::string modelName = llvm::sys::path::stem(opts.inputPath).str();
  m.json = {{"format_version", TSR_FORMAT_VERSION},
            {"producer", "tessera-compile 0.1.0"},
            {"model", modelName},
            {"target", "cpu"},
            {"entry", "tessera_entry"},
            {"abi", "tessera-packed-v1"},
            {"inputs", inputs},
            {"outputs", outputs},
            {"weights", weights}};
  if (!mesh.is_null())
    m.json["mesh"] = mesh;
  return true;
}

/// --shard-spec: inline JSON (the text starts with '{') or a JSON file.
bool readShardSpec(const std::string &value, nlohmann::json &spec,
                   std::string &err) {
  const bool inline_ = StringRef(value).ltrim().starts_with("{");
  if (inline_) {
    spec = nlohmann::json::parse(value, nullptr, false);
  } else {
    std::ifstream in(value);
    if (!in) {
      err = "cannot read --shard-spec '" + value + "'";
      return false;
    }
    spec = nlohmann::json::parse(in, nullptr, false);
  }
  if (spec.is_discarded() || !spec.is_object()) {
    err = "--shard-spec " +
          (inline_ ? std::string("text") : "'" + value + "'") +
          " is not a JSON object of name -> sharding (e.g. {\"x\": "
          "\"[{data}, {}]\"})";
    return false;
  }
  return true;
}

/// --mesh and --shard-spec: a shard.grid named @mesh with the axes' names,
/// `tessera.sharding` on named inputs and `tessera.user_sharding` on named
/// weights (constants: by resource key or location name). The sharding
/// strings are checked by tessera-shard-propagate.
bool applyShardSpec(ModuleOp module, const CompileOptions &opts,
                    std::string &err) {
  MLIRContext *ctx = module.getContext();
  ctx->getOrLoadDialect<mlir::shard::ShardDialect>();
  SmallVector<int64_t> shape;
  SmallVector<Attribute> names;
  SmallVector<StringRef> parts;
  StringRef(opts.mesh).split(parts, ',', -1, false);
  OpBuilder b(ctx);
  std::set<std::string> seen;
  for (StringRef part : parts) {
    auto [name, size] = part.trim().split('=');
    int64_t n = 0;
    if (name.empty() || size.getAsInteger(10, n) || n <= 0 ||
        !seen.insert(name.str()).second) {
      err = "--mesh='" + opts.mesh +
            "': expected NAME=SIZE[,NAME=SIZE...] with distinct names and "
            "positive sizes (e.g. data=2,model=4)";
      return false;
    }
    shape.push_back(n);
    names.push_back(b.getStringAttr(name));
  }
  if (shape.empty()) {
    err = "--mesh is empty";
    return false;
  }
  if (module.lookupSymbol("mesh")) {
    err = "the module already has a symbol named 'mesh'";
    return false;
  }
  b.setInsertionPointToStart(module.getBody());
  auto grid = mlir::shard::GridOp::create(b, module.getLoc(), "mesh", shape);
  grid->setAttr("tessera.axis_names", b.getArrayAttr(names));
  if (opts.shardSpec.empty())
    return true;
  nlohmann::json spec;
  if (!readShardSpec(opts.shardSpec, spec, err))
    return false;
  auto fn = module.lookupSymbol<func::FuncOp>("main");
  if (!fn) {
    err = "--shard-spec: the module has no @main";
    return false;
  }
  std::map<std::string, std::function<void(StringAttr)>> targets;
  std::map<std::string, int> uses; // a name two tensors answer to is ambiguous
  for (unsigned i = 0; i < fn.getNumArguments(); ++i)
    if (auto n = fn.getArgAttrOfType<StringAttr>(i, "tessera.name")) {
      ++uses[n.str()];
      targets[n.str()] = [fn, i](StringAttr s) mutable {
        fn.setArgAttr(i, "tessera.sharding", s);
      };
    }
  fn.walk([&](ConstantOp c) {
    std::string name;
    if (auto r = dyn_cast<DenseResourceElementsAttr>(c.getValue()))
      name = r.getRawHandle().getKey().str();
    else if (auto nl = dyn_cast<NameLoc>(c.getLoc()))
      name = nl.getName().str();
    if (!name.empty()) {
      ++uses[name];
      targets[name] = [c](StringAttr s) mutable {
        c->setAttr("tessera.user_sharding", s);
      };
    }
  });
  for (auto &[name, value] : spec.items()) {
    if (!value.is_string()) {
      err = "--shard-spec: the sharding of '" + name + "' must be a string";
      return false;
    }
    auto it = targets.find(name);
    if (it == targets.end() && opts.shardSpecNames)
      continue; // a pipeline stage: another stage may have it
    if (opts.shardSpecNames)
      opts.shardSpecNames->insert(name);
    if (it == targets.end()) {
      err = "--shard-spec: no input or weight named '" + name + "' (";
      size_t k = 0;
      for (auto &[n, f] : targets) {
        if (k++ == 12) {
          err += ", ...";
          break;
        }
        err += (k > 1 ? ", " : "") + n;
      }
      err += ")";
      return false;
    }
    if (uses[name] > 1) {
      err = "--shard-spec: '" + name + "' names " + std::to_string(uses[name]) +
            " tensors (inputs and weights); it cannot say which to shard";
      return false;
    }
    it->second(b.getStringAttr(value.get<std::string>()));
  }
  return true;
}

/// Writes `text` to `path` ("-" = stdout), atomically; the main output
/// (path == outputPath) goes to options.outputBuffer when that is set.
bool writeText(const CompileOptions &opts, const std::string &path,
               const std::string &text) {
  if (opts.outputBuffer && path == opts.outputPath) {
    *opts.outputBuffer = text;
    return true;
  }
  if (path == "-") {
    llvm::outs() << text;
    llvm::outs().flush();
    return true;
  }
  std::string err;
  if (!writeFileAtomically(path, text, err)) {
    Diagnostic d;
    d.message = err;
    d.io = true;
    Diag::emit(opts, d);
    return false;
  }
  return true;
}

std::string printModule(ModuleOp m, bool elideLarge = false) {
  std::string s;
  llvm::raw_string_ostream os(s);
  OpPrintingFlags flags;
  if (elideLarge)
    flags.elideLargeElementsAttrs(16);
  m->print(os, flags);
  return s;
}
/// Writes manifest, code sections and weights as one artifact (see
/// writeText); `bytes` receives what was written.
bool writeArtifactFile(const CompileOptions &opts, const std::string &path,
                       Manifest &manifest, std::vector<ArtifactSection> code,
                       std::string &bytes) {
  std::vector<ArtifactSection> sections;
  sections.push_back({TSR_SECTION_MANIFEST, manifest.json.dump(2)});
  for (ArtifactSection &s : code)
    sections.push_back(std::move(s));
  if (!manifest.weights.empty())
    sections.push_back({TSR_SECTION_WEIGHTS, std::move(manifest.weights)});
  bytes = buildArtifact(sections);
  return writeText(opts, path, bytes);
}

/// The CUDA target after its pipeline: PTX, ptxas, launch plan, artifact.
int finishCuda(ModuleOp module, const CompileOptions &opts, Manifest &manifest,
               Timer &timer) {
  if (opts.emit == "gpu")
    return writeText(opts, opts.outputPath, printModule(module, true)) ? 0 : 1;
  ptx::GPUProgram prog;
  std::string err;
  if (!timer.step("launch plan",
                  [&] { return ptx::extractProgram(module, prog, err); })) {
    Diag(opts, Diagnostic::Error) << err;
    return 1;
  }
  if (opts.emit == "ptx")
    return writeText(opts, opts.outputPath, prog.ptx) ? 0 : 1;
  std::string cubin;
  bool havePtxas = false;
  if (!timer.step("ptxas", [&] {
        return ptx::assemblePTX(prog.ptx, opts.gpuArch, cubin, havePtxas, err);
      })) {
    Diag(opts, Diagnostic::Error) << err;
    return 1;
  }
  if (!havePtxas && opts.verbose)
    Diag(opts, Diagnostic::Remark)
        << "note: ptxas not found; the artifact "
           "holds PTX only (the driver JIT-compiles it at load)";
  manifest.json["target"] = "cuda";
  manifest.json["entry"] = "tessera_kernels";
  manifest.json["gpu_arch"] = opts.gpuArch;
  manifest.json["gpu"] = nlohmann::json::parse(prog.planJson);
  std::vector<ArtifactSection> code = {{TSR_SECTION_PTX, prog.ptx}};
  if (!cubin.empty())
    code.push_back({TSR_SECTION_CUBIN, cubin});
  std::string bytes;
  if (!writeArtifactFile(opts, opts.outputPath, manifest, std::move(code),
                         bytes))
    return 1;
  if (opts.verbose)
    Diag(opts, Diagnostic::Remark)
        << "wrote " << opts.outputPath << " (" << bytes.size()
        << " bytes): " << prog.kernels << " kernels (PTX " << prog.ptx.size()
        << " bytes"
        << (cubin.empty() ? ""
                          : ", cubin " + std::to_string(cubin.size()) +
                                " bytes for " + opts.gpuArch)
        << "), " << prog.launches << " launches, " << prog.gemms
        << " cuBLAS GEMMs, arena " << prog.arenaBytes << " bytes (unplanned "
        << prog.naiveArenaBytes << ") in " << llvm::format("%.2f", timer.total)
        << " s";
  return 0;
}
} // namespace

std::string formatDiagnostic(const Diagnostic &d, const char *tool) {
  static const char *kNames[] = {"error", "warning", "note", "remark"};
  const std::string t = tool ? tool : "";
  std::string out;
  if (!d.file.empty() && d.line)
    out = d.file + ":" + std::to_string(d.line) + ":" +
          std::to_string(d.column) + ": " + kNames[d.severity] + ": ";
  else if (!d.file.empty())
    out = d.file + ": " + kNames[d.severity] + ": ";
  else if (d.severity == Diagnostic::Remark && !t.empty())
    out = "[" + t + "] ";
  else
    out = (t.empty() ? "" : t + ": ") + kNames[d.severity] + ": ";
  return out + d.message + "\n";
}

bool parseInputShape(const std::string &spec,
                     std::map<std::string, std::vector<int64_t>> &shapes,
                     std::string &error) {
  size_t eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0) {
    error = "expected NAME=D0xD1x..., got '" + spec + "'";
    return false;
  }
  std::string name = spec.substr(0, eq), dims = spec.substr(eq + 1);
  std::vector<int64_t> shape;
  if (!dims.empty() && dims != "scalar") {
    SmallVector<StringRef> parts;
    StringRef(dims).split(parts, 'x');
    for (StringRef p : parts) {
      int64_t v;
      if (p.getAsInteger(10, v) || v <= 0) {
        error = "invalid dim '" + p.str() + "' in '" + spec + "'";
        return false;
      }
      shape.push_back(v);
    }
  }
  shapes[name] = shape;
  return true;
}

std::string supportedOpsMarkdown() {
  std::string s =
      "# Supported ONNX operators\n\n"
      "Generated from the importer's converter table by "
      "`tessera-compile --list-supported-ops`; do not edit by hand.\n\n"
      "Default domain (`ai.onnx`), opsets 11-18 as exported by torch 1.13 "
      "(opset <= 17). Static shapes only: shape computations (Shape, "
      "Gather, Concat, ... on known tensors) are folded at import.\n\n"
      "| operator |\n| --- |\n";
  for (const std::string &op : onnx_import::supportedOpTypes())
    s += "| " + op + " |\n";
  return s;
}

namespace {

/// --mesh: the spec (after autodiff, so that trainable weights are named
/// arguments), then propagation and partitioning into one SPMD program.
/// Returns -1 to go on, else the exit status (--emit=spmd, errors).
int shardModule(MLIRContext &ctx, OwningOpRef<ModuleOp> &module,
                const CompileOptions &opts, Timer &timer) {
  std::string err;
  if (!applyShardSpec(*module, opts, err)) {
    Diag(opts, Diagnostic::Error) << err;
    return 1;
  }
  PassManager spm(&ctx);
  spm.enableVerifier(true);
  std::string text = "tessera-shard-propagate";
  if (!opts.shardReport.empty())
    text += "{report=" + opts.shardReport + "}";
  text += ",tessera-shard-partition,canonicalize";
  if (!addPipelineText(spm, text, err)) {
    Diag(opts, Diagnostic::Error) << "internal error: sharding: " << err;
    return 1;
  }
  if (!timer.step("tessera-shard", [&] { return succeeded(spm.run(*module)); })) {
    Diag(opts, Diagnostic::Error) << "sharding failed";
    return 1;
  }
  if (opts.emit == "spmd")
    return writeText(opts, opts.outputPath, printModule(*module)) ? 0 : 1;
  return -1;
}

int lowerFrom(MLIRContext &ctx, OwningOpRef<ModuleOp> &module,
              const CompileOptions &opts,
              const std::vector<PipelineStage> &stages, size_t first,
              Timer &timer);
int compilePipeline(MLIRContext &ctx, OwningOpRef<ModuleOp> &module,
                    const CompileOptions &opts,
                    const std::vector<PipelineStage> &stages, Timer &timer);

} // namespace

std::string checkOptions(const CompileOptions &opts) {
  std::string msg;
  llvm::raw_string_ostream os(msg);
  const bool cuda = opts.target == "cuda";
  if (opts.target != "cpu" && !cuda) {
    os << "unknown target '" << opts.target << "' (supported: cpu, cuda)";
    return msg;
  }
  static const char *kCpuEmits[] = {"artifact", "tessera", "spmd", "linalg",
                                    "llvm",     "object",  "so"};
  static const char *kCudaEmits[] = {"artifact", "tessera", "spmd", "linalg",
                                     "gpu",      "ptx"};
  if (cuda ? !llvm::is_contained(kCudaEmits, opts.emit)
           : !llvm::is_contained(kCpuEmits, opts.emit)) {
    os << "--emit=" << opts.emit
       << " is not available for --target=" << opts.target << " ("
       << (cuda ? "artifact, tessera, spmd, linalg, gpu, ptx"
                : "artifact, tessera, spmd, linalg, llvm, object, so")
       << ")";
    return msg;
  }
  if (cuda && opts.gpuArch != "sm_80" && opts.gpuArch != "sm_90") {
    os << "--gpu-arch=" << opts.gpuArch << " is not supported (sm_80, sm_90)";
    return msg;
  }

  if (opts.precision != "f32" && opts.precision != "bf16" &&
      opts.precision != "f16") {
    os << "--precision=" << opts.precision
       << " is not supported (f32, bf16, f16)";
    return msg;
  }
  // f16 conversions need F16C on the CPU: without it LLVM calls libgcc
  // helpers the linked object cannot resolve. Only the host is checked.
  if (!cuda && opts.precision == "f16" &&
      (opts.cpu != "native" ||
       !llvm::sys::getHostCPUFeatures().lookup("f16c"))) {
    os << "--precision=f16 on the CPU target "
          "needs --cpu=native on a host with F16C"
       << (opts.cpu == "native" ? ", which this host lacks" : "")
       << " (use bf16)";
    return msg;
  }

  const DeriveOptions &derive = opts.derive;
  if (!derive.costModel.empty() && derive.costModel != "cpu" &&
      derive.costModel != "cuda") {
    os << "--derive-cost-model=" << derive.costModel
       << " is not supported (cpu, cuda)";
    return msg;
  }

  const TrainOptions &train = opts.train;
  if (train.loss != "mse" && train.loss != "cross-entropy") {
    os << "--loss=" << train.loss << " is not supported (mse, cross-entropy)";
    return msg;
  }
  if (train.optimizer != "sgd" && train.optimizer != "adam" &&
      train.optimizer != "none") {
    os << "--optimizer=" << train.optimizer
       << " is not supported (sgd, adam, none)";
    return msg;
  }
  const RematOptions &remat = opts.remat;
  if (!remat.budget.empty()) {
    int64_t bytes;
    double percent;
    if (!parseMemoryBudget(remat.budget, bytes, percent)) {
      os << "--memory-budget='" << remat.budget
         << "' is not a size (bytes, or with K/M/G) or a "
            "percentage of the no-remat peak (e.g. 80%)";
      return msg;
    }
    remat::Method m;
    if (!remat::parseMethod(remat.method, m)) {
      os << "--remat-method=" << remat.method
         << " is not supported (moccasin, greedy, greedy-restarts, "
            "chen-sqrt-n, checkmate-milp)";
      return msg;
    }
  }
  if (opts.mesh.empty() && opts.stageMeshes.empty() &&
      (opts.emit == "spmd" || !opts.shardSpec.empty() ||
       !opts.shardReport.empty())) {
    os << "--emit=spmd, --shard-spec and "
          "--shard-report need --mesh (or --stage-mesh)";
    return msg;
  }
  if (opts.pipelineStages < 1 || opts.pipelineStages > 64) {
    os << "--pipeline-stages=" << opts.pipelineStages
       << " is out of range (1-64)";
    return msg;
  }
  if (opts.pipelineStages == 1 && !opts.stageMeshes.empty()) {
    os << "--stage-mesh needs "
          "--pipeline-stages";
    return msg;
  }
  if (opts.pipelineStages > 1) {
    const char *why = nullptr;
    if (cuda)
      why = "pipelines run on the cpu target";
    else if (train.enabled)
      why = "pipelined training steps are not built (the 1F1B and eager-1F1B "
            "schedules are modelled in bench/shard)";
    else if (opts.emit != "artifact")
      why = "a pipeline compiles to artifacts only (--emit=artifact)";
    else if (!opts.mesh.empty())
      why = "give each stage its mesh with --stage-mesh, not --mesh";
    else if (static_cast<int64_t>(opts.stageMeshes.size()) > opts.pipelineStages)
      why = "more --stage-mesh values than stages";
    else if (!opts.remat.budget.empty())
      why = "--memory-budget applies to whole programs";
    if (why) {
      os << "--pipeline-stages: " << why;
      return msg;
    }
  }
  // Paths go into pass-option text, whose syntax these characters break.
  for (auto [flag, path] :
       {std::pair{"--shard-report", &opts.shardReport},
        std::pair{"--derive-report", &derive.report},
        std::pair{"--memory-report", &opts.memoryReport},
        std::pair{"--memory-plot", &opts.memoryPlot},
        std::pair{"--remat-dump-graph", &opts.remat.dumpGraph}})
    if (path->find_first_of(" {},=\"") != std::string::npos) {
      os << flag << " path '" << *path
         << "' must not contain spaces, braces, commas, '=' or "
            "quotes";
      return msg;
    }
  if (cuda && !opts.mesh.empty() && opts.emit != "spmd" &&
      opts.emit != "tessera") {
    os << "--mesh: partitioned programs run "
          "on the CPU target (collectives through MPI); the cuda "
          "target has no NCCL runtime yet (--emit=spmd writes the "
          "SPMD program)";
    return msg;
  }
  if (cuda && (!opts.memoryReport.empty() || !opts.memoryPlot.empty())) {
    os << "--memory-report and "
          "--memory-plot describe the CPU target's arena plan; the "
          "cuda target prints its own plan with its progress "
          "lines";
    return msg;
  }

  return "";
}

int compile(const CompileOptions &opts) {
  registerEverything();
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registry.insert<TesseraDialect, texpr::TExprDialect>();
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  ctx.disableMultithreading();
  // Errors name their op by location; the repro line gives the IR.
  ctx.printOpOnDiagnostic(false);

  llvm::SourceMgr sourceMgr;
  ScopedDiagnosticHandler diagHandler(&ctx, [&](mlir::Diagnostic &d) {
    forwardDiagnostic(opts, d);
    return success();
  });
  Timer timer(opts);

  if (std::string why = checkOptions(opts); !why.empty()) {
    Diag(opts, Diagnostic::Error) << why;
    return 1;
  }
  const bool cuda = opts.target == "cuda";
  const DeriveOptions &derive = opts.derive;

  // 1. Import.
  OwningOpRef<ModuleOp> module;
  const std::string format = !opts.inputFormat.empty() ? opts.inputFormat
                             : StringRef(opts.inputPath).ends_with(".mlir")
                                 ? "mlir"
                                 : "onnx";
  if (format != "onnx" && format != "mlir") {
    Diag(opts, Diagnostic::Error)
        << "unknown input format '" << format << "' (onnx, mlir)";
    return 1;
  }
  const bool isMlir = format == "mlir";
  onnx_import::OpStats stats;
  module = timer.step("import", [&]() -> OwningOpRef<ModuleOp> {
    if (isMlir) {
      std::unique_ptr<llvm::MemoryBuffer> file;
      if (opts.inputFromBuffer) {
        file = llvm::MemoryBuffer::getMemBufferCopy(opts.inputBuffer,
                                                    opts.inputPath);
      } else {
        std::string err;
        if (!(file = openInputFile(opts.inputPath, &err))) {
          Diag(opts, Diagnostic::Error) << err;
          return nullptr;
        }
      }
      sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
      return parseSourceFile<ModuleOp>(sourceMgr, &ctx);
    }
    onnx_import::ImportOptions io;
    io.inputShapes = opts.inputShapes;
    if (opts.inputFromBuffer)
      return onnx_import::importOnnxBytes(&ctx, opts.inputBuffer.data(),
                                          opts.inputBuffer.size(),
                                          opts.inputPath, "", io, &stats);
    return onnx_import::importOnnxFile(&ctx, opts.inputPath, io, &stats);
  });
  if (opts.opStats == "json" && !isMlir)
    llvm::outs() << stats.toJson();
  if (!module) {
    Diag(opts, Diagnostic::Error)
        << "could not import '" << opts.inputPath << "'";
    return 1;
  }
  if (opts.emit == "tessera")
    return writeText(opts, opts.outputPath, printModule(*module)) ? 0 : 1;

  // 2. The registered pipeline of the target, stage by stage.
  CPUPipelineOptions po;
  po.minWeightElements = opts.minWeightElements;
  po.fuseElementwise = opts.fuseElementwise;
  po.precision = opts.precision;
  po.derive = derive;
  po.train = opts.train;
  po.remat = opts.remat;
  po.memoryReport = opts.memoryReport;
  po.memoryPlot = opts.memoryPlot;
  GPUPipelineOptions go;
  go.minWeightElements = opts.minWeightElements;
  go.fuseElementwise = opts.fuseElementwise;
  go.precision = opts.precision;
  go.derive = derive;
  go.train = opts.train;
  go.remat = opts.remat;
  go.chip = opts.gpuArch;
  go.useLibrary = opts.gpuLibraryCalls;
  const std::vector<PipelineStage> stages =
      cuda ? gpuPipelineStages(go) : cpuPipelineStages(po);
  if (opts.pipelineStages > 1)
    return compilePipeline(ctx, module, opts, stages, timer);
  return lowerFrom(ctx, module, opts, stages, 0, timer);
}

namespace {

/// Runs `stages` from index `first` on, then code generation and the
/// artifact (or the IR --emit asks for).
int lowerFrom(MLIRContext &ctx, OwningOpRef<ModuleOp> &module,
              const CompileOptions &opts,
              const std::vector<PipelineStage> &stages, size_t first,
              Timer &timer) {
  const bool cuda = opts.target == "cuda";
  const DeriveOptions &derive = opts.derive;
  const TrainOptions &train = opts.train;
  const RematOptions &remat = opts.remat;
  Manifest manifest;
  int stageIndex = 0;
  for (const PipelineStage &stage : stages) {
    ++stageIndex;
    if (stageIndex <= static_cast<int>(first))
      continue;
    PassManager pm(&ctx);
    pm.enableVerifier(true);
    std::string err;
    if (!addPipelineText(pm, stage.text, err)) {
      Diag(opts, Diagnostic::Error)
          << "internal error: pipeline " << stage.name << ": " << err;
      return 1;
    }
    bool ok = timer.step(stage.name.c_str(), [&] {
      return succeeded(pm.run(*module));
    });
    if (!ok) {
      std::string msg;
      llvm::raw_string_ostream os(msg);
      os << "stage '" << stage.name
         << "' failed.\n  Reproduce with: tessera-compile " << opts.inputPath
         << " --emit=" << (stageIndex <= 2 ? "tessera" : "linalg")
         << " -o in.mlir && tessera-opt in.mlir "
            "--pass-pipeline='builtin.module(";
      // Name the stages up to and including the failing one.
      bool first = true;
      int i = 0;
      for (const PipelineStage &s : stages) {
        ++i;
        if (i < (stageIndex <= 2 ? 1 : 3) || i > stageIndex)
          continue;
        os << (first ? "" : ",") << s.name;
        std::string stageOpts;
        if (opts.precision != "f32")
          stageOpts += " precision=" + opts.precision;
        if (derive.enabled)
          stageOpts += " " + derive.pipelineOptionText();
        if (train.enabled)
          stageOpts += " " + train.pipelineOptionText();
        if (!remat.budget.empty())
          stageOpts += " " + remat.pipelineOptionText();
        if (!stageOpts.empty())
          os << "{" << StringRef(stageOpts).drop_front() << "}";
        first = false;
      }
      os << ")' --mlir-print-ir-after-failure";
      Diag(opts, Diagnostic::Error) << msg;
      return 1;
    }
    if (!opts.dumpDir.empty()) {
      llvm::sys::fs::create_directories(opts.dumpDir);
      std::string p = opts.dumpDir + "/" + std::to_string(stageIndex) + "-" +
                      stage.name + ".mlir";
      writeText(opts, p, printModule(*module, /*elideLarge=*/true));
    }
    if (stage.name == "tessera-cpu-bufferize") {
      auto fn = module->lookupSymbol<func::FuncOp>("main");
      auto plan = fn ? fn->getAttrOfType<DictionaryAttr>(kMemoryPlanAttr)
                     : DictionaryAttr();
      if (plan) {
        int64_t arena = cast<IntegerAttr>(plan.get("arena_bytes")).getInt();
        if (arena > 0) {
          manifest.json["abi"] = "tessera-packed-v2";
          manifest.json["arena_bytes"] = arena;
        }
        if (opts.verbose)
          Diag(opts, Diagnostic::Remark)
              << "memory plan: arena " << arena << " bytes (live peak "
              << cast<IntegerAttr>(plan.get("live_peak")).getInt() << "), "
              << cast<IntegerAttr>(plan.get("buffers")).getInt() << " buffers";
        // The remat model counts tessera-level tensors; what lowering adds
        // (padded copies, pooling-gradient windows) it does not see.
        auto summary = fn->getAttrOfType<DictionaryAttr>("tessera.remat_summary");
        if (auto budget = summary ? dyn_cast_or_null<IntegerAttr>(summary.get("budget"))
                                  : IntegerAttr())
          if (arena > budget.getInt())
            Diag(opts, Diagnostic::Warning)
                << "the planned arena (" << arena
                << " bytes) is above the memory budget (" << budget.getInt()
                << " bytes): the remat model counts tessera-level "
                   "tensors, not the temporaries lowering adds "
                   "(padded copies, pooling-gradient windows); see "
                   "docs/training.md, 'Budget semantics'";
      }
    }
    if (stage.name == "tessera-graph-cleanup" && !opts.mesh.empty())
      if (int rc = shardModule(ctx, module, opts, timer); rc >= 0)
        return rc;
    if (stage.name == "tessera-lower-to-linalg") {
      std::string merr;
      if (!buildManifest(*module, opts, manifest, merr)) {
        Diag(opts, Diagnostic::Error) << merr;
        return 1;
      }
      if (opts.emit == "linalg")
        return writeText(opts, opts.outputPath, printModule(*module)) ? 0 : 1;
    }
  }
  if (cuda)
    return finishCuda(*module, opts, manifest, timer);
  if (opts.emit == "llvm")
    return writeText(opts, opts.outputPath, printModule(*module)) ? 0 : 1;

  // 3. Code generation.
  cpu::CodegenOptions co;
  co.cpu = opts.cpu;
  co.optLevel = opts.optLevel;
  std::vector<char> object, so;
  std::string resolvedCpu, err;
  if (!timer.step("llvm codegen", [&] {
        return cpu::emitObject(*module, co, object, resolvedCpu, err);
      })) {
    Diag(opts, Diagnostic::Error) << err;
    return 1;
  }
  if (opts.emit == "object")
    return writeText(opts, opts.outputPath,
                     std::string(object.begin(), object.end()))
               ? 0
               : 1;
  if (!timer.step("link", [&] { return cpu::linkSharedObject(object, so, err); })) {
    Diag(opts, Diagnostic::Error) << err;
    return 1;
  }
  if (opts.emit == "so")
    return writeText(opts, opts.outputPath, std::string(so.begin(), so.end()))
               ? 0
               : 1;

  // 4. The artifact.
  manifest.json["cpu"] = resolvedCpu;
  std::string bytes;
  if (!writeArtifactFile(
          opts, opts.outputPath, manifest,
          {{TSR_SECTION_HOST_CODE, std::string(so.begin(), so.end())}}, bytes))
    return 1;
  if (opts.verbose)
    Diag(opts, Diagnostic::Remark)
        << "wrote " << opts.outputPath << " (" << bytes.size()
        << " bytes, code " << so.size() << " bytes) in "
        << llvm::format("%.2f", timer.total) << " s";
  return 0;
}

/// --pipeline-stages: the graph-cleaned module cut into stages, each
/// (sharded over its --stage-mesh, if any) lowered to DIR/stage<k>.tsr, and
/// DIR/pipeline.json naming the stages, their devices and the tensors they
/// take and make.
int compilePipeline(MLIRContext &ctx, OwningOpRef<ModuleOp> &module,
                    const CompileOptions &opts,
                    const std::vector<PipelineStage> &stages, Timer &timer) {
  const int64_t n = opts.pipelineStages;
  const std::string dir = opts.outputPath;
  if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
    Diagnostic d;
    d.message =
        "cannot create the pipeline directory '" + dir + "': " + ec.message();
    d.io = true;
    Diag::emit(opts, d);
    return 1;
  }
  auto signature = [](func::FuncOp fn, std::string &err) {
    nlohmann::json ins = nlohmann::json::array(), outs = nlohmann::json::array();
    for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
      auto nm = fn.getArgAttrOfType<StringAttr>(i, kTensorNameAttr);
      ins.push_back(tensorJson(nm ? nm.str() : "input_" + std::to_string(i),
                               fn.getArgument(i).getType(), err));
    }
    for (unsigned i = 0; i < fn.getNumResults(); ++i) {
      auto nm = fn.getResultAttrOfType<StringAttr>(i, kTensorNameAttr);
      outs.push_back(tensorJson(nm ? nm.str() : "output_" + std::to_string(i),
                                fn.getResultTypes()[i], err));
    }
    return std::pair{ins, outs};
  };
  std::string err;
  // The graph cleanup (and derivation) first, on the whole model.
  {
    PassManager pm(&ctx);
    pm.enableVerifier(true);
    if (!addPipelineText(pm, stages.front().text, err)) {
      Diag(opts, Diagnostic::Error) << "internal error: " << err;
      return 1;
    }
    if (!timer.step(stages.front().name.c_str(),
                    [&] { return succeeded(pm.run(*module)); })) {
      Diag(opts, Diagnostic::Error)
          << "stage '" << stages.front().name << "' failed";
      return 1;
    }
  }
  auto whole = module->lookupSymbol<func::FuncOp>("main");
  if (!whole) {
    Diag(opts, Diagnostic::Error) << "the module has no @main";
    return 1;
  }
  auto [modelIns, modelOuts] = signature(whole, err);
  nlohmann::json pipe = {{"format", "tessera-pipeline-v1"},
                         {"model", llvm::sys::path::stem(opts.inputPath).str()},
                         {"inputs", modelIns},
                         {"outputs", modelOuts},
                         {"stages", nlohmann::json::array()}};
  std::set<std::string> specNames;
  for (int64_t k = 0; k < n; ++k) {
    OwningOpRef<ModuleOp> stageModule(cast<ModuleOp>(module->clone()));
    PassManager pm(&ctx);
    pm.enableVerifier(true);
    if (!addPipelineText(pm,
                         "tessera-pipeline-split{stages=" + std::to_string(n) +
                             " stage=" + std::to_string(k) + " target=cpu}",
                         err)) {
      Diag(opts, Diagnostic::Error) << "internal error: " << err;
      return 1;
    }
    if (!timer.step("tessera-pipeline-split",
                    [&] { return succeeded(pm.run(*stageModule)); })) {
      Diag(opts, Diagnostic::Error) << "cutting stage " << k << " failed";
      return 1;
    }
    auto fn = stageModule->lookupSymbol<func::FuncOp>("main");
    auto [ins, outs] = signature(fn, err);
    // Read now: sharding and lowering rewrite @main.
    auto secs = fn->getAttrOfType<ArrayAttr>("tessera.pipeline_stage_seconds");
    const double seconds =
        secs && static_cast<int64_t>(secs.size()) > k
            ? cast<FloatAttr>(secs[k]).getValueAsDouble()
            : 0.0;
    if (!err.empty()) {
      Diag(opts, Diagnostic::Error) << "stage " << k << ": " << err;
      return 1;
    }
    CompileOptions so = opts;
    so.mesh = static_cast<size_t>(k) < opts.stageMeshes.size()
                  ? opts.stageMeshes[k]
                  : "";
    if (so.mesh == "none")
      so.mesh.clear();
    so.shardSpec = so.mesh.empty() ? "" : opts.shardSpec;
    so.shardSpecNames = &specNames;
    so.outputPath = dir + "/stage" + std::to_string(k) + ".tsr";
    so.pipelineStages = 1;
    if (opts.verbose)
      Diag(opts, Diagnostic::Remark)
          << "pipeline stage " << k << " of " << n
          << (so.mesh.empty() ? "" : " on mesh " + so.mesh);
    if (!so.mesh.empty())
      if (int rc = shardModule(ctx, stageModule, so, timer); rc >= 0)
        return rc;
    if (int rc = lowerFrom(ctx, stageModule, so, stages, 1, timer); rc != 0)
      return rc;
    int64_t devices = 1;
    for (StringRef part : llvm::split(so.mesh, ',')) {
      int64_t v = 1;
      if (!part.empty() && !part.split('=').second.getAsInteger(10, v))
        devices *= v;
    }
    pipe["stages"].push_back(
        {{"artifact", "stage" + std::to_string(k) + ".tsr"},
         {"mesh", so.mesh},
         {"devices", devices},
         {"inputs", ins},
         {"outputs", outs},
         {"estimated_seconds", seconds}});
  }
  if (!opts.shardSpec.empty()) {
    nlohmann::json spec;
    if (readShardSpec(opts.shardSpec, spec, err))
      for (auto &[name, v] : spec.items())
        if (!specNames.count(name)) {
          Diag(opts, Diagnostic::Error)
              << "--shard-spec: no sharded "
                 "stage has an input or weight named '"
              << name << "'";
          return 1;
        }
  }
  if (!writeText(opts, dir + "/pipeline.json", pipe.dump(2) + "\n"))
    return 1;
  if (opts.verbose)
    Diag(opts, Diagnostic::Remark)
        << "wrote " << dir << "/pipeline.json (" << n << " stages) in "
        << llvm::format("%.2f", timer.total) << " s";
  return 0;
}

} // namespace
} // namespace tessera
