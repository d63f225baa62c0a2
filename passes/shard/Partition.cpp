//===- passes/shard/Partition.cpp - SPMD partitioning ---------------------===//
//
// After propagation every value has a sharding (its `tessera.sharding`
// attribute). Partitioning keeps the ops and makes each value its local
// shard: types shrink along split dims, and the reshards between what a
// value is and what its user's rule asks for become upstream shard
// collectives. What each operand must be is computed once, from the
// propagated shardings, before anything changes.
//
//===----------------------------------------------------------------------===//

#include "passes/shard/Passes.h"
#include "passes/shard/Sharding.h"

#include "dialects/Graph/TesseraDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

#include <limits>

namespace tessera {
#define GEN_PASS_DEF_TESSERASHARDPARTITION
#include "passes/shard/Passes.h.inc"
} // namespace tessera

using namespace mlir;

namespace tessera {
namespace {

using namespace sharding;

mlir::shard::ReductionKind reductionKind(const std::string &r) {
  if (r == "max")
    return mlir::shard::ReductionKind::Max;
  if (r == "min")
    return mlir::shard::ReductionKind::Min;
  if (r == "prod")
    return mlir::shard::ReductionKind::Product;
  return mlir::shard::ReductionKind::Sum;
}

bool sameSplit(const Sharding &a, const Sharding &b) {
  return a.dims == b.dims && a.partial.empty() && b.partial.empty();
}

struct TesseraShardPartitionPass
    : public impl::TesseraShardPartitionBase<TesseraShardPartitionPass> {
  using Base::Base;

  const Mesh *mesh = nullptr;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool none = false;
    FailureOr<Mesh> m = readMesh(module, none);
    if (none)
      return;
    if (failed(m))
      return signalPassFailure();
    mesh = &*m;
    for (auto fn : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (!fn.isExternal() && failed(runOnFunction(fn)))
        return signalPassFailure();
  }

  /// The local shard type of a value of type `t` split as `s`.
  FailureOr<RankedTensorType> localType(Operation *where, RankedTensorType t,
                                        const Sharding &s) {
    SmallVector<int64_t> shape(t.getShape());
    for (size_t d = 0; d < s.dims.size() && d < shape.size(); ++d) {
      int64_t n = mesh->devices(s.dims[d]);
      if (n == 1)
        continue;
      if (ShapedType::isDynamic(shape[d]) || shape[d] % n) {
        where->emitError("tessera-shard-partition: dim ")
            << d << " of " << t << " does not split evenly over " << n
            << " devices";
        return failure();
      }
      shape[d] /= n;
    }
    return t.clone(shape);
  }

  /// Turns `v` (split as `have`) into `want`'s split with collectives
  /// inserted at `b`.
  Value reshard(OpBuilder &b, Location loc, Value v, Sharding have,
                const Sharding &want) {
    auto sym = FlatSymbolRefAttr::get(b.getContext(), mesh->sym);
    auto axesAttr = [&](ArrayRef<int> axes) {
      SmallVector<int16_t> a(axes.begin(), axes.end());
      return b.getDenseI16ArrayAttr(a);
    };
    for (const ReshardStep &st : reshardSteps(have, want)) {
      auto t = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> shape(t.getShape());
      const int64_t n = mesh->devices(st.axes);
      switch (st.kind) {
      case ReshardStep::AllReduce:
        v = mlir::shard::AllReduceOp::create(
            b, loc, v.getType(), sym, axesAttr(st.axes), v,
            mlir::shard::ReductionKindAttr::get(b.getContext(),
                                                reductionKind(st.reduction)));
        break;
      case ReshardStep::AllToAll:
        shape[st.dim] *= n;
        shape[st.toDim] /= n;
        v = mlir::shard::AllToAllOp::create(b, loc, t.clone(shape), sym,
                                            axesAttr(st.axes), v,
                                            b.getIndexAttr(st.toDim),
                                            b.getIndexAttr(st.dim));
        break;
      case ReshardStep::AllGather:
        shape[st.dim] *= n;
        v = mlir::shard::AllGatherOp::create(b, loc, t.clone(shape), sym,
                                             axesAttr(st.axes), v,
                                             b.getIndexAttr(st.dim));
        break;
      case ReshardStep::Slice:
        shape[st.dim] /= n;
        v = mlir::shard::AllSliceOp::create(b, loc, t.clone(shape), sym,
                                            axesAttr(st.axes), v,
                                            b.getIndexAttr(st.dim));
        break;
      case ReshardStep::ReduceScatter:
        shape[st.dim] /= n;
        v = mlir::shard::ReduceScatterOp::create(
            b, loc, t.clone(shape), sym, axesAttr(st.axes), v,
            mlir::shard::ReductionKindAttr::get(b.getContext(),
                                                reductionKind(st.reduction)),
            b.getIndexAttr(st.dim));
        break;
      }
    }
    return v;
  }

  /// Halo exchange for `op` (conv or max_pool) whose input is split as
  /// `in` along spatial dims: for each split dim, the last `lo` rows of a
  /// device's slice go to the next device (shard.shift +1) and the first
  /// `hi` rows to the previous one (shift -1); the first and last devices
  /// fill theirs with the padding value (0, or -inf for max-pooling). The
  /// op then runs without padding on that dim. Needs the slice to be the
  /// stride times the output slice (windows do not straddle devices
  /// unevenly) and halos no larger than a neighbour's slice.
  LogicalResult exchangeHalos(OpBuilder &b, Operation *op, const Sharding &in) {
    Location loc = op->getLoc();
    auto sym = FlatSymbolRefAttr::get(b.getContext(), mesh->sym);
    SmallVector<int64_t> pads, strides, kernel, dil;
    bool isConv = isa<ConvOp>(op);
    if (auto c = dyn_cast<ConvOp>(op)) {
      pads.assign(c.getPads().begin(), c.getPads().end());
      strides.assign(c.getStrides().begin(), c.getStrides().end());
      dil.assign(c.getDilations().begin(), c.getDilations().end());
      auto ws = cast<RankedTensorType>(c.getWeight().getType()).getShape();
      kernel = {ws[2], ws[3]};
    } else {
      auto m = cast<MaxPoolOp>(op);
      pads.assign(m.getPads().begin(), m.getPads().end());
      strides.assign(m.getStrides().begin(), m.getStrides().end());
      dil.assign(m.getDilations().begin(), m.getDilations().end());
      kernel.assign(m.getKernel().begin(), m.getKernel().end());
    }
    Value x = op->getOperand(0);
    auto outTy = cast<RankedTensorType>(op->getResult(0).getType());
    bool any = false;
    b.setInsertionPoint(op);
    for (int d = 2; d < 4; ++d) {
      if (d >= (int)in.dims.size() || in.dims[d].empty())
        continue;
      if (in.dims[d].size() != 1)
        return op->emitError("tessera-shard-partition: a spatial dim split "
                             "along several mesh axes is not supported");
      const int axis = in.dims[d][0];
      const int64_t n = mesh->shape[axis];
      auto xt = cast<RankedTensorType>(x.getType());
      const int64_t local = xt.getDimSize(d), outLocal = outTy.getDimSize(d);
      const int64_t s = strides[d - 2], eff = (kernel[d - 2] - 1) * dil[d - 2] + 1;
      // Windows past the slice's end that read nothing need no halo.
      const int64_t lo = pads[d - 2],
                    hi = std::max<int64_t>(0, eff - s - pads[d - 2]);
      if (local != outLocal * s || lo > local || hi > local ||
          (local + lo + hi - eff) / s + 1 != outLocal)
        return op->emitError("tessera-shard-partition: ")
               << op->getName() << " split along dim " << d
               << ": a slice of " << local << " rows for " << outLocal
               << " output rows at stride " << s << " needs halos of " << lo
               << " and " << hi << " rows, which this split cannot give";
      Type et = xt.getElementType();
      double fill = isConv ? 0.0 : -std::numeric_limits<double>::infinity();
      Value idx = mlir::shard::ProcessMultiIndexOp::create(
                      b, loc, TypeRange{b.getIndexType()}, sym,
                      b.getDenseI16ArrayAttr({static_cast<int16_t>(axis)}))
                      .getResult()[0];
      auto edge = [&](int64_t k) {
        return arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::eq, idx,
            arith::ConstantIndexOp::create(b, loc, k));
      };
      // Rows [start, start + count) of x along d, sent `offset` devices on.
      auto halo = [&](int64_t start, int64_t count, int64_t offset,
                      int64_t edgeDevice) -> Value {
        SmallVector<int64_t> shape(xt.getShape()), starts(xt.getRank(), 0),
            steps(xt.getRank(), 1);
        shape[d] = count;
        starts[d] = start;
        auto ht = RankedTensorType::get(shape, et);
        Value part = SliceOp::create(b, loc, ht, x,
                                     b.getDenseI64ArrayAttr(starts),
                                     b.getDenseI64ArrayAttr(steps));
        Value moved = mlir::shard::ShiftOp::create(
            b, loc, ht, sym,
            b.getDenseI16ArrayAttr({static_cast<int16_t>(axis)}), part,
            b.getIndexAttr(axis), b.getI64IntegerAttr(offset), UnitAttr());
        Value pad = ConstantOp::create(
            b, loc, ht,
            DenseElementsAttr::get(ht, b.getFloatAttr(et, fill).getValue()));
        return arith::SelectOp::create(b, loc, edge(edgeDevice), pad, moved);
      };
      SmallVector<Value> parts;
      if (lo > 0)
        parts.push_back(halo(local - lo, lo, 1, 0));
      parts.push_back(x);
      if (hi > 0)
        parts.push_back(halo(0, hi, -1, n - 1));
      if (parts.size() > 1) {
        SmallVector<int64_t> shape(xt.getShape());
        shape[d] += lo + hi;
        x = ConcatOp::create(b, loc, RankedTensorType::get(shape, et), parts,
                             b.getI64IntegerAttr(d));
      }
      pads[d - 2] = 0;
      pads[d] = 0;
      any = true;
    }
    if (any) {
      op->setOperand(0, x);
      op->setAttr("pads", b.getDenseI64ArrayAttr(pads));
    }
    return success();
  }

  /// Reshards `op`'s results from the sharding its rule produces to the
  /// propagated one where they differ.
  LogicalResult matchResults(OpBuilder &b, Operation *op, Propagator &p) {
    if (op->getNumResults() == 0)
      return success();
    const std::optional<OpRule> &r = p.rule(op);
    SmallVector<Axes> fa;
    if (r)
      fa = p.axesFor(op, *r);
    for (unsigned i = 0; i < op->getNumResults(); ++i) {
      Value res = op->getResult(i);
      auto t = dyn_cast<RankedTensorType>(res.getType());
      if (!t)
        continue;
      const Sharding &target = p.get(res);
      // Without a rule the op computes whole values from whole operands.
      Sharding made;
      made.dims.resize(t.getRank());
      if (r)
        made = Propagator::made(op, *r, fa, i);
      if (made.dims == target.dims && made.partial == target.partial)
        continue;
      if (!target.partial.empty() && made.partial != target.partial)
        return op->emitError("tessera-shard-partition: internal: a partial "
                             "result the op does not make");
      // The op's own result type, from what it makes.
      SmallVector<int64_t> global(t.getShape());
      for (size_t d = 0; d < global.size(); ++d)
        global[d] *= mesh->devices(target.dims[d]);
      auto madeTy = localType(op, t.clone(global), made);
      if (failed(madeTy))
        return failure();
      res.setType(*madeTy);
      SmallVector<OpOperand *> users;
      for (OpOperand &u : res.getUses())
        users.push_back(&u);
      b.setInsertionPointAfter(op);
      // A partial result the users expect partial keeps it (gathers and
      // slices of a partial sum are partial sums): they reduce it once.
      Sharding from = made, want = target;
      if (!target.partial.empty())
        from.partial.clear();
      want.partial.clear();
      Value fixed = reshard(b, op->getLoc(), res, from, want);
      for (OpOperand *u : users)
        u->set(fixed);
    }
    return success();
  }

  LogicalResult runOnFunction(func::FuncOp fn) {
    Propagator p(*mesh);
    auto tensorTy = [](Value v) {
      return dyn_cast<RankedTensorType>(v.getType());
    };
    auto readAttr = [&](StringAttr s, Value v, Operation *where) -> LogicalResult {
      std::string err;
      FailureOr<Sharding> parsed =
          parse(*mesh, s.getValue(), tensorTy(v).getRank(), err);
      if (failed(parsed))
        return where->emitError("tessera-shard-partition: sharding '")
               << s.getValue() << "': " << err;
      p.sh[v] = *parsed;
      return success();
    };
    bool any = false;
    for (BlockArgument a : fn.getArguments())
      if (auto s = fn.getArgAttrOfType<StringAttr>(a.getArgNumber(),
                                                   "tessera.sharding")) {
        if (!tensorTy(a) || failed(readAttr(s, a, fn)))
          return failure();
        any = true;
      }
    SmallVector<Operation *> ops;
    for (Operation &op : fn.getBody().front())
      ops.push_back(&op);
    for (Operation *op : ops) {
      auto arr = op->getAttrOfType<ArrayAttr>("tessera.sharding");
      if (!arr)
        continue;
      any = true;
      unsigned i = 0;
      for (Value r : op->getResults()) {
        if (!tensorTy(r))
          continue;
        auto s = i < arr.size() ? dyn_cast<StringAttr>(arr[i]) : StringAttr();
        ++i;
        if (!s || failed(readAttr(s, r, op)))
          return op->emitError("tessera-shard-partition: bad tessera.sharding");
      }
    }
    for (Operation *op : ops)
      if (auto fa = op->getAttrOfType<ArrayAttr>("tessera.factor_axes")) {
        SmallVector<Axes> axes;
        for (Attribute a : fa)
          if (auto arr = dyn_cast<DenseI64ArrayAttr>(a))
            axes.push_back(Axes(arr.asArrayRef().begin(), arr.asArrayRef().end()));
        p.decided[op] = axes;
      }
    if (!any)
      return fn.emitError("tessera-shard-partition: @")
             << fn.getName() << " has no shardings: run "
                "tessera-shard-propagate first";
    // shard.shard is an annotation: its result is its source, resharded to
    // the annotation when they differ.
    for (Operation *op : ops)
      if (auto s = dyn_cast<mlir::shard::ShardOp>(op))
        if (!p.sh.count(s.getResult()))
          p.sh[s.getResult()] = p.get(s.getSrc());

    // What every operand must be, from the propagated state.
    llvm::DenseMap<Operation *, SmallVector<Sharding>> wants;
    for (Operation *op : ops) {
      if (isa<mlir::shard::ShardOp, mlir::shard::ShardingOp>(op))
        continue;
      SmallVector<Sharding> w;
      const std::optional<OpRule> &r = p.rule(op);
      for (unsigned i = 0; i < op->getNumOperands(); ++i) {
        Value v = op->getOperand(i);
        Sharding s;
        auto vt = tensorTy(v);
        if (vt)
          s.dims.resize(vt.getRank());
        if (isa<func::ReturnOp>(op)) {
          s.dims = p.get(v).dims; // leave as split, complete
        } else if (r) {
          s = p.wanted(op, *r, i);
          for (size_t d = 0; d < s.dims.size(); ++d) {
            if (s.dims[d].empty())
              continue;
            int64_t n = mesh->devices(s.dims[d]);
            if (vt.isDynamicDim(d) || vt.getDimSize(d) % n)
              return op->emitError("tessera-shard-partition: operand ")
                     << i << " of " << op->getName() << ": dim " << d << " ("
                     << vt.getDimSize(d) << ") does not split evenly over "
                     << n << " devices";
            if (r->kind[r->operands[i][d]] == FactorKind::Halo &&
                !isa<ConvOp, MaxPoolOp>(op))
              return op->emitError("tessera-shard-partition: ")
                     << op->getName()
                     << " is split along a spatial dim; halo exchange is "
                        "supported for conv and max_pool only";
          }
        }
        w.push_back(s);
      }
      wants[op] = std::move(w);
    }
    auto have = [&](Value v) {
      Sharding s = p.get(v);
      if (auto c = v.getDefiningOp(); c && isa<ConstantOp>(c)) {
        s.dims.assign(s.dims.size(), Axes()); // constants stay whole
        s.partial.clear();
      }
      return s;
    };
    // Results' local types (constants keep theirs).
    llvm::DenseMap<Value, Type> local;
    for (BlockArgument a : fn.getArguments())
      if (auto t = tensorTy(a)) {
        auto lt = localType(fn, t, p.get(a));
        if (failed(lt))
          return failure();
        local[a] = *lt;
      }
    for (Operation *op : ops) {
      if (isa<ConstantOp, mlir::shard::ShardOp>(op))
        continue;
      for (Value r : op->getResults())
        if (auto t = tensorTy(r)) {
          auto lt = localType(op, t, p.get(r));
          if (failed(lt))
            return failure();
          local[r] = *lt;
        }
    }
    // Snapshot operand states before rewriting.
    llvm::DenseMap<std::pair<Operation *, unsigned>, Sharding> haves;
    for (Operation *op : ops)
      for (unsigned i = 0; i < op->getNumOperands(); ++i)
        if (tensorTy(op->getOperand(i)))
          haves[{op, i}] = have(op->getOperand(i));

    // What each result leaves as (split, complete: partial sums are
    // reduced before the return), before the rewrite replaces the values.
    SmallVector<std::optional<Sharding>> resultShardings;
    for (Value v : fn.getBody().front().getTerminator()->getOperands()) {
      resultShardings.emplace_back();
      if (tensorTy(v)) { // the return reshards to this (constants too)
        Sharding s = p.get(v);
        s.partial.clear();
        resultShardings.back() = s;
      }
    }
    // Rewrite in place.
    OpBuilder b(fn.getContext());
    for (auto [v, t] : local)
      v.setType(t);
    for (Operation *op : ops) {
      if (auto s = dyn_cast<mlir::shard::ShardOp>(op)) {
        const Sharding &h = haves[{op, 0}];
        Sharding w = p.get(s.getResult());
        w.partial.clear();
        Value v = s.getSrc();
        if (!sameSplit(h, w)) {
          b.setInsertionPoint(op);
          v = reshard(b, op->getLoc(), v, h, w);
        }
        s.getResult().replaceAllUsesWith(v);
        continue;
      }
      op->removeAttr("tessera.reshard"); // made explicit below
      auto it = wants.find(op);
      if (it == wants.end())
        continue;
      b.setInsertionPoint(op);
      for (unsigned i = 0; i < op->getNumOperands(); ++i) {
        if (!tensorTy(op->getOperand(i)))
          continue;
        const Sharding &h = haves[{op, i}], &w = it->second[i];
        if (sameSplit(h, w))
          continue;
        op->setOperand(i, reshard(b, op->getLoc(), op->getOperand(i), h, w));
      }
      // What the op computes, from its rule, may differ from what
      // propagation settled on for its result (a consumer's split on a dim
      // the op's rule does not map): the result is resharded after it.
      if (failed(matchResults(b, op, p)))
        return failure();
      // A depthwise conv split by channels has fewer groups per device.
      if (auto conv = dyn_cast<ConvOp>(op); conv && conv.getGroups() > 1) {
        auto in = cast<RankedTensorType>(conv.getInput().getType());
        auto w = cast<RankedTensorType>(conv.getWeight().getType());
        if (w.getDimSize(1) == 1 &&
            in.getDimSize(1) < static_cast<int64_t>(conv.getGroups()))
          conv->setAttr("groups", b.getI64IntegerAttr(in.getDimSize(1)));
      }
      // Spatial splits of convolutions and max-pooling: neighbours exchange
      // the rows each window needs across the cut; the split dims' padding
      // comes from the edge devices' halos.
      if (isa<ConvOp, MaxPoolOp>(op) &&
          failed(exchangeHalos(b, op, it->second[0])))
        return failure();
      // A mean over split dims: each device's mean is over its slice; the
      // partial sum of means / devices is the global mean.
      if (auto rm = dyn_cast<ReduceMeanOp>(op)) {
        int64_t n = 1;
        const Sharding &in = it->second[0];
        for (int64_t a : rm.getAxes())
          n *= mesh->devices(in.dims[a]);
        if (n > 1) {
          b.setInsertionPointAfter(op);
          auto rt = cast<RankedTensorType>(rm.getType());
          auto et = rt.getElementType();
          if (!isa<FloatType>(et))
            return op->emitError("tessera-shard-partition: a mean of "
                                 "integers over a split dim");
          auto st = RankedTensorType::get(
              SmallVector<int64_t>(rt.getRank(), 1), et);
          Value c = ConstantOp::create(
              b, op->getLoc(), st,
              DenseElementsAttr::get(st, b.getFloatAttr(et, 1.0 / n).getValue()));
          auto mul = MulOp::create(b, op->getLoc(), rm.getType(), rm.getResult(), c);
          rm.getResult().replaceAllUsesExcept(mul.getResult(), mul);
          mul->setAttr("tessera.sharding", op->getAttr("tessera.sharding"));
        }
      }
    }
    for (Operation *op : llvm::reverse(ops))
      if (isa<mlir::shard::ShardOp>(op) ||
          (isa<mlir::shard::ShardingOp>(op) && op->use_empty()))
        op->erase();
    // The function's signature follows its arguments and results.
    auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
    fn.setType(FunctionType::get(fn.getContext(),
                                 fn.getBody().front().getArgumentTypes(),
                                 ret.getOperandTypes()));
    // Every argument and result records its sharding: the artifact's
    // manifest and the runtime scatter inputs and gather outputs by it.
    for (BlockArgument a : fn.getArguments())
      if (tensorTy(a))
        fn.setArgAttr(a.getArgNumber(), "tessera.sharding",
                      b.getStringAttr(text(*mesh, p.get(a))));
    for (auto [i, s] : llvm::enumerate(resultShardings))
      if (s)
        fn.setResultAttr(i, "tessera.sharding", b.getStringAttr(text(*mesh, *s)));
    fn->setAttr("tessera.spmd",
                FlatSymbolRefAttr::get(fn.getContext(), mesh->sym));
    return success();
  }
};

} // namespace
} // namespace tessera
