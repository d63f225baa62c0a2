//===- passes/memory/PlanMemory.cpp - tessera-plan-memory -----------------===//
//
// Buffers of a bufferized function -> offsets in one arena argument (see
// Passes.td), with a report and an SVG plot of the plan.
//
//===----------------------------------------------------------------------===//

#include "passes/memory/Passes.h"
#include "passes/memory/Plan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

namespace tessera {
#define GEN_PASS_DEF_TESSERAPLANMEMORY
#include "passes/memory/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {

int64_t storageBytes(ShapedType t) {
  if (!t.hasStaticShape())
    return 0;
  unsigned bits = t.getElementTypeBitWidth();
  return t.getNumElements() * (bits == 1 ? 1 : (bits + 7) / 8);
}

namespace {

constexpr int64_t kAlign = 64;

std::string opLabel(Operation *op) {
  std::string name = op->getName().getStringRef().str();
  Location loc = op->getLoc();
  if (auto fl = dyn_cast<FusedLoc>(loc))
    for (Location l : fl.getLocations())
      if (isa<NameLoc>(l)) {
        loc = l;
        break;
      }
  if (auto nl = dyn_cast<NameLoc>(loc))
    name += " (" + nl.getName().str() + ")";
  return name;
}

struct Planned {
  memref::AllocOp alloc;
  SmallVector<Operation *> deallocs;
  memory::PlannedBuffer buf;
};

struct FunctionPlan {
  SmallVector<Planned> planned;
  int64_t unplanned = 0;
  int64_t arena = 0, peak = 0;
  SmallVector<Operation *> steps; // top-level ops
};

/// Liveness of every top-level static alloc: from its op to the last op that
/// reads or writes it or one of its views.
FunctionPlan analyze(func::FuncOp f) {
  FunctionPlan fp;
  Block &body = f.getBody().front();
  DenseMap<Operation *, int64_t> stepOf;
  for (Operation &op : body) {
    stepOf[&op] = static_cast<int64_t>(fp.steps.size());
    fp.steps.push_back(&op);
  }
  auto topStep = [&](Operation *op) -> int64_t {
    while (op && op->getBlock() != &body)
      op = op->getParentOp();
    return op ? stepOf.lookup(op) : 0;
  };
  f.walk([&](memref::AllocOp a) {
    MemRefType t = a.getType();
    if (a->getBlock() != &body || !t.hasStaticShape() ||
        !t.getLayout().isIdentity() || t.getMemorySpace()) {
      ++fp.unplanned;
      return;
    }
    Planned p;
    p.alloc = a;
    p.buf.bytes = storageBytes(t);
    p.buf.first = p.buf.last = stepOf.lookup(a);
    bool escapes = false;
    SmallVector<Value> work{a.getResult()};
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (OpOperand &use : v.getUses()) {
        Operation *u = use.getOwner();
        if (isa<memref::DeallocOp>(u)) {
          if (u->getBlock() == &body && v == a.getResult())
            p.deallocs.push_back(u);
          else
            escapes = true; // a conditional or aliased free: keep as is
          continue;
        }
        if (isa<func::ReturnOp>(u)) {
          escapes = true;
          continue;
        }
        p.buf.last = std::max(p.buf.last, topStep(u));
        // Views alias the buffer: their uses extend its life.
        bool view = isa<ViewLikeOpInterface>(u) ||
                    (isMemoryEffectFree(u) && u->getNumRegions() == 0);
        if (view)
          for (Value r : u->getResults())
            if (isa<BaseMemRefType>(r.getType()))
              work.push_back(r);
      }
    }
    if (escapes) {
      ++fp.unplanned;
      return;
    }
    fp.planned.push_back(std::move(p));
  });
  std::vector<memory::PlannedBuffer> bufs;
  for (Planned &p : fp.planned)
    bufs.push_back(p.buf);
  fp.arena = memory::planOffsets(bufs, kAlign);
  fp.peak = memory::livePeak(bufs, kAlign);
  for (size_t i = 0; i < bufs.size(); ++i)
    fp.planned[i].buf = bufs[i];
  return fp;
}

void writeReport(llvm::raw_ostream &os, func::FuncOp f,
                 const FunctionPlan &fp) {
  os << llvm::formatv("memory plan of @{0}: arena {1} bytes (the peak), live "
                      "peak {2} bytes, {3} buffers planned, {4} not planned\n",
                      f.getSymName(), fp.arena, fp.peak, fp.planned.size(),
                      fp.unplanned);
  os << "step  live_bytes  arena_in_use  op\n";
  const int64_t n = static_cast<int64_t>(fp.steps.size());
  std::vector<int64_t> live(n, 0), extent(n, 0);
  for (const Planned &p : fp.planned)
    for (int64_t s = p.buf.first; s <= p.buf.last && s < n; ++s) {
      live[s] += memory::alignUp(p.buf.bytes, kAlign);
      extent[s] = std::max(extent[s], p.buf.offset +
                                          memory::alignUp(p.buf.bytes, kAlign));
    }
  for (int64_t s = 0; s < n; ++s) {
    Operation *op = fp.steps[s];
    if (isa<memref::AllocOp, memref::DeallocOp, arith::ConstantOp,
            memref::ViewOp, func::ReturnOp>(op))
      continue;
    os << llvm::formatv("{0,4}  {1,10}  {2,12}  {3}\n", s, live[s], extent[s],
                        opLabel(op));
  }
}

/// Buffers as boxes (x: live steps, y: offset range) and the live bytes.
void writeSvg(llvm::raw_ostream &os, func::FuncOp f, const FunctionPlan &fp) {
  const double W = 960, H = 540, L = 70, R = 20, T = 40, B = 50;
  const double steps = std::max<double>(1, fp.steps.size());
  const double bytes = std::max<double>(1, fp.arena);
  auto x = [&](double s) { return L + (W - L - R) * s / steps; };
  auto y = [&](double b) { return H - B - (H - T - B) * b / bytes; };
  os << llvm::formatv("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" "
                      "height=\"{1}\" font-family=\"sans-serif\" "
                      "font-size=\"12\">\n",
                      W, H);
  os << llvm::formatv("<text x=\"{0}\" y=\"20\">memory plan of @{1}: arena {2} "
                      "bytes, live peak {3} bytes, {4} buffers</text>\n",
                      L, f.getSymName(), fp.arena, fp.peak, fp.planned.size());
  os << llvm::formatv("<rect x=\"{0}\" y=\"{1}\" width=\"{2}\" height=\"{3}\" "
                      "fill=\"none\" stroke=\"black\"/>\n",
                      L, T, W - L - R, H - T - B);
  int i = 0;
  for (const Planned &p : fp.planned) {
    double x0 = x(p.buf.first), x1 = x(p.buf.last + 1);
    double y1 = y(p.buf.offset), y0 = y(p.buf.offset + p.buf.bytes);
    os << llvm::formatv(
        "<rect x=\"{0:F1}\" y=\"{1:F1}\" width=\"{2:F1}\" height=\"{3:F1}\" "
        "fill=\"hsl({4},60%,65%)\" stroke=\"#333\" stroke-width=\"0.3\">"
        "<title>{5} bytes, steps {6}-{7}, offset {8}</title></rect>\n",
        x0, y0, std::max(0.5, x1 - x0), std::max(0.5, y1 - y0),
        (i++ * 47) % 360, p.buf.bytes, p.buf.first, p.buf.last, p.buf.offset);
  }
  // Live bytes per step.
  const int64_t n = static_cast<int64_t>(fp.steps.size());
  std::vector<int64_t> live(n + 1, 0);
  for (const Planned &p : fp.planned)
    for (int64_t s = p.buf.first; s <= p.buf.last && s < n; ++s)
      live[s] += memory::alignUp(p.buf.bytes, kAlign);
  os << "<polyline fill=\"none\" stroke=\"black\" stroke-width=\"1.5\" "
        "points=\"";
  for (int64_t s = 0; s < n; ++s)
    os << llvm::formatv("{0:F1},{1:F1} {2:F1},{1:F1} ", x(s), y(live[s]),
                        x(s + 1));
  os << "\"/>\n";
  os << llvm::formatv("<text x=\"{0}\" y=\"{1}\">step (op in order)</text>\n",
                      W / 2, H - 15);
  os << llvm::formatv("<text x=\"5\" y=\"{0}\">0</text><text x=\"5\" y=\"{1}\">"
                      "{2} B</text>\n",
                      y(0), y(bytes) + 4, fp.arena);
  os << "</svg>\n";
}

bool writeTo(const std::string &path, llvm::function_ref<void(llvm::raw_ostream &)> fn,
             Operation *where) {
  if (path == "-") {
    fn(llvm::outs());
    return true;
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    where->emitError() << "tessera-plan-memory: cannot write '" << path
                       << "': " << ec.message();
    return false;
  }
  fn(os);
  return true;
}

struct TesseraPlanMemoryPass
    : public impl::TesseraPlanMemoryBase<TesseraPlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<func::FuncOp> funcs;
    for (auto f : getOperation().getOps<func::FuncOp>())
      if (!f.isDeclaration() && f.getBody().hasOneBlock())
        funcs.push_back(f);
    for (func::FuncOp f : funcs) {
      FunctionPlan fp = analyze(f);
      if (!report.empty() &&
          !writeTo(report, [&](llvm::raw_ostream &os) { writeReport(os, f, fp); },
                   f))
        return signalPassFailure();
      if (!plot.empty() &&
          !writeTo(plot, [&](llvm::raw_ostream &os) { writeSvg(os, f, fp); }, f))
        return signalPassFailure();
      apply(f, fp);
    }
  }

  void apply(func::FuncOp f, FunctionPlan &fp) {
    Builder attrs(f.getContext());
    f->setAttr(kMemoryPlanAttr,
               attrs.getDictionaryAttr({
                   attrs.getNamedAttr("arena_bytes",
                                      attrs.getI64IntegerAttr(fp.arena)),
                   attrs.getNamedAttr("buffers", attrs.getI64IntegerAttr(
                                                     fp.planned.size())),
                   attrs.getNamedAttr("live_peak",
                                      attrs.getI64IntegerAttr(fp.peak)),
                   attrs.getNamedAttr("unplanned",
                                      attrs.getI64IntegerAttr(fp.unplanned)),
               }));
    if (fp.arena == 0)
      return;
    auto arenaTy =
        MemRefType::get({fp.arena}, IntegerType::get(f.getContext(), 8));
    unsigned idx = f.getNumArguments();
    if (failed(f.insertArgument(
            idx, arenaTy,
            attrs.getDictionaryAttr(
                {attrs.getNamedAttr(kArenaAttr, attrs.getUnitAttr())}),
            f.getLoc())))
      return signalPassFailure();
    Value arena = f.getArgument(idx);
    for (Planned &p : fp.planned) {
      OpBuilder b(p.alloc);
      Value off = arith::ConstantIndexOp::create(b, p.alloc.getLoc(),
                                                 p.buf.offset);
      Value view = memref::ViewOp::create(b, p.alloc.getLoc(), p.alloc.getType(),
                                          arena, off, ValueRange{});
      p.alloc.getResult().replaceAllUsesWith(view);
      for (Operation *d : p.deallocs)
        d->erase();
      p.alloc.erase();
    }
  }
};

} // namespace
} // namespace tessera
