//===- MapToKernels.cpp - linalg on buffers -> gpu.launch / cuBLAS --------===//
#include "lib/Target/PTX/Gemm.h"
#include "lib/Target/PTX/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

namespace tessera {
#define GEN_PASS_DEF_TESSERAGPUMAPTOKERNELS
#define GEN_PASS_DEF_TESSERAGPUMERGEKERNELMODULES
#include "lib/Target/PTX/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera::ptx {

namespace {
/// The dim position of `e` if it is a plain loop dim, -1 for the constant 0
/// (a broadcast size-1 dim), nullopt otherwise.
std::optional<int64_t> dimOrZero(AffineExpr e) {
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return d.getPosition();
  if (auto c = dyn_cast<AffineConstantExpr>(e); c && c.getValue() == 0)
    return -1;
  return std::nullopt;
}

bool isStaticRowMajor(Type t) {
  if (auto m = dyn_cast<MemRefType>(t))
    return m.hasStaticShape() && m.getLayout().isIdentity();
  if (auto r = dyn_cast<RankedTensorType>(t))
    return r.hasStaticShape();
  return false;
}

/// Batch handling of one operand: its leading results must be all the batch
/// dims in order (batched) or all absent / constant 0 (shared).
std::optional<bool> batchedOperand(ArrayRef<AffineExpr> lead,
                                   ArrayRef<int64_t> batchDims) {
  bool any = false, all = lead.size() == batchDims.size();
  size_t off = batchDims.size() - std::min(lead.size(), batchDims.size());
  if (lead.size() > batchDims.size())
    return std::nullopt;
  for (size_t i = 0; i < lead.size(); ++i) {
    auto d = dimOrZero(lead[i]);
    if (!d)
      return std::nullopt;
    if (*d == -1) {
      all = false;
      continue;
    }
    if (*d != batchDims[off + i])
      return std::nullopt;
    any = true;
  }
  if (any && !all)
    return std::nullopt; // partly broadcast: not one stride
  return any;
}
} // namespace

std::optional<GemmShape> matchGemm(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return std::nullopt;
  for (Value v : op->getOperands())
    if (!isStaticRowMajor(v.getType()))
      return std::nullopt;
  // C is f32; A and B are both f32, or both bf16/f16 extended in the body.
  if (!getElementTypeOrSelf(op.getDpsInits()[0].getType()).isF32())
    return std::nullopt;
  Type inType = getElementTypeOrSelf(op.getDpsInputs()[0].getType());
  if (getElementTypeOrSelf(op.getDpsInputs()[1].getType()) != inType ||
      !(inType.isF32() || inType.isBF16() || inType.isF16()))
    return std::nullopt;
  // Body: [extf a, extf b,] yield(out + a * b), in either operand order.
  Block &body = op.getRegion().front();
  unsigned numExt = inType.isF32() ? 0 : 2;
  if (body.getOperations().size() != 3 + numExt)
    return std::nullopt;
  Value a0 = body.getArgument(0), a1 = body.getArgument(1),
        acc = body.getArgument(2);
  auto it = body.begin();
  if (numExt) {
    auto e0 = dyn_cast<arith::ExtFOp>(*it++);
    auto e1 = dyn_cast<arith::ExtFOp>(*it++);
    if (!e0 || !e1 || !e0.getType().isF32() || !e1.getType().isF32())
      return std::nullopt;
    if (e0.getIn() == a1 && e1.getIn() == a0)
      std::swap(e0, e1);
    if (e0.getIn() != a0 || e1.getIn() != a1)
      return std::nullopt;
    a0 = e0.getResult();
    a1 = e1.getResult();
  }
  auto mul = dyn_cast<arith::MulFOp>(*it++);
  auto add = dyn_cast<arith::AddFOp>(*it);
  auto yield = dyn_cast<linalg::YieldOp>(body.back());
  if (!mul || !add || !yield || yield.getValues().size() != 1 ||
      yield.getValues()[0] != add.getResult())
    return std::nullopt;
  if (!((mul.getLhs() == a0 && mul.getRhs() == a1) ||
        (mul.getLhs() == a1 && mul.getRhs() == a0)))
    return std::nullopt;
  if (!((add.getLhs() == acc && add.getRhs() == mul.getResult()) ||
        (add.getRhs() == acc && add.getLhs() == mul.getResult())))
    return std::nullopt;

  auto iters = op.getIteratorTypesArray();
  int64_t nd = iters.size(), kDim = -1;
  for (int64_t i = 0; i < nd; ++i)
    if (iters[i] == utils::IteratorType::reduction) {
      if (kDim != -1)
        return std::nullopt;
      kDim = i;
    }
  if (kDim == -1 || nd < 3)
    return std::nullopt;
  auto maps = op.getIndexingMapsArray();
  AffineMap lm = maps[0], rm = maps[1], om = maps[2];
  if (om.getNumResults() != nd - 1 || !om.isProjectedPermutation() ||
      lm.getNumResults() < 2 || rm.getNumResults() < 2)
    return std::nullopt;
  auto od = [&](unsigned i) { return *dimOrZero(om.getResult(i)); };
  int64_t nb = nd - 3;
  int64_t mDim = od(nb), nDim = od(nb + 1);
  SmallVector<int64_t> batchDims;
  for (int64_t i = 0; i < nb; ++i)
    batchDims.push_back(od(i));
  auto tail = [](AffineMap m, unsigned fromEnd) {
    return dimOrZero(m.getResult(m.getNumResults() - fromEnd));
  };
  if (tail(lm, 2) != mDim || tail(lm, 1) != kDim || tail(rm, 2) != kDim ||
      tail(rm, 1) != nDim)
    return std::nullopt;
  auto lb = batchedOperand(lm.getResults().drop_back(2), batchDims);
  auto rb = batchedOperand(rm.getResults().drop_back(2), batchDims);
  if (!lb || !rb)
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  GemmShape g;
  g.inputDtype = inType.isF32() ? "f32" : inType.isBF16() ? "bf16" : "f16";
  for (int64_t b : batchDims)
    g.batch *= ranges[b];
  g.m = ranges[mDim];
  g.n = ranges[nDim];
  g.k = ranges[kDim];
  g.lhsBatched = *lb;
  g.rhsBatched = *rb;
  // The output is batched whenever there is more than one batch.
  if (g.batch == 1)
    g.lhsBatched = g.rhsBatched = false;
  return g;
}

} // namespace tessera::ptx

namespace {
using namespace tessera;

bool isViewOrConstant(Operation *op) {
  return isa<ViewLikeOpInterface, arith::ConstantOp>(op) &&
         op->getNumResults() == 1 && op->getNumRegions() == 0;
}

/// Clones the views and constants that ops inside `launch` use from outside
/// into the launch body, so that kernels take whole buffers only.
void sinkViewsAndConstants(gpu::LaunchOp launch) {
  Region &body = launch.getBody();
  OpBuilder b(&body.front(), body.front().begin());
  while (true) {
    SetVector<Value> above;
    getUsedValuesDefinedAbove(body, above);
    bool changed = false;
    for (Value v : above) {
      Operation *def = v.getDefiningOp();
      if (!def || !isViewOrConstant(def))
        continue;
      // Clone with its operands as they are; the loop sinks those next.
      Operation *clone = b.clone(*def);
      replaceAllUsesInRegionWith(v, clone->getResult(0), body);
      changed = true;
    }
    if (!changed)
      return;
    b.setInsertionPointToStart(&body.front());
  }
}

/// Replaces the top-level `scf.parallel` (bounds [0, u) step 1) inside the
/// launch by a delinearisation of the linear thread id.
LogicalResult inlineParallel(scf::ParallelOp par, Value linear,
                             RewriterBase &rw) {
  SmallVector<int64_t> ub;
  for (auto [lo, hi, st] : llvm::zip(par.getLowerBound(), par.getUpperBound(),
                                     par.getStep())) {
    auto l = getConstantIntValue(lo), h = getConstantIntValue(hi),
         s = getConstantIntValue(st);
    if (!l || !h || !s || *l != 0 || *s != 1)
      return par.emitOpError("expected static, normalized parallel loops");
    ub.push_back(*h);
  }
  rw.setInsertionPoint(par);
  Location loc = par.getLoc();
  SmallVector<Value> ivs(ub.size());
  Value rem = linear;
  for (int64_t i = ub.size() - 1; i >= 0; --i) {
    Value u = arith::ConstantIndexOp::create(rw, loc, ub[i]);
    ivs[i] = i == 0 ? rem : arith::RemUIOp::create(rw, loc, rem, u).getResult();
    if (i > 0)
      rem = arith::DivUIOp::create(rw, loc, rem, u);
  }
  Block *pb = par.getBody();
  Operation *term = pb->getTerminator();
  rw.eraseOp(term);
  rw.inlineBlockBefore(pb, par, ivs);
  rw.eraseOp(par);
  return success();
}

struct MapToKernels
    : tessera::impl::TesseraGPUMapToKernelsBase<MapToKernels> {
  using Base::Base;

  bool preferLibrary(const ptx::GemmShape &g) const {
    if (!useLibrary)
      return false;
    double naiveUs = g.flops() / (naiveGflops * 1e3);
    double libUs = g.flops() / (libraryGflops * 1e3) + libraryOverheadUs;
    return libUs < naiveUs;
  }

  LogicalResult mapOne(linalg::LinalgOp op, IRRewriter &rw) {
    Location loc = op.getLoc();
    if (!op.hasPureBufferSemantics())
      return op.emitOpError("expected buffer semantics (run bufferization "
                            "before tessera-gpu-map-to-kernels)");
    if (auto g = dyn_cast<linalg::GenericOp>(op.getOperation())) {
      if (auto shape = ptx::matchGemm(g); shape && preferLibrary(*shape)) {
        g.setLibraryCallAttr(rw.getStringAttr(ptx::kCublasGemm));
        return success();
      }
    }
    linalg::GenericOp gen = dyn_cast<linalg::GenericOp>(op.getOperation());
    if (!gen) {
      rw.setInsertionPoint(op);
      auto g = linalg::generalizeNamedOp(rw, op);
      if (failed(g))
        return op.emitOpError("cannot be generalized for GPU code generation");
      gen = *g;
    }
    // Parallel loops first, then the reductions, each in their order.
    SmallVector<unsigned> perm;
    auto iters = gen.getIteratorTypesArray();
    for (unsigned i = 0; i < iters.size(); ++i)
      if (iters[i] == utils::IteratorType::parallel)
        perm.push_back(i);
    for (unsigned i = 0; i < iters.size(); ++i)
      if (iters[i] != utils::IteratorType::parallel)
        perm.push_back(i);
    bool identity = true;
    for (unsigned i = 0; i < perm.size(); ++i)
      identity &= perm[i] == i;
    if (!identity) {
      auto inter = linalg::interchangeGenericOp(rw, gen, perm);
      if (failed(inter))
        return gen.emitOpError("loop interchange failed");
      gen = *inter;
    }

    // Lower to loops and collect what was created between the neighbours.
    Block *block = gen->getBlock();
    Operation *prev = gen->getPrevNode();
    Operation *next = gen->getNextNode();
    rw.setInsertionPoint(gen);
    if (failed(linalg::linalgOpToParallelLoops(rw, gen)))
      return gen.emitOpError("cannot be lowered to parallel loops");
    rw.eraseOp(gen);
    auto first = prev ? std::next(Block::iterator(prev)) : block->begin();
    auto last = next ? Block::iterator(next) : block->end();
    SmallVector<Operation *> created;
    for (auto it = first; it != last; ++it)
      created.push_back(&*it);

    // The iteration space: the top-level scf.parallel, if any.
    scf::ParallelOp par;
    for (Operation *o : created)
      if (auto p = dyn_cast<scf::ParallelOp>(o)) {
        if (par)
          return emitError(loc, "expected one parallel loop nest");
        par = p;
      }
    int64_t total = 1;
    if (par)
      for (Value hi : par.getUpperBound()) {
        auto h = getConstantIntValue(hi);
        if (!h)
          return par.emitOpError("expected static bounds");
        total *= *h;
      }
    if (total == 0) { // empty iteration space: nothing to compute
      for (Operation *o : llvm::reverse(created))
        rw.eraseOp(o);
      return success();
    }
    int64_t bs = std::min<int64_t>(blockSize, total);
    int64_t grid = (total + bs - 1) / bs;
    if (grid > (int64_t(1) << 31) - 1)
      return emitError(loc, "iteration space of ")
             << total << " points is too large for one kernel";

    rw.setInsertionPoint(created.front());
    auto cst = [&](int64_t v) {
      return arith::ConstantIndexOp::create(rw, loc, v).getResult();
    };
    Value one = cst(1);
    auto launch = gpu::LaunchOp::create(rw, loc, cst(grid), one, one, cst(bs),
                                        one, one);
    Block &body = launch.getBody().front();
    rw.setInsertionPointToEnd(&body);
    gpu::TerminatorOp::create(rw, loc);
    rw.setInsertionPointToStart(&body);
    Value bid = launch.getBlockIds().x, tid = launch.getThreadIds().x;
    Value linear = arith::AddIOp::create(
        rw, loc, arith::MulIOp::create(rw, loc, bid, cst(bs)), tid);
    Value inRange = arith::CmpIOp::create(rw, loc, arith::CmpIPredicate::ult,
                                          linear, cst(total));
    auto guard = scf::IfOp::create(rw, loc, inRange, /*withElse=*/false);
    Operation *yield = guard.thenBlock()->getTerminator();
    for (Operation *o : created)
      rw.moveOpBefore(o, yield);
    if (par && failed(inlineParallel(par, linear, rw)))
      return failure();
    sinkViewsAndConstants(launch);
    return success();
  }

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op->getParentOfType<gpu::LaunchOp>())
        ops.push_back(op);
    });
    IRRewriter rw(&getContext());
    for (linalg::LinalgOp op : ops)
      if (failed(mapOne(op, rw)))
        return signalPassFailure();
  }
};

struct MergeKernelModules
    : tessera::impl::TesseraGPUMergeKernelModulesBase<MergeKernelModules> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp m = getOperation();
    SmallVector<gpu::LaunchFuncOp> launches;
    m.walk([&](gpu::LaunchFuncOp l) { launches.push_back(l); });
    SmallVector<gpu::GPUModuleOp> old;
    for (auto gm : m.getOps<gpu::GPUModuleOp>())
      old.push_back(gm);
    if (old.empty())
      return;
    OpBuilder b(old.front());
    auto merged = gpu::GPUModuleOp::create(b, m.getLoc(), "tessera_merge_tmp");
    SymbolTable table(merged);
    int n = 0;
    DenseMap<Operation *, StringAttr> renamed;
    for (gpu::LaunchFuncOp l : launches) {
      auto fn = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
          l, l.getKernel());
      if (!fn) {
        l.emitOpError("kernel not found");
        return signalPassFailure();
      }
      StringAttr name = renamed.lookup(fn);
      if (!name) {
        auto clone = cast<gpu::GPUFuncOp>(fn->clone());
        clone.setName(("k" + Twine(n++)).str());
        table.insert(clone);
        name = clone.getNameAttr();
        renamed[fn] = name;
      }
      l.setKernelAttr(SymbolRefAttr::get(
          b.getStringAttr(moduleName.getValue()),
          {FlatSymbolRefAttr::get(name)}));
    }
    for (gpu::GPUModuleOp gm : old)
      gm.erase();
    merged.setName(moduleName.getValue());
  }
};
} // namespace
