//===- PTXTarget.cpp - PTX module and launch plan -------------------------===//
#include "lib/Target/PTX/PTXTarget.h"
#include "passes/memory/Passes.h"
#include "passes/memory/Plan.h"
#include "lib/Target/PTX/Gemm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>

using namespace mlir;
using json = nlohmann::json;

namespace tessera::ptx {
namespace {

constexpr int64_t kArenaAlign = 256;

int64_t alignUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

std::string locString(Location loc) {
  std::string s;
  llvm::raw_string_ostream os(s);
  loc.print(os);
  return s;
}


/// A buffer of the plan: a function argument, an arena slot or a constant.
struct Buffer {
  enum Kind { Arg, Arena, Const } kind = Arena;
  int64_t argIndex = -1;
  int64_t bytes = 0, offset = -1;
  int64_t firstUse = 0, lastUse = 0;
  json constant; // for Const: {"data": [...]} or {"splat": [...], "count": n}
};

struct Planner {
  func::FuncOp fn;
  std::vector<Buffer> buffers;
  DenseMap<Value, std::pair<int64_t, int64_t>> where; // value -> (buffer, byte offset)
  json steps = json::array();
  std::string error;
  GPUProgram *out;

  bool fail(Operation *op, const Twine &msg) {
    error = (locString(op->getLoc()) + ": '" + op->getName().getStringRef() +
             "': " + msg)
                .str();
    return false;
  }

  int64_t add(Buffer b, int64_t step) {
    b.firstUse = b.lastUse = step;
    buffers.push_back(std::move(b));
    return buffers.size() - 1;
  }

  /// (buffer, byte offset) of a memref value; marks a use at `step`.
  std::optional<std::pair<int64_t, int64_t>> use(Value v, int64_t step) {
    auto it = where.find(v);
    if (it == where.end())
      return std::nullopt;
    Buffer &b = buffers[it->second.first];
    b.firstUse = std::min(b.firstUse, step);
    b.lastUse = std::max(b.lastUse, step);
    return it->second;
  }

  bool constantBuffer(memref::GetGlobalOp g, int64_t step) {
    auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
        g, g.getNameAttr());
    if (!global || !global.getConstant())
      return fail(g, "expected a constant memref.global");
    auto init = dyn_cast_or_null<DenseElementsAttr>(
        global.getInitialValue().value_or(Attribute()));
    if (!init)
      return fail(g, "the global has no dense initial value");
    Buffer b;
    b.kind = Buffer::Const;
    b.bytes = tessera::storageBytes(g.getType());
    std::vector<uint8_t> bytes;
    if (init.getElementType().isInteger(1)) {
      for (bool x : init.getValues<bool>())
        bytes.push_back(x ? 1 : 0);
      if (init.isSplat())
        b.constant = {{"splat", std::vector<uint8_t>{bytes[0]}},
                      {"count", init.getNumElements()}};
      else
        b.constant = {{"data", bytes}};
    } else {
      ArrayRef<char> raw = init.getRawData();
      bytes.assign(raw.begin(), raw.end());
      if (init.isSplat())
        b.constant = {{"splat", bytes}, {"count", init.getNumElements()}};
      else
        b.constant = {{"data", bytes}};
    }
    where[g.getResult()] = {add(std::move(b), step), 0};
    return true;
  }

  /// Byte offset of a static, contiguous view relative to its source.
  std::optional<int64_t> viewOffset(Operation *op) {
    if (isa<memref::ExpandShapeOp, memref::CollapseShapeOp, memref::CastOp>(
            op))
      return 0;
    if (auto sv = dyn_cast<memref::SubViewOp>(op)) {
      auto src = sv.getSourceType();
      SmallVector<int64_t> strides;
      int64_t off;
      if (failed(src.getStridesAndOffset(strides, off)) || off != 0)
        return std::nullopt;
      int64_t elems = 0;
      for (auto [o, s] : llvm::zip(sv.getStaticOffsets(), strides)) {
        if (ShapedType::isDynamic(o))
          return std::nullopt;
        elems += o * s;
      }
      return elems * (tessera::storageBytes(src) / std::max<int64_t>(1, src.getNumElements()));
    }
    return std::nullopt;
  }

  json ref(std::pair<int64_t, int64_t> r) {
    return {{"buffer", r.first}, {"offset", r.second}};
  }

  bool launch(gpu::LaunchFuncOp l, int64_t step) {
    auto dim = [&](Value v) -> std::optional<int64_t> {
      return getConstantIntValue(v);
    };
    auto g = l.getGridSizeOperandValues(), b = l.getBlockSizeOperandValues();
    std::vector<int64_t> grid, block;
    for (Value v : {g.x, g.y, g.z, b.x, b.y, b.z}) {
      auto c = dim(v);
      if (!c || *c <= 0)
        return fail(l, "launch dimensions must be positive constants");
      (grid.size() < 3 ? grid : block).push_back(*c);
    }
    if (l.getDynamicSharedMemorySize())
      return fail(l, "dynamic shared memory is not supported");
    json args = json::array();
    for (Value a : l.getKernelOperands()) {
      auto mt = dyn_cast<MemRefType>(a.getType());
      if (!mt || !mt.getLayout().isIdentity())
        return fail(l, "kernel operands must be identity-layout memrefs");
      auto r = use(a, step);
      if (!r)
        return fail(l, "kernel operand is not a known buffer");
      args.push_back(ref(*r));
    }
    steps.push_back({{"op", "launch"},
                     {"kernel", l.getKernelName().str()},
                     {"grid", grid},
                     {"block", block},
                     {"args", args},
                     {"loc", locString(l.getLoc())}});
    ++out->launches;
    return true;
  }

  bool gemm(linalg::GenericOp op, int64_t step) {
    auto shape = matchGemm(op);
    if (!shape)
      return fail(op, "library call operands are not a strided-batched GEMM");
    json refs[3];
    for (int i = 0; i < 3; ++i) {
      auto r = use(op->getOperand(i), step);
      if (!r)
        return fail(op, "GEMM operand is not a known buffer");
      refs[i] = ref(*r);
    }
    steps.push_back({{"op", "gemm"},
                     {"dtype", shape->inputDtype},
                     {"batch", shape->batch},
                     {"m", shape->m},
                     {"n", shape->n},
                     {"k", shape->k},
                     {"a", refs[0]},
                     {"b", refs[1]},
                     {"c", refs[2]},
                     {"a_batched", shape->lhsBatched},
                     {"b_batched", shape->rhsBatched},
                     {"loc", locString(op.getLoc())}});
    ++out->gemms;
    return true;
  }

  bool run() {
    for (BlockArgument a : fn.getArguments()) {
      auto mt = dyn_cast<MemRefType>(a.getType());
      if (!mt || !mt.hasStaticShape() || !mt.getLayout().isIdentity()) {
        error = "@main argument " + std::to_string(a.getArgNumber()) +
                " is not a static identity-layout memref";
        return false;
      }
      Buffer b;
      b.kind = Buffer::Arg;
      b.argIndex = a.getArgNumber();
      b.bytes = tessera::storageBytes(mt);
      where[a] = {add(std::move(b), 0), 0};
    }
    int64_t step = 0;
    for (Operation &op : fn.getBody().front()) {
      bool ok = true;
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        if (!alloc.getType().hasStaticShape() ||
            !alloc.getType().getLayout().isIdentity())
          return fail(&op, "only static identity-layout allocations");
        Buffer b;
        b.bytes = tessera::storageBytes(alloc.getType());
        where[alloc.getResult()] = {add(std::move(b), step), 0};
      } else if (auto g = dyn_cast<memref::GetGlobalOp>(op)) {
        ok = constantBuffer(g, step);
      } else if (isa<ViewLikeOpInterface>(op) && op.getNumResults() == 1) {
        auto off = viewOffset(&op);
        auto src = where.find(op.getOperand(0));
        if (!off || src == where.end())
          return fail(&op, "unsupported view on the host");
        where[op.getResult(0)] = {src->second.first,
                                  src->second.second + *off};
      } else if (auto l = dyn_cast<gpu::LaunchFuncOp>(op)) {
        ok = launch(l, step++);
      } else if (auto gen = dyn_cast<linalg::GenericOp>(op)) {
        if (gen.getLibraryCallName() != kCublasGemm)
          return fail(&op, "linalg op left on the host (run "
                           "tessera-gpu-map-to-kernels)");
        ok = gemm(gen, step++);
      } else if (isa<arith::ConstantOp, memref::DeallocOp, func::ReturnOp>(
                     op)) {
        // launch dimensions; the plan frees by liveness; the end.
      } else {
        return fail(&op, "unsupported op in the host program");
      }
      if (!ok)
        return false;
    }
    return true;
  }

  /// Greedy best-fit by size over lifetimes (passes/memory/Plan.h);
  /// constants live throughout.
  void assignOffsets() {
    std::vector<int64_t> order;
    std::vector<memory::PlannedBuffer> planned;
    int64_t naive = 0;
    for (size_t i = 0; i < buffers.size(); ++i) {
      Buffer &b = buffers[i];
      if (b.kind == Buffer::Arg)
        continue;
      if (b.kind == Buffer::Const) {
        b.firstUse = 0;
        b.lastUse = INT64_MAX;
      }
      naive += alignUp(b.bytes, kArenaAlign);
      order.push_back(i);
      planned.push_back({b.bytes, b.firstUse, b.lastUse, -1});
    }
    int64_t arena = memory::planOffsets(planned, kArenaAlign);
    for (size_t k = 0; k < order.size(); ++k)
      buffers[order[k]].offset = planned[k].offset;
    out->arenaBytes = arena;
    out->naiveArenaBytes = naive;
  }

  json planJson() {
    json bufs = json::array();
    for (Buffer &b : buffers) {
      json j;
      if (b.kind == Buffer::Arg) {
        j = {{"kind", "arg"}, {"index", b.argIndex}, {"bytes", b.bytes}};
      } else {
        j = {{"kind", b.kind == Buffer::Const ? "const" : "arena"},
             {"offset", b.offset},
             {"bytes", b.bytes}};
        if (b.kind == Buffer::Const)
          j.update(b.constant);
      }
      bufs.push_back(j);
    }
    return {{"arena_bytes", out->arenaBytes},
            {"buffers", bufs},
            {"steps", steps},
            {"kernel_module", "tessera_kernels"}};
  }
};

} // namespace

bool extractProgram(ModuleOp module, GPUProgram &out, std::string &error) {
  auto fn = module.lookupSymbol<func::FuncOp>("main");
  if (!fn || fn.getBody().getBlocks().size() != 1) {
    error = "the module has no single-block func.func @main";
    return false;
  }
  // The PTX of the merged kernel module.
  auto bin = module.lookupSymbol<gpu::BinaryOp>("tessera_kernels");
  if (bin) {
    if (bin.getObjects().size() != 1) {
      error = "expected one object in gpu.binary @tessera_kernels";
      return false;
    }
    auto obj = cast<gpu::ObjectAttr>(bin.getObjects()[0]);
    if (obj.getFormat() != gpu::CompilationTarget::Assembly) {
      error = "gpu.binary @tessera_kernels does not hold PTX assembly";
      return false;
    }
    out.ptx = obj.getObject().str();
    for (size_t p = out.ptx.find(".entry"); p != std::string::npos;
         p = out.ptx.find(".entry", p + 1))
      ++out.kernels;
  } else if (!module.getOps<gpu::GPUModuleOp>().empty()) {
    error = "the kernels were not compiled to PTX (gpu.module left)";
    return false;
  }
  Planner p;
  p.fn = fn;
  p.out = &out;
  if (!p.run()) {
    error = p.error;
    return false;
  }
  p.assignOffsets();
  out.planJson = p.planJson().dump();
  return true;
}

bool assemblePTX(const std::string &ptx, const std::string &chip,
                 std::string &cubin, bool &found, std::string &error) {
  found = false;
  std::string exe;
  if (const char *env = std::getenv("TESSERA_PTXAS"); env && *env)
    exe = env;
  else if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    exe = "/usr/local/cuda/bin/ptxas";
  else if (auto p = llvm::sys::findProgramByName("ptxas"))
    exe = *p;
  if (exe.empty() || !llvm::sys::fs::can_execute(exe))
    return true;
  found = true;
  llvm::SmallString<128> in, outPath, errPath;
  if (llvm::sys::fs::createTemporaryFile("tessera", "ptx", in) ||
      llvm::sys::fs::createTemporaryFile("tessera", "cubin", outPath) ||
      llvm::sys::fs::createTemporaryFile("tessera", "log", errPath)) {
    error = "cannot create temporary files for ptxas";
    return false;
  }
  llvm::FileRemover r1(in), r2(outPath), r3(errPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(in, ec);
    if (ec) {
      error = "cannot write " + in.str().str() + ": " + ec.message();
      return false;
    }
    os << ptx;
  }
  std::string arch = "-arch=" + chip;
  llvm::SmallVector<llvm::StringRef> args = {exe, arch, "-O3", in, "-o",
                                             outPath};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, errPath.str(),
                                                errPath.str()};
  std::string msg;
  int rc = llvm::sys::ExecuteAndWait(exe, args, std::nullopt, redirects, 600,
                                     0, &msg);
  if (rc != 0) {
    auto log = llvm::MemoryBuffer::getFile(errPath);
    error = "ptxas " + arch + " failed" + (msg.empty() ? "" : ": " + msg) +
            (log ? "\n" + (*log)->getBuffer().str() : "");
    return false;
  }
  auto bin = llvm::MemoryBuffer::getFile(outPath);
  if (!bin) {
    error = "ptxas wrote no output";
    return false;
  }
  cubin = (*bin)->getBuffer().str();
  return true;
}

} // namespace tessera::ptx
